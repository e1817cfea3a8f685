/**
 * General references on machine frames: get_page / put_page (the count every use of a frame by
 * a domain holds), page_lock. Type counts, which validate page tables, are in validate.ts.
 * Not modelled: preemption (-EINTR/-EAGAIN continuations, PGT_partial) — validation always
 * completes in one go — and SMP races (the "someone else is validating" spin).
 * // xen/arch/x86/mm.c (Xen 4.2.0)
 */
import type { XenHost } from '../host';
import {
  OWNER_NONE, PGC_count_mask, PGT_count_mask, PGT_l4_page_table, PGT_none, PGT_partial, PGT_pinned,
  PGT_type_mask, PGT_validated, PGT_writable_page,
} from '../page-info';
import { EINVAL } from '../public/errno';
import { MEM_LOG, lx, type_info, x16 } from '../mem-log';

/** page_get_owner_and_reference: takes a general reference; the owner, or -1 when none can be taken. */
export function page_get_owner_and_reference(host: XenHost, mfn: number): number {
  const ft = host.frameTable;
  const c = ft.refCountOf(mfn);
  // Count 0: not allocated; count at the top: would wrap (Xen also reserves one for get_page_light).
  if (c === 0 || c >= PGC_count_mask - 1) return -1;
  ft.setRefCount(mfn, c + 1);
  const o = ft.owner[mfn];
  return o === OWNER_NONE ? -1 : o;
}

/** get_page(page, d): a general reference on a frame `d` owns. */
export function get_page(host: XenHost, mfn: number, domid: number): boolean {
  const ft = host.frameTable;
  const c = ft.refCountOf(mfn);
  if (c === 0 || c >= PGC_count_mask - 1) return false;
  ft.setRefCount(mfn, c + 1);
  if (ft.owner[mfn] === domid) return true;
  put_page(host, mfn);
  return false;
}

/** get_page_from_pagenr(page_nr, d): mfn_valid and get_page ("Could not get page ref for pfn %lx"). */
export function get_page_from_pagenr(host: XenHost, mfn: number, domid: number): boolean {
  if (mfn < host.frameTable.maxPage && get_page(host, mfn, domid)) return true;
  MEM_LOG(host, 'could_not_get_page_ref', `Could not get page ref for pfn ${lx(mfn)}`);
  return false;
}

/** put_page: drops a general reference; at zero the frame goes back to the heap (free_domheap_page). */
export function put_page(host: XenHost, mfn: number): void {
  const ft = host.frameTable;
  const c = ft.refCountOf(mfn) - 1;
  ft.setRefCount(mfn, c);
  if (c === 0) {
    ft.owner[mfn] = OWNER_NONE;
    ft.typeInfo[mfn] = 0;
    ft.setTypeCount(mfn, 0);
    host.m2p.invalidate(mfn);
  }
}

/** page_lock(page): succeeds only on a validated frame in use (type count > 0). */
export function page_lock(host: XenHost, mfn: number): boolean {
  const ft = host.frameTable;
  const c = ft.typeCountOf(mfn);
  return (ft.typeInfo[mfn] & PGT_validated) !== 0 && c !== 0 && c < PGT_count_mask;
}
