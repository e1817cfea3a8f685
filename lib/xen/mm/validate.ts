/**
 * Page types and the validation they trigger: __get_page_type / put_page_type count a frame's
 * uses in its type (the 0 -> 1 transition into a page-table type validates the frame, the 1 -> 0
 * transition releases everything it references), and get_page_from_l1e .. get_page_from_l4e take the
 * references an entry needs (right owner, right type below, no disallowed flags, no superpage
 * without `allowsuperpage`, never a writable mapping of a page-table frame); put_page_from_l*e
 * drop them; alloc_l1_table .. alloc_l4_table validate a whole frame when it first takes a
 * page-table type (and alloc_l4_table installs Xen's slots 256..271); free_l*_table release it.
 * Entries are read and written as two 32-bit words straight from machine memory (numbers only).
 * A failing alloc_l2/l3/l4_table drops the references of the entries it had validated at once,
 * as 4.2.0 and 4.2.2 do (deferring that to old_guest_table came in 4.2.3).
 * An error from below an L2 reaches the caller as -EINVAL: get_page_from_l2e takes the L1 type
 * with get_page_and_type_from_pagenr(..., preemptible 0), which turns any failure into -EINVAL.
 * // xen/arch/x86/mm.c (Xen 4.2.0)
 */
import type { XenHost } from '../host';
import {
  OWNER_NONE, PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table,
  PGT_none, PGT_partial, PGT_pinned, PGT_seg_desc_page, PGT_type_mask, PGT_validated, PGT_writable_page,
} from '../page-info';
import { EBUSY, EINVAL, EPERM } from '../public/errno';
import { DOMID_IO } from '../public/xen';
import { MEM_LOG, count_info, lx, type_info, x16 } from '../mem-log';
import { getPteFlags } from './pte-flags';
import {
  PADDR_HI_MASK, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_USER,
} from './pte-flags';
import { get_page_from_pagenr, put_page } from './page-ref';
import { frameWords, frameWordsForWrite, install_xen_slots, is_guest_l4_slot, masksOf } from './tables';

/** A frame that is all ones (PADDR_MASK >> PAGE_SHIFT): get_page_from_l1e's INVALID_MFN case. */
const INVALID_MFN_ALL_ONES = 2 ** 40 - 1;

// ---- L1 ---------------------------------------------------------------------------------------

/**
 * get_page_from_l1e(l1e, l1e_owner, pg_owner): 0 when the entry may be installed (a general
 * reference taken, and a PGT_writable_page type reference if it maps RW), else -EINVAL (bad
 * flags), -EPERM (I/O memory: a frame beyond the host or owned by DOMID_IO), -EBUSY (a frame of
 * another domain or of Xen, or a writable mapping of a frame that cannot be typed writable, e.g. a
 * page table).
 */
export function get_page_from_l1e(host: XenHost, lo: number, hi: number, l1eOwner: number, pgOwner: number): number {
  if ((lo & _PAGE_PRESENT) === 0) return 0;
  const m = masksOf(host).l1;
  if ((lo & m.lo) !== 0 || (hi & m.hi) !== 0) {
    MEM_LOG(host, 'get_l1e_bad_flags', `Bad L1 flags ${getPteFlags(lo & m.lo, hi & m.hi).toString(16)}`);
    return -EINVAL;
  }
  const mfn = (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
  const ft = host.frameTable;
  if (mfn >= ft.maxPage || ft.owner[mfn] === DOMID_IO) {
    // I/O memory: a domU has no iomem permission. DOMID_IO as pg_owner reverts to the caller.
    if (mfn === INVALID_MFN_ALL_ONES) return -EINVAL;
    // iomem_access_permitted: dom0 holds every frame but those construct_dom0 denied it
    const owner = pgOwner === DOMID_IO ? host.currentDomid : pgOwner;
    if (owner === 0 && l1eOwner === 0) {
      const d0 = host.getDomain(0) as { iomemDenied?: ReadonlySet<number> | null } | undefined;
      if (d0 !== undefined && d0.iomemDenied !== undefined && d0.iomemDenied !== null && !d0.iomemDenied.has(mfn)) return 0;
    }
    MEM_LOG(host, 'get_l1e_iomem', `Non-privileged (${pgOwner === DOMID_IO ? host.currentDomid : pgOwner}) attempt to map I/O space ${lx(mfn).padStart(8, '0')}`);
    return -EPERM;
  }
  // page_get_owner_and_reference
  const c = ft.refCountOf(mfn);
  const realOwner = c === 0 || c >= 0xfffe || ft.owner[mfn] === OWNER_NONE ? -1 : ft.owner[mfn];
  if (realOwner !== pgOwner) {
    // Another domain's (or Xen's, or nobody's) frame; only a privileged pg_owner could map it.
    // (4.1 has no line of its own here: straight to could_not_pin)
    if (host.releaseFacts.l1eOwnerAndTypeLines) MEM_LOG(host, 'get_l1e_wrong_owner', `pg_owner ${pgOwner} l1e_owner ${l1eOwner}, but real_pg_owner ${realOwner}`);
    could_not_pin(host, mfn, lo, hi, l1eOwner, pgOwner);
    return -EBUSY;
  }
  ft.setRefCount(mfn, c + 1);
  if ((lo & _PAGE_RW) !== 0) {
    // get_page_type(page, PGT_writable_page), inlined for the common case
    const x = ft.typeInfo[mfn];
    const tc = ft.typeCountOf(mfn);
    if (tc !== 0 && (x & PGT_type_mask) === PGT_writable_page && tc < PGT_count_mask) {
      ft.setTypeCount(mfn, tc + 1);
    } else if (__get_page_type(host, mfn, PGT_writable_page, false) !== 0) {
      if (host.releaseFacts.l1eOwnerAndTypeLines) MEM_LOG(host, 'get_l1e_not_writable', 'Could not get page type PGT_writable_page');
      could_not_pin(host, mfn, lo, hi, l1eOwner, pgOwner);
      put_page(host, mfn);
      return -EBUSY;
    }
  }
  return 0;
}

/** get_page_from_l1e's could_not_pin message. */
function could_not_pin(host: XenHost, mfn: number, lo: number, hi: number, l1eOwner: number, pgOwner: number): void {
  const entry = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  MEM_LOG(host, 'get_l1e_could_not_pin', `Error getting mfn ${lx(mfn)} (pfn ${lx(host.m2p.entry(mfn))}) from L1 entry ${x16(entry)} for l1e_owner=${l1eOwner}, pg_owner=${pgOwner}`);
}

/** put_page_from_l1e(l1e, l1e_owner): drops what get_page_from_l1e took. */
export function put_page_from_l1e(host: XenHost, lo: number, hi: number): void {
  if ((lo & _PAGE_PRESENT) === 0) return;
  const mfn = (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
  const ft = host.frameTable;
  if (mfn >= ft.maxPage || ft.owner[mfn] === DOMID_IO) return; // is_iomem_page
  if ((lo & _PAGE_RW) !== 0) put_page_and_type(host, mfn);
  else put_page(host, mfn);
}

/**
 * alloc_l1_table: validates the 512 entries of an L1 (the hot path of pinning). The body is
 * get_page_from_l1e and adjust_guest_l1e inlined over the frame table's arrays; anything but
 * the common cases (a present entry to a frame of the domain, read-only or writable-typeable)
 * goes through get_page_from_l1e itself, so the rules live in one place.
 */
export function alloc_l1_table(host: XenHost, mfn: number): number {
  const ft = host.frameTable;
  const d = ft.owner[mfn];
  const words = host.memory.storage(mfn);
  if (words === undefined) return 0; // an all-zero frame: nothing present
  const owner = ft.owner;
  const refCount = ft.refCount;
  const typeInfo = ft.typeInfo;
  const typeCount = ft.typeCount;
  const maxPage = ft.maxPage;
  const mLo = host.disallow.l1.lo;
  const mHi = host.disallow.l1.hi;
  for (let w = 0; w < 1024; w += 2) {
    let lo: number = words[w];
    if ((lo & 1) === 0) continue; // _PAGE_PRESENT
    let hi: number = words[w + 1];
    let ok = false;
    if ((lo & mLo) === 0 && (hi & mHi) === 0) {
      const target = (hi & 0xfffff) * 0x100000 + (lo >>> 12);
      const c = target < maxPage ? refCount[target] : 0;
      // counts up to COUNT_INLINE_MAX - 1 stay in the byte arrays; anything else takes the slow path
      if (c !== 0 && c < 254 && owner[target] === d) {
        if ((lo & 2) === 0) { // read-only: a general reference only
          refCount[target] = c + 1;
          ok = true;
        } else {
          const x = typeInfo[target];
          const tc = typeCount[target];
          if ((x & 7) === 7 && tc < 254 && (tc !== 0 || (x & 0x10) !== 0)) { // PGT_writable_page
            refCount[target] = c + 1;
            typeCount[target] = tc + 1;
            ok = true;
          } else if (tc === 0) { // a type change to PGT_writable_page (validated at once)
            refCount[target] = c + 1;
            typeInfo[target] = (x & ~0x17) | 0x17;
            typeCount[target] = 1;
            ok = true;
          }
        }
      }
    }
    if (!ok) {
      const rc = get_page_from_l1e(host, lo, hi, d, d);
      if (rc !== 0) {
        MEM_LOG(host, 'alloc_l1_failure', `Failure in alloc_l1_table: entry ${w >> 1}`);
        for (let j = w - 2; j >= 0; j -= 2) put_page_from_l1e(host, words[j], words[j + 1]);
        return rc;
      }
    }
    // adjust_guest_l1e
    if ((lo & 4) === 0) { lo |= 4; hi |= 0x00100000; }
    if ((hi & 0x00100000) === 0) lo |= 0x104;
    words[w] = lo >>> 0;
    words[w + 1] = hi >>> 0;
  }
  return 0;
}

/** free_l1_table */
export function free_l1_table(host: XenHost, mfn: number): void {
  const words = host.memory.storage(mfn);
  if (words === undefined) return;
  for (let i = 0; i < 512; i++) {
    const lo = words[i * 2];
    if ((lo & _PAGE_PRESENT) !== 0) put_page_from_l1e(host, lo, words[i * 2 + 1]);
  }
}

// ---- L2..L4 -----------------------------------------------------------------------------------

/**
 * get_lN_linear_pagetable (define_get_linear_pagetable): an entry that maps a table of its own
 * level (a "linear" or recursive mapping) is allowed read-only, to the table itself (no
 * reference) or to another already-validated table of that level (one type reference).
 */
export function get_linear_pagetable(host: XenHost, level: number, lo: number, hi: number, pdePfn: number, domid: number): boolean {
  if ((lo & _PAGE_RW) !== 0) {
    MEM_LOG(host, level === 2 ? 'linear_write_perms_l2' : level === 3 ? 'linear_write_perms_l3' : 'linear_write_perms_l4',
      'Attempt to create linear p.t. with write perms');
    return false;
  }
  const pfn = (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
  if (pfn !== pdePfn) {
    if (!get_page_from_pagenr(host, pfn, domid)) return false;
    const ft = host.frameTable;
    const x = ft.typeInfo[pfn];
    const tc = ft.typeCountOf(pfn);
    if (tc >= PGT_count_mask || (x & (PGT_type_mask | PGT_validated)) !== (level | PGT_validated)) {
      put_page(host, pfn);
      return false;
    }
    ft.setTypeCount(pfn, tc + 1);
  }
  return true;
}

/**
 * get_page_from_l2e: 1 for a not-present entry, 0 when the references were taken, else
 * -EINVAL (bad flags; a superpage without allowsuperpage or unaligned; a frame that is not the
 * domain's or cannot become an L1).
 */
export function get_page_from_l2e(host: XenHost, lo: number, hi: number, pfn: number, domid: number): number {
  if ((lo & _PAGE_PRESENT) === 0) return 1;
  const m = masksOf(host).l2;
  if ((lo & m.lo) !== 0 || (hi & m.hi) !== 0) {
    MEM_LOG(host, 'get_l2e_bad_flags', `Bad L2 flags ${getPteFlags(lo & m.lo, hi & m.hi).toString(16)}`);
    return -EINVAL;
  }
  const mfn = (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
  if ((lo & _PAGE_PSE) === 0) {
    let rc = get_page_and_type_from_pagenr(host, mfn, PGT_l1_page_table, domid, false);
    if (rc === -EINVAL && get_linear_pagetable(host, PGT_l2_page_table, lo, hi, pfn, domid)) rc = 0;
    return rc;
  }
  if (!host.allowSuperpage) {
    MEM_LOG(host, 'get_l2e_no_superpages', 'Attempt to map superpage without allowsuperpage flag in hypervisor');
    return -EINVAL;
  }
  if (mfn % 512 !== 0) {
    MEM_LOG(host, 'get_l2e_unaligned_superpage', `Unaligned superpage map attempt mfn ${lx(mfn)}`);
    return -EINVAL;
  }
  return get_superpage(host, mfn, domid, (lo & _PAGE_RW) !== 0);
}

/**
 * get_superpage, simplified: each of the 512 frames must be the domain's and take the reference
 * a 4 KiB mapping of it would (writable type if RW). Xen 4.2 tracks superpages in spage_info
 * (MMUEXT_MARK_SUPER); the model does not.
 */
function get_superpage(host: XenHost, mfn: number, domid: number, writable: boolean): number {
  for (let i = 0; i < 512; i++) {
    const ok = get_page_from_pagenr(host, mfn + i, domid) &&
      (!writable || __get_page_type(host, mfn + i, PGT_writable_page, false) === 0 || (put_page(host, mfn + i), false));
    if (!ok) {
      for (let j = i - 1; j >= 0; j--) { if (writable) put_page_type(host, mfn + j); put_page(host, mfn + j); }
      return -EINVAL;
    }
  }
  return 0;
}

function put_superpage(host: XenHost, mfn: number, writable: boolean): void {
  for (let i = 0; i < 512; i++) { if (writable) put_page_type(host, mfn + i); put_page(host, mfn + i); }
}

/** put_page_from_l2e: 1 when nothing was held (not present, or a self-map). */
export function put_page_from_l2e(host: XenHost, lo: number, hi: number, pfn: number): number {
  if ((lo & _PAGE_PRESENT) === 0) return 1;
  const mfn = (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
  if (mfn === pfn) return 1;
  if ((lo & _PAGE_PSE) !== 0) put_superpage(host, mfn, (lo & _PAGE_RW) !== 0);
  else put_page_and_type(host, mfn);
  return 0;
}

/**
 * get_page_from_l3e(l3e, pfn, d, partial, preemptible): as get_page_from_l2e one level up (PSE is
 * a disallowed flag here); the L2 type is taken preemptibly when the caller is.
 */
export function get_page_from_l3e(host: XenHost, lo: number, hi: number, pfn: number, domid: number, preemptible: boolean): number {
  if ((lo & _PAGE_PRESENT) === 0) return 1;
  const m = masksOf(host).l3;
  if ((lo & m.lo) !== 0 || (hi & m.hi) !== 0) {
    MEM_LOG(host, 'get_l3e_bad_flags', `Bad L3 flags ${getPteFlags(lo & m.lo, hi & m.hi).toString(16)}`);
    return -EINVAL;
  }
  const mfn = (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
  let rc = get_page_and_type_from_pagenr(host, mfn, PGT_l2_page_table, domid, preemptible);
  if (rc === -EINVAL && get_linear_pagetable(host, PGT_l3_page_table, lo, hi, pfn, domid)) rc = 0;
  return rc;
}

/** get_page_from_l4e(l4e, pfn, d, partial, preemptible) */
export function get_page_from_l4e(host: XenHost, lo: number, hi: number, pfn: number, domid: number, preemptible: boolean): number {
  if ((lo & _PAGE_PRESENT) === 0) return 1;
  const m = masksOf(host).l4;
  if ((lo & m.lo) !== 0 || (hi & m.hi) !== 0) {
    MEM_LOG(host, 'get_l4e_bad_flags', `Bad L4 flags ${getPteFlags(lo & m.lo, hi & m.hi).toString(16)}`);
    return -EINVAL;
  }
  const mfn = (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
  let rc = get_page_and_type_from_pagenr(host, mfn, PGT_l3_page_table, domid, preemptible);
  if (rc === -EINVAL && get_linear_pagetable(host, PGT_l4_page_table, lo, hi, pfn, domid)) rc = 0;
  return rc;
}

/** put_page_from_l3e / put_page_from_l4e (non-deferred): 1 when nothing was held. */
export function put_page_from_upper(host: XenHost, lo: number, hi: number, pfn: number): number {
  if ((lo & _PAGE_PRESENT) === 0) return 1;
  const mfn = (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
  if (mfn === pfn) return 1;
  put_page_and_type(host, mfn);
  return 0;
}

/** get_page_from_l2e .. l4e by level (get_page_from_l2e is never preemptible). */
export function get_page_from_entry(host: XenHost, level: number, lo: number, hi: number, pfn: number, domid: number, preemptible: boolean): number {
  if (level === 2) return get_page_from_l2e(host, lo, hi, pfn, domid);
  if (level === 3) return get_page_from_l3e(host, lo, hi, pfn, domid, preemptible);
  return get_page_from_l4e(host, lo, hi, pfn, domid, preemptible);
}

/** put_page_from_l2e .. l4e by level. */
export function put_page_from_entry(host: XenHost, level: number, lo: number, hi: number, pfn: number): number {
  return level === 2 ? put_page_from_l2e(host, lo, hi, pfn) : put_page_from_upper(host, lo, hi, pfn);
}

/**
 * alloc_l2_table / alloc_l3_table / alloc_l4_table: validate every guest slot; each present
 * entry gets _PAGE_USER (adjust_guest_l*e). On a failure the references taken so far are
 * dropped and the error returned. alloc_l4_table then copies Xen's slots 256..271 from
 * idle_pg_table and points slot 258 at the table itself (linear map) and slot 260 at the
 * domain's per-domain L3.
 */
export function alloc_upper_table(host: XenHost, mfn: number, level: number, preemptible: boolean): number {
  const d = host.frameTable.owner[mfn];
  const words = frameWordsForWrite(host, mfn);
  for (let i = 0; i < 512; i++) {
    if (level === 4 && !is_guest_l4_slot(i)) continue;
    const w = i * 2;
    const lo = words[w];
    if ((lo & _PAGE_PRESENT) === 0) continue;
    const rc = get_page_from_entry(host, level, lo, words[w + 1], mfn, d, preemptible);
    if (rc > 0) continue;
    if (rc < 0) {
      MEM_LOG(host, level === 2 ? 'alloc_l2_failure' : level === 3 ? 'alloc_l3_failure' : 'alloc_l4_failure', `Failure in alloc_l${level}_table: entry ${i}`);
      for (let j = i - 1; j >= 0; j--) {
        if (level === 4 && !is_guest_l4_slot(j)) continue;
        put_page_from_entry(host, level, words[j * 2], words[j * 2 + 1], mfn);
      }
      return rc;
    }
    words[w] = (lo | _PAGE_USER) >>> 0;
  }
  if (level === 4) install_xen_slots(host, words, mfn, d);
  return 0;
}

/** free_l2_table / free_l3_table / free_l4_table: drop every guest slot's references, last first. */
export function free_upper_table(host: XenHost, mfn: number, level: number): void {
  const words = frameWords(host, mfn);
  for (let i = 511; i >= 0; i--) {
    if (level === 4 && !is_guest_l4_slot(i)) continue;
    const lo = words[i * 2];
    if ((lo & _PAGE_PRESENT) !== 0) put_page_from_entry(host, level, lo, words[i * 2 + 1], mfn);
  }
}

// ---- type counts and type changes ------------------------------------------------------------
// __get_page_type validates a frame that takes a page-table type (alloc_page_type), and the
// validation takes types on the frames below: the recursion of mm.c, kept in this one file.

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


/**
 * alloc_page_type(page, type, preemptible): validates a frame that just took a page-table (or segment
 * descriptor) type. On success the frame is PGT_validated; on failure its type_info is wiped
 * (type none, count 0) and the error returned.
 */
export function alloc_page_type(host: XenHost, mfn: number, type: number, preemptible: boolean): number {
  let rc: number;
  switch (type) {
    case PGT_l1_page_table: rc = alloc_l1_table(host, mfn); break;
    case PGT_l2_page_table: rc = alloc_upper_table(host, mfn, 2, preemptible); break;
    case PGT_l3_page_table: rc = alloc_upper_table(host, mfn, 3, preemptible); break;
    case PGT_l4_page_table: rc = alloc_upper_table(host, mfn, 4, preemptible); break;
    case PGT_seg_desc_page: rc = 0; break; // alloc_segdesc_page: descriptors not modelled
    default: rc = -EINVAL;
  }
  const ft = host.frameTable;
  if (rc === 0) {
    ft.typeInfo[mfn] |= PGT_validated;
  } else {
    MEM_LOG(host, 'validation_error', `Error while validating mfn ${lx(mfn)} (pfn ${lx(host.m2p.entry(mfn))}) for type ${x16(BigInt(type) << 60n)}: caf=${count_info(host, mfn).toString(16).padStart(8, '0')} taf=${x16(type_info(host, mfn))}`);
    ft.typeInfo[mfn] = 0;
    ft.setTypeCount(mfn, 0);
  }
  return rc;
}

/** free_page_type(page, type): releases what a page table's entries hold. */
export function free_page_type(host: XenHost, mfn: number, type: number): void {
  if (type === PGT_l1_page_table) free_l1_table(host, mfn);
  else if (type >= PGT_l2_page_table && type <= PGT_l4_page_table) free_upper_table(host, mfn, type);
}

