/**
 * struct pv_mmu_ops (arch/x86/include/asm/paravirt_types.h, v3.9): the slots through which
 * generic kernel code reaches the page tables, filled with native_* on bare metal and xen_* under
 * Xen. Each slot holds a modelled routine; `name` says which one (what a debugger would print for
 * `p pv_mmu_ops.write_cr3`). Entries are passed as 32-bit halves; `ptep` is a kernel virtual address.
 */
export interface PvOp<F> {
  name: string;
  fn: F;
  /** the op is a plain store of the entry (native_set_pte, xen_set_pte_init): callers may store in bulk */
  plainStore?: boolean;
  /** for a plain store that first adjusts the entry (3.8's mask_rw_pte): the low word it stores */
  storeLow?: (lo: number, hi: number) => number;
  /** for pfn_to_entry_frame: the frames of `count` consecutive pfns from `first` at once, as `fn` gives each (a page-table page's worth in one call) */
  range?: (first: number, count: number, out: Float64Array) => void;
}

export interface PvMmuOps {
  read_cr3: PvOp<() => number>;
  write_cr3: PvOp<(cr3: number) => void>;
  flush_tlb_kernel: PvOp<() => void>;
  alloc_pte: PvOp<(pfn: number) => void>;
  alloc_pmd: PvOp<(pfn: number) => void>;
  alloc_pud: PvOp<(pfn: number) => void>;
  set_pte: PvOp<(ptep: number, lo: number, hi: number) => void>;
  set_pte_at: PvOp<(ptep: number, lo: number, hi: number) => void>;
  set_pmd: PvOp<(pmdp: number, lo: number, hi: number) => void>;
  set_pud: PvOp<(pudp: number, lo: number, hi: number) => void>;
  set_pgd: PvOp<(pgdp: number, lo: number, hi: number) => void>;
  /** paravirt_pgd_alloc: a new mm's pgd page was made (Xen attaches its user pgd) */
  pgd_alloc: PvOp<(pgd: number) => void>;
  /** make_pte's frame translation: the frame number an entry for `pfn` carries (pfn_to_mfn under Xen) */
  pfn_to_entry_frame: PvOp<(pfn: number) => number>;
  /** pte_val's frame translation: the pfn an entry's frame stands for (mfn_to_pfn under Xen) */
  entry_frame_to_pfn: PvOp<(frame: number) => number>;
}

export function pvOp<F>(name: string, fn: F, plainStore = false, storeLow?: (lo: number, hi: number) => number): PvOp<F> {
  return storeLow === undefined ? { name, fn, plainStore } : { name, fn, plainStore, storeLow };
}
