/**
 * pfn <-> mfn translation in a PV guest (arch/x86/xen/p2m.c, arch/x86/include/asm/xen/page.h, v3.9).
 * The guest's P2M is the mfn_list the domain builder wrote into its memory: the kernel's lookup
 * tree (xen_build_dynamic_phys_to_machine) points at its pages, and pfns are looked up in them;
 * mfn -> pfn reads Xen's read-only machine_to_phys_mapping.
 */
import type { Kernel } from '../kernel';
import type { XenHypercalls } from './hypercall';
import { panic } from '../mm/panic';

/** INVALID_P2M_ENTRY (~0UL): no machine frame behind the pfn */
export const INVALID_P2M_ENTRY = -1;

/**
 * A run of pfns whose entries the kernel set after the builder's list (__set_phys_to_machine):
 * given back (invalid), 1-1 (IDENTITY_FRAME: the pfn is the machine frame) or given new frames.
 */
interface P2mRun { start: number; end: number; kind: 'invalid' | 'identity' | 'frames'; frames?: Float64Array }

export class P2m {
  /**
   * The kernel's p2m tree, flattened to its leaves: leaf n is the page of mfn_list holding
   * mfn_list[512n .. 512n+511], reached once through the guest's mapping (as p2m_top/p2m_mid
   * point at those pages), then read in place.
   */
  private leaves: Uint32Array[] = [];
  private nrPages = 0;
  /** the runs set since, newest last (a handful: one per e820 gap and one per populated range) */
  private readonly runs: P2mRun[] = [];

  constructor(private readonly hv: XenHypercalls) {}

  // arch/x86/xen/p2m.c (v3.9): point the lookup tree at the builder's mfn_list pages
  xen_build_dynamic_phys_to_machine(k: Kernel): void {
    k.call('xen_build_dynamic_phys_to_machine', () => {
      const si = this.hv.start_info;
      const cpu = k.cpu;
      if (si.mfn_list % 4096 !== 0) panic(k, 'xen_build_dynamic_phys_to_machine: mfn_list is not page aligned');
      const leaves: Uint32Array[] = [];
      for (let pfn = 0; pfn < si.nr_pages; pfn += 512) {
        const va = si.mfn_list + pfn * 8;
        let words = cpu.pageWords !== undefined ? cpu.pageWords(va, false) : null;
        if (words === null) {
          // no direct view of the page: read it through the CPU (faults are delivered as usual)
          words = new Uint32Array(1024);
          for (let i = 0; i < 1024; i++) words[i] = cpu.read32(va + i * 4);
        }
        leaves.push(words);
      }
      this.leaves = leaves;
      this.nrPages = si.nr_pages;
    });
  }

  /** pfn_to_mfn(pfn): INVALID_P2M_ENTRY beyond the list or for an entry the builder left invalid */
  pfn_to_mfn(pfn: number): number {
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const r = this.runs[i];
      if (pfn < r.start || pfn >= r.end) continue;
      if (r.kind === 'invalid') return INVALID_P2M_ENTRY;
      if (r.kind === 'identity') return pfn; // IDENTITY_FRAME(pfn), the bit masked off by pfn_to_mfn
      const f = (r.frames as Float64Array)[pfn - r.start];
      if (f >= 0) return f;
    }
    if (pfn >= this.nrPages || pfn < 0) return INVALID_P2M_ENTRY;
    const leaf = this.leaves[pfn >>> 9];
    const i = (pfn & 511) * 2;
    return leaf[i + 1] === 0 ? leaf[i] : INVALID_P2M_ENTRY;
  }

  /** pfn_to_mfn for `count` consecutive pfns from `first` into `out` (the same answers, one call) */
  pfn_to_mfn_range(first: number, count: number, out: Float64Array): void {
    const end = first + count;
    let plain = first >= 0 && end <= this.nrPages;
    for (let r = 0; r < this.runs.length && plain; r++) plain = this.runs[r].end <= first || this.runs[r].start >= end;
    if (!plain) {
      for (let i = 0; i < count; i++) out[i] = this.pfn_to_mfn(first + i);
      return;
    }
    // no run set since the builder's list covers them: read the list's pages in place
    for (let i = 0; i < count; i++) {
      const pfn = first + i;
      const leaf = this.leaves[pfn >>> 9];
      const j = (pfn & 511) * 2;
      out[i] = leaf[j + 1] === 0 ? leaf[j] : INVALID_P2M_ENTRY;
    }
  }

  /** __set_phys_to_machine(pfn, INVALID_P2M_ENTRY) for [start, end) */
  setInvalid(start: number, end: number): void {
    if (start < end) this.runs.push({ start, end, kind: 'invalid' });
  }

  /** set_phys_range_identity's entries: IDENTITY_FRAME(pfn) for [start, end) */
  setIdentity(start: number, end: number): void {
    if (start < end) this.runs.push({ start, end, kind: 'identity' });
  }

  /** __set_phys_to_machine(start + i, mfns[i]) (a frame of -1 leaves the entry as it was) */
  setFrames(start: number, mfns: readonly number[]): void {
    if (mfns.length > 0) this.runs.push({ start, end: start + mfns.length, kind: 'frames', frames: Float64Array.from(mfns) });
  }

  /** Whether the entry is a 1-1 one (get_phys_to_machine has IDENTITY_FRAME_BIT) */
  isIdentity(pfn: number): boolean {
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const r = this.runs[i];
      if (pfn >= r.start && pfn < r.end) return r.kind === 'identity';
    }
    return false;
  }

  /** mfn_to_pfn(mfn): machine_to_phys_mapping[mfn] */
  mfn_to_pfn(mfn: number): number {
    return this.hv.mfn_to_pfn(mfn);
  }
}
