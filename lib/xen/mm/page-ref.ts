/**
 * Reference and type counting on machine frames: get_page / put_page (the general count),
 * get_page_type / put_page_type (the type count; the 0 -> 1 transition into a page-table type
 * validates the frame's contents, the 1 -> 0 transition of a page table releases everything it
 * references), and the helpers built on them.
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
import { alloc_page_type, free_page_type } from './validate';
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

/**
 * __get_page_type(page, type, preemptible): one more use of the frame in `type`. A frame changes
 * type only when its type count is 0; taking a page-table type from 0 validates it
 * (alloc_page_type). Returns 0, -EINVAL (wrong type, count overflow) or the failed validation's
 * own error. The model never preempts, so `preemptible` only travels down to the validation.
 */
export function __get_page_type(host: XenHost, mfn: number, type: number, preemptible: boolean): number {
  const ft = host.frameTable;
  let x = ft.typeInfo[mfn];
  const c = ft.typeCountOf(mfn);
  if (c + 1 > PGT_count_mask) {
    MEM_LOG(host, 'type_count_overflow', `Type count overflow on pfn ${lx(mfn)}`);
    return -EINVAL;
  }
  if (c === 0) {
    if ((x & PGT_type_mask) !== type) {
      // We lose the existing type and validity; writable pages need no validation.
      x = (x & ~(PGT_type_mask | PGT_validated)) | type;
      if (type === PGT_writable_page) x |= PGT_validated;
    }
  } else if ((x & PGT_type_mask) !== type) {
    // Don't log failure if it could be a recursive-mapping attempt (L2 seen as L1, L3 as L2, L4 as L3).
    const t = x & PGT_type_mask;
    if (!((t === 2 && type === 1) || (t === 3 && type === 2) || (t === 4 && type === 3))) {
      MEM_LOG(host, 'bad_type', `Bad type (saw ${x16(type_info(host, mfn))} != exp ${x16(BigInt(type) << 60n)}) for mfn ${lx(mfn)} (pfn ${lx(host.m2p.entry(mfn))})`);
    }
    return -EINVAL;
  } else if ((x & PGT_validated) === 0) {
    // Another CPU would be validating it; in the single-threaded model only a table reached
    // again during its own validation gets here. Xen would spin; refuse instead.
    return -EINVAL;
  }
  ft.typeInfo[mfn] = x;
  ft.setTypeCount(mfn, c + 1);
  if ((x & PGT_validated) === 0) return alloc_page_type(host, mfn, type, preemptible);
  return 0;
}

/** get_page_type(page, type): 1 on success, 0 on failure, whatever the error (Xen's boolean wrapper). */
export function get_page_type(host: XenHost, mfn: number, type: number): boolean {
  return __get_page_type(host, mfn, type, false) === 0;
}

/** get_page_type_preemptible(page, type): __get_page_type's own error. */
export function get_page_type_preemptible(host: XenHost, mfn: number, type: number): number {
  return __get_page_type(host, mfn, type, true);
}

/**
 * __put_page_type: one use fewer. When a page table's count reaches 0 it is devalidated and
 * every reference it holds is dropped (free_page_type), possibly freeing tables below it. The
 * type itself stays (a free L1 still says PGT_l1_page_table, count 0, not validated).
 */
export function put_page_type(host: XenHost, mfn: number): void {
  const ft = host.frameTable;
  const x = ft.typeInfo[mfn];
  const c = ft.typeCountOf(mfn);
  if (c === 1 && (x & PGT_type_mask) <= PGT_l4_page_table && (x & PGT_type_mask) !== PGT_none &&
      (x & (PGT_validated | PGT_partial)) !== 0) {
    ft.typeInfo[mfn] = x & ~(PGT_validated | PGT_partial);
    free_page_type(host, mfn, x & PGT_type_mask);
    ft.setTypeCount(mfn, 0);
    ft.typeInfo[mfn] &= ~PGT_pinned;
    return;
  }
  ft.setTypeCount(mfn, c - 1);
}

/** put_page_and_type */
export function put_page_and_type(host: XenHost, mfn: number): void {
  put_page_type(host, mfn);
  put_page(host, mfn);
}

/**
 * get_page_and_type_from_pagenr(page_nr, type, d, 0, preemptible): a general and a type
 * reference; -EINVAL when the frame is not `d`'s. Preemptible, the type's own error comes back
 * (a validation's -EBUSY, -EPERM ...); not preemptible, any failure is -EINVAL
 * (`get_page_type(page, type) ? 0 : -EINVAL`).
 */
export function get_page_and_type_from_pagenr(host: XenHost, mfn: number, type: number, domid: number, preemptible: boolean): number {
  if (!get_page_from_pagenr(host, mfn, domid)) return -EINVAL;
  const rc = preemptible ? get_page_type_preemptible(host, mfn, type) : (get_page_type(host, mfn, type) ? 0 : -EINVAL);
  if (rc !== 0) put_page(host, mfn);
  return rc;
}

/** page_lock(page): succeeds only on a validated frame in use (type count > 0). */
export function page_lock(host: XenHost, mfn: number): boolean {
  const ft = host.frameTable;
  const c = ft.typeCountOf(mfn);
  return (ft.typeInfo[mfn] & PGT_validated) !== 0 && c !== 0 && c < PGT_count_mask;
}
