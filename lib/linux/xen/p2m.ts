/**
 * pfn <-> mfn translation in a PV guest (arch/x86/xen/p2m.c, arch/x86/include/asm/xen/page.h, v3.9).
 * The guest's P2M is the mfn_list the domain builder wrote into its memory: the kernel reads it
 * once (xen_build_dynamic_phys_to_machine builds its lookup tree over it) and looks pfns up in it;
 * mfn -> pfn reads Xen's read-only machine_to_phys_mapping.
 */
import type { Kernel } from '../kernel';
import type { XenHypercalls } from './hypercall';

/** INVALID_P2M_ENTRY (~0UL): no machine frame behind the pfn */
export const INVALID_P2M_ENTRY = -1;
/** how an invalid entry is kept in the 32-bit table */
const INVALID_MFN_32 = 0xffffffff;

export class P2m {
  /** the kernel's p2m lookup (over the builder's mfn_list; machine frames fit 32 bits below 16 TiB) */
  private mfns = new Uint32Array(0);

  constructor(private readonly hv: XenHypercalls) {}

  // arch/x86/xen/p2m.c (v3.9): read the builder's mfn_list through the guest's own mapping
  xen_build_dynamic_phys_to_machine(k: Kernel): void {
    k.call('xen_build_dynamic_phys_to_machine', () => {
      const si = this.hv.start_info;
      const mfns = new Uint32Array(si.nr_pages);
      const cpu = k.cpu;
      const q = { lo: 0, hi: 0 };
      for (let pfn = 0; pfn < si.nr_pages; pfn++) {
        const va = si.mfn_list + pfn * 8;
        if (cpu.readQword !== undefined) cpu.readQword(va, q);
        else { q.lo = cpu.read32(va); q.hi = cpu.read32(va + 4); }
        mfns[pfn] = q.hi === 0 ? q.lo : INVALID_MFN_32;
      }
      this.mfns = mfns;
    });
  }

  /** pfn_to_mfn(pfn): INVALID_P2M_ENTRY beyond the list or for an entry the builder left invalid */
  pfn_to_mfn(pfn: number): number {
    if (pfn >= this.mfns.length) return INVALID_P2M_ENTRY;
    const mfn = this.mfns[pfn];
    return mfn === INVALID_MFN_32 ? INVALID_P2M_ENTRY : mfn;
  }

  /** mfn_to_pfn(mfn): machine_to_phys_mapping[mfn] */
  mfn_to_pfn(mfn: number): number {
    return this.hv.mfn_to_pfn(mfn);
  }
}
