/**
 * xen_setup_kernel_pagetable (arch/x86/xen/mmu.c, v3.9, 64-bit): move from the bootstrap tables
 * Xen built to the kernel's own init_level4_pgt, grafting Xen's L2 (and so its L1s) into
 * level2_ident_pgt and level2_kernel_pgt, pinning the new L4 and loading it.
 */
import type { Kernel } from '../kernel';
import { PAGE_SIZE, __START_KERNEL_map, pgd_index, pud_index } from '../layout';
import { _PAGE_PRESENT, _PAGE_RW, entryFrame, entryHi, entryLo } from '../pgtable';
import { memblock_reserve } from '../mm/memblock-ops';
import { MMUEXT_PIN_L4_TABLE, MMUEXT_UNPIN_TABLE, UVMF_INVLPG } from './hypercall';
import { __xen_write_cr3, pin_pagetable_pfn, type XenGuest } from './mmu';
import { xen_mc_batch, xen_mc_issue } from './multicalls';
import { panic } from '../mm/panic';

const big = (va48: number): bigint => BigInt(va48) | 0xffff000000000000n;

// arch/x86/xen/mmu.c (v3.9): rewrite every entry of a static table from pfn to mfn (xen_make_pte)
function convert_pfn_mfn(k: Kernel, x: XenGuest, pa: number): void {
  k.call('convert_pfn_mfn', () => {
    const va = k.ktextVa(pa);
    for (let i = 0; i < 512; i++) {
      const [lo, hi] = k.readEntry(va + i * 8);
      if ((lo & _PAGE_PRESENT) === 0) continue;
      const mfn = x.p2m.pfn_to_mfn(entryFrame(lo, hi));
      k.cpu.writeQword(va + i * 8, entryLo(mfn, lo & 0xfff), entryHi(mfn, hi & 0xfff00000));
    }
  });
}

// arch/x86/xen/mmu.c (v3.9): set_page_prot, the protection of one kernel page by update_va_mapping
function set_page_prot_flags(k: Kernel, x: XenGuest, va: number, writable: boolean, flags: number): void {
  k.call('set_page_prot', () => {
    const pfn = Math.floor(k.__pa(va) / PAGE_SIZE);
    const mfn = x.p2m.pfn_to_mfn(pfn);
    // PAGE_KERNEL_RO / PAGE_KERNEL: present, accessed, dirty, NX; RW only for PAGE_KERNEL
    const lo = entryLo(mfn, 0x1 | 0x20 | 0x40 | (writable ? _PAGE_RW : 0));
    const hi = entryHi(mfn, 0x80000000);
    const rc = x.hv.HYPERVISOR_update_va_mapping(big(va), (BigInt(hi) << 32n) | BigInt(lo), flags);
    if (rc !== 0) panic(k, `set_page_prot: update_va_mapping returned ${rc}`); // BUG()
  });
}

/** m2v(phys): the kernel-map address of the table a machine entry points to. */
function m2v(k: Kernel, x: XenGuest, lo: number, hi: number): number {
  return __START_KERNEL_map + x.p2m.mfn_to_pfn(entryFrame(lo, hi)) * PAGE_SIZE;
}

// arch/x86/xen/mmu.c (v3.9): recycle a bootstrap table page that is no longer used. As in the
// source, the end test compares with pt_end itself (one past the last frame).
function check_pt_base(k: Kernel, x: XenGuest, range: { base: number; end: number }, addr: number): void {
  const pfn = Math.floor(k.__pa(addr) / PAGE_SIZE);
  if (range.base === pfn) {
    set_page_prot_flags(k, x, addr, true, UVMF_INVLPG);
    k.clear_page(addr);
    range.base++;
  }
  if (range.end === pfn) {
    set_page_prot_flags(k, x, addr, true, UVMF_INVLPG);
    k.clear_page(addr);
    range.end--;
  }
}

// arch/x86/xen/mmu.c (v3.9)
export function xen_setup_kernel_pagetable(k: Kernel, x: XenGuest): void {
  k.call('xen_setup_kernel_pagetable', () => {
    const si = x.hv.start_info;
    const img = k.image;
    k.g.max_pfn_mapped = Math.floor(k.__pa(si.mfn_list) / PAGE_SIZE);
    const pt = { base: Math.floor(k.__pa(si.pt_base) / PAGE_SIZE), end: 0 };
    pt.end = pt.base + si.nr_pt_frames;
    // Zap identity mapping
    k.cpu.writeQword(k.ktextVa(img.init_level4_pgt), 0, 0);
    // Pre-constructed entries are in pfn, so convert to mfn
    convert_pfn_mfn(k, x, img.init_level4_pgt);   // L4[272] -> level3_ident_pgt, L4[511] -> level3_kernel_pgt
    convert_pfn_mfn(k, x, img.level3_ident_pgt);  // L3_i[0] -> level2_ident_pgt
    convert_pfn_mfn(k, x, img.level3_kernel_pgt); // L3_k[510] -> level2_kernel_pgt, L3_k[511] -> level2_fixmap_pgt
    convert_pfn_mfn(k, x, img.level2_fixmap_pgt); // L3_k[511][506] -> level1_fixmap_pgt
    // We get [511][511] and have Xen's version of level2_kernel_pgt
    const pgd = si.pt_base;
    const [l4lo, l4hi] = k.readEntry(pgd + pgd_index(__START_KERNEL_map) * 8);
    const l3 = m2v(k, x, l4lo, l4hi);
    const [l3lo, l3hi] = k.readEntry(l3 + pud_index(__START_KERNEL_map) * 8);
    const l2 = m2v(k, x, l3lo, l3hi);
    // Graft it onto L4[272][0] (level2_ident_pgt) and onto L4[511][510] (level2_kernel_pgt)
    for (const dst of [img.level2_ident_pgt, img.level2_kernel_pgt]) {
      const d = k.ktextVa(dst);
      for (let i = 0; i < 512; i++) {
        const [lo, hi] = k.readEntry(l2 + i * 8);
        k.cpu.writeQword(d + i * 8, lo, hi);
      }
    }
    // Make pagetable pieces RO
    for (const pa of [img.init_level4_pgt, img.level3_ident_pgt, img.level3_kernel_pgt, img.level3_user_vsyscall,
      img.level2_ident_pgt, img.level2_kernel_pgt, img.level2_fixmap_pgt, img.level1_fixmap_pgt]) {
      set_page_prot_flags(k, x, k.ktextVa(pa), false, 0);
    }
    // Pin down new L4
    pin_pagetable_pfn(k, x, MMUEXT_PIN_L4_TABLE, img.init_level4_pgt / PAGE_SIZE);
    // Unpin Xen-provided one
    pin_pagetable_pfn(k, x, MMUEXT_UNPIN_TABLE, Math.floor(k.__pa(pgd) / PAGE_SIZE));
    // "At this stage there can be no user pgd, and no page structure to attach it to, so make
    //  sure we just set kernel pgd."
    xen_mc_batch(x.hv);
    __xen_write_cr3(k, x, true, img.init_level4_pgt);
    xen_mc_issue(k, x.hv, x.mc);
    // We can't that easily rip out L3 and L2 ... for guests using the toolstack, they are in:
    // [L4], [L3], [L2], [L1], [L1], order .. So we shave off three pages.
    for (const addr of [pgd, l3, l2]) check_pt_base(k, x, pt, addr);
    // Our (by three pages) smaller Xen pagetable that we are using
    memblock_reserve(k, pt.base * PAGE_SIZE, (pt.end - pt.base) * PAGE_SIZE);
  });
}
