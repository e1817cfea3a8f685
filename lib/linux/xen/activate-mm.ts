/**
 * What happens at the first switch to a user address space under Xen, after the boot the lab
 * runs (the first execve): pgd_alloc makes a new pgd with the kernel's half copied in
 * (arch/x86/mm/pgtable.c, v3.9) and xen_pgd_alloc attaches its user twin; xen_activate_mm pins
 * both (xen_pgd_pin, arch/x86/xen/mmu.c); switch_mm loads CR3, which is now the full
 * xen_write_cr3: xen_get_user_pgd finds page->private set and MMUEXT_NEW_USER_BASEPTR gets a table.
 */
import type { Kernel } from '../kernel';
import { PAGE_SIZE, pgd_index, __PAGE_OFFSET } from '../layout';
import { panic } from '../mm/panic';
import { MMUEXT_PIN_L4_TABLE } from './hypercall';
import { make_lowmem_page_readonly, pin_pagetable_pfn, xen_get_user_pgd, type XenGuest } from './mmu';
import { SetPagePinned } from './mmu-late';

/** KERNEL_PGD_BOUNDARY: the first pgd slot of the kernel's half (pgd_index(PAGE_OFFSET)) */
const KERNEL_PGD_BOUNDARY = pgd_index(__PAGE_OFFSET);

// arch/x86/mm/pgtable.c (v3.9): a new pgd with the kernel mappings (pgd_ctor), then paravirt_pgd_alloc
export function pgd_alloc(k: Kernel): number {
  return k.call('pgd_alloc', () => {
    const base = k.memblock.alloc(PAGE_SIZE, PAGE_SIZE); // __get_free_page(PGALLOC_GFP)
    if (base === 0) panic(k, 'pgd_alloc: out of memory');
    const pgd = k.__va(base);
    k.clear_page(pgd);
    k.trace.emit({ type: 'pt-page-alloc', level: 4, pfn: base / PAGE_SIZE, by: 'pgd_alloc' });
    k.call('pgd_ctor', () => {
      // clone_pgd_range(pgd + KERNEL_PGD_BOUNDARY, swapper_pg_dir + KERNEL_PGD_BOUNDARY, KERNEL_PGD_PTRS)
      const swapper = k.ktextVa(k.image.init_level4_pgt);
      for (let i = KERNEL_PGD_BOUNDARY; i < 512; i++) {
        const [lo, hi] = k.readEntry(swapper + i * 8);
        k.cpu.writeQword(pgd + i * 8, lo, hi);
      }
    });
    k.pv.pgd_alloc.fn(pgd);
    return pgd;
  });
}

// arch/x86/xen/mmu.c (v3.9): xen_activate_mm -> xen_pgd_pin: read-only, then pinned, user pgd too
export function xen_activate_mm(k: Kernel, x: XenGuest, pgd: number): void {
  k.call('xen_activate_mm', () => k.call('xen_pgd_pin', () => {
    const user = xen_get_user_pgd(k, pgd);
    for (const table of user === 0 ? [pgd] : [pgd, user]) {
      const pfn = Math.floor(k.__pa(table) / PAGE_SIZE);
      SetPagePinned(k, pfn);
      make_lowmem_page_readonly(k, x, table);
      pin_pagetable_pfn(k, x, MMUEXT_PIN_L4_TABLE, pfn);
    }
  }));
}

/** The first mm switch: pgd_alloc, activate_mm, then switch_mm's load_cr3. Returns the new pgd. */
export function first_mm_switch(k: Kernel, x: XenGuest): number {
  const pgd = pgd_alloc(k);
  xen_activate_mm(k, x, pgd);
  k.call('switch_mm', () => k.pv.write_cr3.fn(k.__pa(pgd))); // load_cr3(next->pgd)
  return pgd;
}
