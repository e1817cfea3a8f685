/**
 * The late Xen pv_mmu_ops (arch/x86/xen/mmu.c, v3.9), installed by xen_post_allocator_init once
 * struct pages exist: an entry write checks whether its table is pinned (PG_pinned in the table
 * page's struct page) and stores directly if not, else goes through Xen; a new table page of a
 * pinned mm is marked pinned, made read-only and (an L1) pinned; set_pgd also updates the user pgd.
 */
import type { Kernel } from '../kernel';
import { PAGE_SIZE, VMEMMAP_START } from '../layout';
import { PG_pinned, pfn_to_page } from '../struct-page';
import { pvOp, type PvMmuOps } from '../pv-mmu-ops';
import { MMUEXT_PIN_L1_TABLE } from './hypercall';
import { make_lowmem_page_readonly, pin_pagetable_pfn, setEntryHyper, xen_get_user_pgd, xen_write_cr3, type XenGuest } from './mmu';

/** PagePinned(virt_to_page(ptr)): the table holding `ptr` is pinned. */
export function xen_page_pinned(k: Kernel, ptr: number): boolean {
  const pfn = Math.floor(k.__pa(ptr - (ptr % PAGE_SIZE)) / PAGE_SIZE);
  return ((k.cpu.read32(VMEMMAP_START + pfn * k.page.size + k.page.flags) >>> PG_pinned) & 1) === 1;
}

/** SetPagePinned(pfn_to_page(pfn)). */
export function SetPagePinned(k: Kernel, pfn: number): void {
  const flags = pfn_to_page(k.page, pfn) + k.page.flags;
  k.cpu.write32(flags, (k.cpu.read32(flags) | (1 << PG_pinned)) >>> 0);
}

// arch/x86/xen/mmu.c (v3.9): xen_alloc_ptpage for a table page of init_mm (always pinned by now)
function xen_alloc_ptpage(k: Kernel, x: XenGuest, pfn: number, level: 1 | 2 | 3): void {
  const pinned = xen_page_pinned(k, k.ktextVa(k.image.init_level4_pgt));
  if (!pinned) return;
  SetPagePinned(k, pfn);
  make_lowmem_page_readonly(k, x, k.__va(pfn * PAGE_SIZE));
  if (level === 1) pin_pagetable_pfn(k, x, MMUEXT_PIN_L1_TABLE, pfn); // USE_SPLIT_PTLOCKS
}

/** Replaces the early ops with the late ones, as xen_post_allocator_init does. */
export function installLateXenOps(k: Kernel, x: XenGuest, ops: PvMmuOps): void {
  const direct = (ptr: number, lo: number, hi: number): void => k.cpu.writeQword(ptr, lo, hi);
  ops.set_pte = pvOp('xen_set_pte', direct, true);
  ops.set_pmd = pvOp('xen_set_pmd', (ptr: number, lo: number, hi: number) => k.call('xen_set_pmd', () => {
    if (!xen_page_pinned(k, ptr)) { direct(ptr, lo, hi); return; } // "If page is not pinned, we can just update the entry directly"
    setEntryHyper(k, x, 'xen_set_pmd_hyper', 2, ptr, lo, hi);
  }));
  ops.set_pud = pvOp('xen_set_pud', (ptr: number, lo: number, hi: number) => k.call('xen_set_pud', () => {
    if (!xen_page_pinned(k, ptr)) { direct(ptr, lo, hi); return; }
    setEntryHyper(k, x, 'xen_set_pud_hyper', 3, ptr, lo, hi);
  }));
  ops.set_pgd = pvOp('xen_set_pgd', (ptr: number, lo: number, hi: number) => k.call('xen_set_pgd', () => {
    const user_ptr = xen_get_user_pgd(k, ptr);
    if (!xen_page_pinned(k, ptr)) {
      direct(ptr, lo, hi);
      if (user_ptr !== 0) direct(user_ptr, lo, hi);
      return;
    }
    setEntryHyper(k, x, 'xen_set_pgd_hyper', 4, ptr, lo, hi);
    if (user_ptr !== 0) setEntryHyper(k, x, 'xen_set_pgd_hyper', 4, user_ptr, lo, hi);
  }));
  ops.alloc_pte = pvOp('xen_alloc_pte', (pfn: number) => k.call('xen_alloc_pte', () => xen_alloc_ptpage(k, x, pfn, 1)));
  ops.alloc_pmd = pvOp('xen_alloc_pmd', (pfn: number) => k.call('xen_alloc_pmd', () => xen_alloc_ptpage(k, x, pfn, 2)));
  ops.alloc_pud = pvOp('xen_alloc_pud', (pfn: number) => k.call('xen_alloc_pud', () => xen_alloc_ptpage(k, x, pfn, 3)));
  if (k.variant.xenEarlyWriteCr3 === 'xen_write_cr3_init') {
    // #ifdef CONFIG_X86_64: pv_mmu_ops.write_cr3 = &xen_write_cr3; (added by 5b5c1af104ab)
    ops.write_cr3 = pvOp('xen_write_cr3', (cr3: number) => xen_write_cr3(k, x, cr3));
  }
}
