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
      let pfn = 0;
      while (pfn < si.nr_pages) {
        // a page of mfn_list at a time (a leaf of the kernel's p2m tree)
        const va = si.mfn_list + pfn * 8;
        const first = (va % 4096) / 4;
        const count = Math.min((4096 - (va % 4096)) / 8, si.nr_pages - pfn);
        const words = cpu.pageWords !== undefined ? cpu.pageWords(va - (va % 4096), false) : null;
        for (let i = 0; i < count; i++) {
          const lo = words !== null ? words[first + i * 2] : cpu.read32(va + i * 8);
          const hi = words !== null ? words[first + i * 2 + 1] : cpu.read32(va + i * 8 + 4);
          mfns[pfn + i] = hi === 0 ? lo : INVALID_MFN_32;
        }
        pfn += count;
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
