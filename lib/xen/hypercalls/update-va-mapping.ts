/**
 * do_update_va_mapping(va, val, flags): writes the L1 entry that maps `va` in the current page
 * tables, checked as mod_l1_entry checks it. The L1 must be reachable (L4, L3, L2 present, no
 * superpage), the domain's, validated and in use as an L1: else -EINVAL. The flush in `flags`
 * runs even when the update failed; a flush to a vCPU bitmap (UVMF_MULTI with a pointer)
 * overwrites the result with vcpumask_to_pcpumask's (a quirk of 4.2).
 * // xen/arch/x86/mm.c (__do_update_va_mapping) (Xen 4.2.0)
 */
import { guest_map_l1e, type L1Location } from '../mm/linear';
import { mod_l1_entry } from '../mm/mod-entry';
import { get_page_from_pagenr, page_lock, put_page } from '../mm/page-ref';
import { PGT_l1_page_table, PGT_type_mask } from '../page-info';
import { EFAULT, EINVAL } from '../public/errno';
import { UVMF_ALL, UVMF_FLUSHTYPE_MASK, UVMF_INVLPG, UVMF_LOCAL, UVMF_TLB_FLUSH } from '../public/xen';
import type { Vcpu } from '../domain';

const loc: L1Location = { gl1mfn: 0, index: 0 };

export function do_update_va_mapping(
  v: Vcpu, va48: number, valLo: number, valHi: number, flags: number, vcpumask: readonly number[] | null,
): number {
  const host = v.domain.host;
  const d = v.domain.domid;
  let rc = -EINVAL;
  if (guest_map_l1e(host, v.cr3Mfn, va48, loc) && get_page_from_pagenr(host, loc.gl1mfn, d)) {
    const gl1mfn = loc.gl1mfn;
    if (page_lock(host, gl1mfn) && (host.frameTable.typeInfo[gl1mfn] & PGT_type_mask) === PGT_l1_page_table) {
      rc = mod_l1_entry(host, gl1mfn, loc.index, valLo, valHi, false, d, d);
      if (rc !== 0 && host.releaseFacts.l1l2UpdateErrorsEinval) rc = -EINVAL; // 4.1: mod_l1_entry(...) ? 0 : -EINVAL
    }
    put_page(host, gl1mfn);
  }
  const flushType = flags & UVMF_FLUSHTYPE_MASK;
  if (flushType === UVMF_TLB_FLUSH || flushType === UVMF_INVLPG) {
    const bmap = flags - flushType;
    if (bmap !== UVMF_LOCAL && bmap !== UVMF_ALL) {
      // A pointer to a vCPU bitmap: the copy faults unless the guest gave one.
      rc = vcpumask === null ? -EFAULT : 0;
    }
  }
  return rc;
}
