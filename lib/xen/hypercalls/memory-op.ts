/**
 * do_memory_op and arch_memory_op, the sub-ops a PV dom0's xen_memory_setup issues: the machine
 * memory map (privileged domains only: the e820 with the gaps dom0 may not touch as reserved
 * entries), the maximum reservation, giving frames back (decrease_reservation, one frame per
 * extent) and getting frames for pfns (populate_physmap; a PV guest is told the new mfn).
 * // xen/common/memory.c (decrease_reservation, guest_remove_page, populate_physmap), xen/arch/x86/mm.c (arch_memory_op) (Xen 4.1.5-pre)
 */
import { machine_memory_map, type E820Entry } from '../e820';
import { PGT_pinned } from '../page-info';
import { EINVAL } from '../public/errno';
import type { Vcpu } from '../domain';

export const XENMEM_decrease_reservation = 1;
export const XENMEM_maximum_reservation = 4;
export const XENMEM_populate_physmap = 6;
export const XENMEM_machine_memory_map = 10;

/** d->max_pages of dom0: compute_dom0_nr_pages leaves min(dom0_max_nrpages (LONG_MAX), UINT_MAX) */
export const DOM0_MAX_PAGES = 0xffffffff;

// xen/arch/x86/mm.c (Xen 4.1.5-pre): XENMEM_machine_memory_map; -EINVAL unless IS_PRIV
export function do_machine_memory_map(v: Vcpu): E820Entry[] | number {
  const d = v.domain;
  const host = d.host;
  if (d.domid !== 0 || host.e820 === null) return -EINVAL;
  return machine_memory_map(host.e820, [...(d.iomemDenied ?? [])]);
}

// xen/common/memory.c (Xen 4.1.5-pre): XENMEM_maximum_reservation for DOMID_SELF
export function do_maximum_reservation(v: Vcpu): number {
  return v.domain.domid === 0 ? DOM0_MAX_PAGES : v.domain.nrPages;
}

// xen/common/memory.c (Xen 4.1.5-pre): decrease_reservation with extent_order 0; returns the extents done
export function do_decrease_reservation(v: Vcpu, mfns: readonly number[]): number {
  const d = v.domain;
  const host = d.host;
  const ft = host.frameTable;
  let done = 0;
  for (const mfn of mfns) {
    // guest_remove_page: the frame must be the domain's
    if (mfn < 0 || mfn >= host.maxPage || ft.owner[mfn] !== d.domid) break;
    if ((ft.typeInfo[mfn] & PGT_pinned) !== 0) ft.typeInfo[mfn] &= ~PGT_pinned;
    const pfn = host.m2p.get(mfn);
    host.m2p.invalidate(mfn); // guest_physmap_remove_page
    if (d.p2mFrames !== null && pfn >= 0 && pfn < d.p2mFrames.length && d.p2mFrames[pfn] === mfn) d.p2mFrames[pfn] = -1;
    // the allocation reference (PGC_allocated) goes; the frame is free once nothing else holds it
    const refs = ft.refCountOf(mfn) - 1;
    if (refs <= 0) host.freeFrame(mfn); else ft.setRefCount(mfn, refs);
    d.totPages--;
    done++;
  }
  return done;
}

// xen/common/memory.c (Xen 4.1.5-pre): populate_physmap with extent_order 0 for a PV guest: each
// extent names a pfn and gets back the new frame's mfn
export function do_populate_physmap(v: Vcpu, pfns: readonly number[], out: number[]): number {
  const d = v.domain;
  const host = d.host;
  let done = 0;
  for (const pfn of pfns) {
    if (d.totPages + 1 > do_maximum_reservation(v)) break;
    const mfn = host.allocFreeFrame();
    if (mfn < 0) break;
    host.frameTable.assign(mfn, d.domid); // PGC_allocated: one reference
    host.m2p.set(mfn, pfn); // guest_physmap_add_page: set_gpfn_from_mfn
    if (d.p2mFrames !== null && pfn < d.p2mFrames.length) d.p2mFrames[pfn] = mfn;
    d.totPages++;
    out.push(mfn);
    done++;
  }
  return done;
}
