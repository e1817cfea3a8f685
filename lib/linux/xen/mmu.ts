/**
 * The Xen pv_mmu_ops of a 64-bit PV guest (arch/x86/xen/mmu.c, v3.9-rc1 and 5b5c1af104ab).
 * Before xen_post_allocator_init the *_init and *_hyper versions run: page-table pages are made
 * read-only and pinned when they are hooked in, and upper-level entries are written by hypercall.
 * write_cr3 is the crux: xen_write_cr3 also looks up the user pgd through struct page, which
 * needs vmemmap; xen_write_cr3_init (the fix) only sets the kernel base pointer.
 */
import type { Kernel } from '../kernel';
import { PAGE_SIZE, USER_LIMIT, VMEMMAP_START, VSYSCALL_START, __START_KERNEL_map, pgd_index, pmd_index, pte_index, pud_index } from '../layout';
import { _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, entryFrame } from '../pgtable';
import { pvOp, type PvMmuOps } from '../pv-mmu-ops';
import { panic } from '../mm/panic';
import {
  MMUEXT_NEW_BASEPTR, MMUEXT_NEW_USER_BASEPTR, MMUEXT_PIN_L1_TABLE, MMUEXT_TLB_FLUSH_LOCAL, MMU_NORMAL_PT_UPDATE,
  type XenHypercalls,
} from './hypercall';
import { MulticallBuffer, xen_extend_mmu_update, xen_extend_mmuext_op, xen_mc_batch, xen_mc_issue } from './multicalls';
import type { P2m } from './p2m';
import { applyFittedState } from '../fitted-state';
import { fittedMachineState } from '../variants';

/** The Xen side of a PV kernel: the hypercall page, the p2m and the per-cpu multicall buffer. */
export interface XenGuest {
  hv: XenHypercalls;
  p2m: P2m;
  mc: MulticallBuffer;
}

const TWO_32 = 4294967296;
const big = (va48: number): bigint => BigInt(va48) | (va48 >= 2 ** 47 ? 0xffff000000000000n : 0n);
const entryBig = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** virt_to_machine / arbitrary_virt_to_machine for direct-map and kernel-text addresses. */
export function virt_to_machine(k: Kernel, x: XenGuest, va: number): number {
  const pa = k.__pa(va);
  return x.p2m.pfn_to_mfn(Math.floor(pa / PAGE_SIZE)) * PAGE_SIZE + (pa % PAGE_SIZE);
}

// arch/x86/xen/mmu.c (v3.9): queue MMUEXT_NEW_BASEPTR or MMUEXT_NEW_USER_BASEPTR
export function __xen_write_cr3(k: Kernel, x: XenGuest, kernel: boolean, cr3: number): void {
  k.call('__xen_write_cr3', () => {
    const mfn = cr3 !== 0 ? x.p2m.pfn_to_mfn(Math.floor(cr3 / PAGE_SIZE)) : 0;
    if (mfn === 0 && kernel) k.console.push('WARNING: __xen_write_cr3 with mfn 0 for the kernel'); // WARN_ON
    xen_extend_mmuext_op(x.mc, { cmd: kernel ? MMUEXT_NEW_BASEPTR : MMUEXT_NEW_USER_BASEPTR, mfn });
    if (kernel) {
      k.g.xen_cr3 = cr3;
      // xen_mc_callback(set_current_cr3, (void *)cr3)
      x.mc.callbacks.push(() => { k.g.xen_current_cr3 = cr3; });
    }
    k.trace.emit({ type: 'cr3-load', value: cr3.toString(16), by: kernel ? '__xen_write_cr3(kernel)' : '__xen_write_cr3(user)' });
  });
}

/**
 * xen_get_user_pgd(pgd) (arch/x86/xen/mmu.c, v3.9): the user pgd that shadows a kernel pgd is
 * kept in page->private of the kernel pgd's struct page. For a slot below USER_LIMIT (always, for
 * a pgd page's first entry) it reads virt_to_page(pgd_page)->private: a load from vmemmap.
 */
export function xen_get_user_pgd(k: Kernel, pgd: number): number {
  return k.call('xen_get_user_pgd', () => {
    const pgd_page = pgd - (pgd % PAGE_SIZE);
    const offset = (pgd - pgd_page) / 8;
    let user_ptr = 0;
    // the 'guard-user-pgd' what-if: no struct pages yet, so no user pgd either (NULL)
    if (k.variant.xenGetUserPgd === 'guarded' && !k.g.xen_post_allocator_done) return 0;
    if (offset < pgd_index(USER_LIMIT)) {
      // virt_to_page(pgd_page) = vmemmap + (__pa(pgd_page) >> PAGE_SHIFT); then ->private
      const regs = k.cpu.regs;
      const pfn = Math.floor(k.__pa(pgd_page) / PAGE_SIZE);
      regs.rax = big(VMEMMAP_START);
      regs.rdx = BigInt(pfn * k.page.size);
      regs.rcx = (1n << 64n) - big(__START_KERNEL_map); // __pa() adds -__START_KERNEL_map
      regs.rip = big(k.variant.symbols.address('xen_get_user_pgd') + k.variant.instructions['xen_get_user_pgd:page->private']);
      applyFittedState(regs, fittedMachineState(k.variant, 'xen_get_user_pgd:page->private'));
      const privateVa = VMEMMAP_START + pfn * k.page.size + k.page.private;
      user_ptr = k.cpu.read32(privateVa) + k.cpu.read32(privateVa + 4) * TWO_32;
      if (user_ptr !== 0) user_ptr = (user_ptr % 2 ** 48) + offset * 8;
    }
    return user_ptr;
  });
}

// arch/x86/xen/mmu.c (v3.9): the full write_cr3, kernel and user base pointers
export function xen_write_cr3(k: Kernel, x: XenGuest, cr3: number): void {
  k.call('xen_write_cr3', () => {
    const regs = k.cpu.regs;
    k.stack.setRegister('rbx', BigInt(cr3), 'the cr3 argument of xen_write_cr3'); // kept across its calls
    // its compiled code sets r12 and r14 (saved by its prologue) to the values both reports show at the
    // fault: fitted data (lib/linux/variants.ts FITTED_MACHINE_STATE), applied where that code runs
    const fitted = fittedMachineState(k.variant, 'xen_get_user_pgd:page->private');
    for (const reg of ['r12', 'r14'] as const) {
      const f = fitted?.[reg];
      if (f !== undefined) k.stack.setRegister(reg, BigInt(`0x${f.value}`), `set by its compiled code (fitted: ${f.reason})`, 'fitted');
    }
    regs.rsi = BigInt(cr3); // the second argument of __xen_write_cr3(true, cr3)
    xen_mc_batch(x.hv);
    k.g.xen_cr3 = cr3;
    __xen_write_cr3(k, x, true, cr3);
    const user_pgd = xen_get_user_pgd(k, k.__va(cr3));
    if (user_pgd !== 0) __xen_write_cr3(k, x, false, k.__pa(user_pgd));
    else __xen_write_cr3(k, x, false, 0);
    xen_mc_issue(k, x.hv, x.mc);
  });
}

// arch/x86/xen/mmu.c (5b5c1af104ab): "At the start of the day - when Xen launches a guest, it has
// already built pagetables for the guest ... we have two variants of xen_write_cr3 - the early
// bootup (this one), and the late one (xen_write_cr3)."
export function xen_write_cr3_init(k: Kernel, x: XenGuest, cr3: number): void {
  k.call('xen_write_cr3_init', () => {
    xen_mc_batch(x.hv);
    k.g.xen_cr3 = cr3;
    __xen_write_cr3(k, x, true, cr3);
    xen_mc_issue(k, x.hv, x.mc);
  });
}

/**
 * xen_pgd_alloc (arch/x86/xen/mmu.c, v3.9): give a new pgd its user twin, kept in the pgd page's
 * page->private, with the vsyscall slot pointing at level3_user_vsyscall.
 */
export function xen_pgd_alloc(k: Kernel, x: XenGuest, pgd: number): void {
  k.call('xen_pgd_alloc', () => {
    const pfn = Math.floor(k.__pa(pgd) / PAGE_SIZE);
    const privateVa = VMEMMAP_START + pfn * k.page.size + k.page.private;
    if (k.cpu.read32(privateVa) !== 0 || k.cpu.read32(privateVa + 4) !== 0) panic(k, 'xen_pgd_alloc: page->private already set'); // BUG_ON
    const userPfn = k.memblock.alloc(PAGE_SIZE, PAGE_SIZE) / PAGE_SIZE; // __get_free_page(GFP_KERNEL | __GFP_ZERO)
    if (userPfn === 0) panic(k, 'xen_pgd_alloc: out of memory');
    const user_pgd = k.__va(userPfn * PAGE_SIZE);
    k.clear_page(user_pgd);
    k.trace.emit({ type: 'pt-page-alloc', level: 4, pfn: userPfn, by: 'xen_pgd_alloc' });
    k.cpu.writeQword(privateVa, user_pgd % 4294967296, (Math.floor(user_pgd / 4294967296) | 0xffff0000) >>> 0);
    // user_pgd[pgd_index(VSYSCALL_START)] = __pgd(__pa(level3_user_vsyscall) | _PAGE_TABLE)
    const frame = x.p2m.pfn_to_mfn(k.image.level3_user_vsyscall / PAGE_SIZE);
    k.cpu.writeQword(user_pgd + pgd_index(VSYSCALL_START) * 8, ((frame % 1048576) * 4096 + 0x67) >>> 0, Math.floor(frame / 1048576));
  });
}

// arch/x86/xen/mmu.c (v3.9): one MMUEXT_TLB_FLUSH_LOCAL
function xen_flush_tlb(k: Kernel, x: XenGuest): void {
  xen_mc_batch(x.hv);
  xen_extend_mmuext_op(x.mc, { cmd: MMUEXT_TLB_FLUSH_LOCAL });
  xen_mc_issue(k, x.hv, x.mc);
}

/**
 * lookup_address(address, &level) (arch/x86/mm/pageattr.c, v3.9): the kernel's own walk of
 * init_mm's tables; returns the VA of the leaf entry, or 0 when the address is not mapped.
 */
export function lookup_address(k: Kernel, x: XenGuest, address: number): number {
  return k.call('lookup_address', () => {
    let table = k.ktextVa(k.image.init_level4_pgt);
    const indices = [pgd_index(address), pud_index(address), pmd_index(address), pte_index(address)];
    for (let level = 4; level >= 1; level--) {
      const ptr = table + indices[4 - level] * 8;
      if (level === 1) return ptr;
      const [lo, hi] = k.readEntry(ptr);
      if ((lo & _PAGE_PRESENT) === 0) return 0;
      if (level < 4 && (lo & _PAGE_PSE) !== 0) return ptr;
      table = k.__va(x.p2m.mfn_to_pfn(entryFrame(lo, hi)) * PAGE_SIZE);
    }
    return 0;
  });
}

// arch/x86/xen/mmu.c (v3.8.13): remap a lowmem page writable again with update_va_mapping
export function make_lowmem_page_readwrite(k: Kernel, x: XenGuest, address: number): void {
  k.call('make_lowmem_page_readwrite', () => {
    const pte = lookup_address(k, x, address);
    if (pte === 0) return; // vaddr missing
    const [lo, hi] = k.readEntry(pte);
    const rc = x.hv.HYPERVISOR_update_va_mapping(big(address), entryBig(lo | _PAGE_RW, hi), 0);
    if (rc !== 0) panic(k, `make_lowmem_page_readwrite: update_va_mapping returned ${rc}`); // BUG()
  });
}

/**
 * xen_mapping_pagetable_reserve(start, end) (arch/x86/xen/mmu.c, v3.8.13; x86_init.mapping.
 * pagetable_reserve under Xen): reserve the page-table pages used, and make the rest of the buffer,
 * which mask_rw_pte mapped read-only, writable again. 3.9 dropped the hook.
 */
export function xen_mapping_pagetable_reserve(k: Kernel, x: XenGuest, start: number, end: number): void {
  k.call('xen_mapping_pagetable_reserve', () => {
    k.memblock.reserve(start, end - start); // native_pagetable_reserve
    const top = k.g.pgt_buf_top * PAGE_SIZE;
    k.printk(`xen: setting RW the range ${end.toString(16)} - ${top.toString(16)}`);
    for (let pa = end; pa < top; pa += PAGE_SIZE) make_lowmem_page_readwrite(k, x, k.__va(pa));
  });
}

/**
 * mask_rw_pte(ptep, pte) (arch/x86/xen/mmu.c, v3.8.13, 64-bit): an entry mapping a page of the
 * pre-sized page-table buffer [pgt_buf_start, pgt_buf_top) is made read-only, so that no writable
 * mapping of a future page-table page exists when Xen validates it. (The early_ioremap fixmap case
 * does not arise on the paths modelled.) In 3.9 the 64-bit version returns the entry unchanged.
 */
function mask_rw_pte(k: Kernel, x: XenGuest, lo: number, hi: number): number {
  if ((lo & _PAGE_PRESENT) === 0) return lo;
  const pfn = x.p2m.mfn_to_pfn(entryFrame(lo, hi));
  return pfn >= k.g.pgt_buf_start && pfn < k.g.pgt_buf_top ? lo & ~_PAGE_RW : lo;
}

// arch/x86/xen/mmu.c (v3.9): remap a lowmem page read-only with update_va_mapping
export function make_lowmem_page_readonly(k: Kernel, x: XenGuest, address: number): void {
  k.call('make_lowmem_page_readonly', () => {
    const pte = lookup_address(k, x, address);
    if (pte === 0) return; // vaddr missing
    const [lo, hi] = k.readEntry(pte);
    const rc = x.hv.HYPERVISOR_update_va_mapping(big(address), entryBig(lo & ~_PAGE_RW, hi), 0);
    if (rc !== 0) panic(k, `make_lowmem_page_readonly: update_va_mapping returned ${rc}`); // BUG()
  });
}

// arch/x86/xen/mmu.c (v3.9)
export function pin_pagetable_pfn(k: Kernel, x: XenGuest, cmd: number, pfn: number): void {
  k.call('pin_pagetable_pfn', () => {
    const rc = x.hv.HYPERVISOR_mmuext_op([{ cmd, mfn: x.p2m.pfn_to_mfn(pfn) }]);
    if (rc !== 0) panic(k, `pin_pagetable_pfn: mmuext_op ${cmd} returned ${rc}`); // BUG()
  });
}

/** xen_set_{pmd,pud,pgd}_hyper (arch/x86/xen/mmu.c, v3.9): one mmu_update with the entry's machine address. */
export function setEntryHyper(k: Kernel, x: XenGuest, name: string, level: 2 | 3 | 4, ptr: number, lo: number, hi: number): void {
  k.call(name, () => {
    xen_mc_batch(x.hv);
    const maddr = virt_to_machine(k, x, ptr);
    xen_extend_mmu_update(x.mc, { ptr: BigInt(maddr) | BigInt(MMU_NORMAL_PT_UPDATE), val: entryBig(lo, hi) });
    xen_mc_issue(k, x.hv, x.mc);
    k.trace.countPteWrite(level);
  });
}

/** The early (boot-time) Xen pv_mmu_ops, as xen_mmu_ops initialises them (arch/x86/xen/mmu.c, v3.9 / 5b5c1af104ab). */
export function xenMmuOps(k: Kernel, x: XenGuest): PvMmuOps {
  const early = k.variant.xenEarlyWriteCr3;
  return {
    read_cr3: pvOp('xen_read_cr3', () => k.g.xen_cr3),
    write_cr3: early === 'xen_write_cr3_init'
      ? pvOp('xen_write_cr3_init', (cr3: number) => xen_write_cr3_init(k, x, cr3))
      : pvOp('xen_write_cr3', (cr3: number) => xen_write_cr3(k, x, cr3)),
    flush_tlb_kernel: pvOp('xen_flush_tlb', () => k.call('xen_flush_tlb', () => xen_flush_tlb(k, x))),
    // arch/x86/xen/mmu.c (v3.9): make the new table read-only, then pin it as an L1
    alloc_pte: pvOp('xen_alloc_pte_init', (pfn: number) => k.call('xen_alloc_pte_init', () => {
      make_lowmem_page_readonly(k, x, k.__va(pfn * PAGE_SIZE));
      pin_pagetable_pfn(k, x, MMUEXT_PIN_L1_TABLE, pfn);
    })),
    // arch/x86/xen/mmu.c (v3.9): "Used for pmd and pud": read-only only
    alloc_pmd: pvOp('xen_alloc_pmd_init', (pfn: number) => k.call('xen_alloc_pmd_init', () => make_lowmem_page_readonly(k, x, k.__va(pfn * PAGE_SIZE)))),
    alloc_pud: pvOp('xen_alloc_pmd_init', (pfn: number) => k.call('xen_alloc_pmd_init', () => make_lowmem_page_readonly(k, x, k.__va(pfn * PAGE_SIZE)))),
    // arch/x86/xen/mmu.c (v3.9 / v3.8.13): "always write the PTE directly and rely on Xen trapping
    // and emulating any updates as necessary", after mask_rw_pte (a no-op on 64-bit since 3.9)
    set_pte: k.variant.memoryMapping === '3.8'
      ? pvOp('xen_set_pte_init', (ptep: number, lo: number, hi: number) => k.cpu.writeQword(ptep, mask_rw_pte(k, x, lo, hi), hi),
        true, (lo: number, hi: number) => mask_rw_pte(k, x, lo, hi))
      : pvOp('xen_set_pte_init', (ptep: number, lo: number, hi: number) => k.cpu.writeQword(ptep, lo, hi), true),
    // arch/x86/xen/mmu.c (v3.9, also 3.8.13): xen_set_pte_at -> __xen_set_pte: outside lazy MMU
    // mode one mmu_update hypercall, made directly rather than a store for Xen to trap and emulate
    set_pte_at: pvOp('xen_set_pte_at', (ptep: number, lo: number, hi: number) => {
      x.hv.HYPERVISOR_mmu_update([{ ptr: BigInt(virt_to_machine(k, x, ptep)) | BigInt(MMU_NORMAL_PT_UPDATE), val: entryBig(lo, hi) }]);
      k.trace.countPteWrite(1);
    }),
    // arch/x86/xen/mmu.c (v3.9): xen_pgd_alloc attaches a user pgd to every new mm's pgd
    pgd_alloc: pvOp('xen_pgd_alloc', (pgd: number) => xen_pgd_alloc(k, x, pgd)),
    set_pmd: pvOp('xen_set_pmd_hyper', (p: number, lo: number, hi: number) => setEntryHyper(k, x, 'xen_set_pmd_hyper', 2, p, lo, hi)),
    set_pud: pvOp('xen_set_pud_hyper', (p: number, lo: number, hi: number) => setEntryHyper(k, x, 'xen_set_pud_hyper', 3, p, lo, hi)),
    set_pgd: pvOp('xen_set_pgd_hyper', (p: number, lo: number, hi: number) => setEntryHyper(k, x, 'xen_set_pgd_hyper', 4, p, lo, hi)),
    // xen_make_pte / xen_pte_val: pfn <-> mfn
    pfn_to_entry_frame: { name: 'xen_make_pte', fn: (pfn: number) => x.p2m.pfn_to_mfn(pfn),
      range: (first: number, count: number, out: Float64Array) => x.p2m.pfn_to_mfn_range(first, count, out) },
    entry_frame_to_pfn: pvOp('xen_pte_val', (mfn: number) => x.p2m.mfn_to_pfn(mfn)),
  };
}
