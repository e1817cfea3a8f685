/**
 * The frame table: one `struct page_info` per machine frame, as compact typed arrays sized to the
 * host — 5 bytes a frame: owner 2, type and flags 1, type count 1, general reference count 1 —
 * never an object per frame. Xen's `frame_table[]` (asm-x86/mm.h, mm.c) holds the same fields.
 * A count above COUNT_INLINE_MAX (rare: a frame mapped hundreds of times) lives in a side map;
 * read and write counts with typeCountOf / setTypeCount / refCountOf / setRefCount, or the byte
 * arrays directly on a hot path that stays below COUNT_INLINE_MAX.
 * // xen/arch/x86/mm.c, xen/include/asm-x86/mm.h (Xen 4.2.0)
 */
import { LabError } from '../errors';
import { DOMID_XEN } from './public/xen';
import {
  OWNER_NONE, PGT_pinned, PGT_type_mask, PGT_validated, pageTypeName, type PageInfo,
} from './page-info';

/** The largest count kept in a frame's byte; larger ones go to a side map. */
export const COUNT_INLINE_MAX = 254;
/** The byte value meaning "the count is in the side map". */
export const COUNT_ESCAPE = 255;

export class FrameTable {
  /** owner domain id per frame (OWNER_NONE when free) */
  owner: Uint16Array;
  /** type code | PGT_pinned | PGT_validated | PGT_partial per frame */
  typeInfo: Uint8Array;
  /** type count per frame (uses in the current type); COUNT_ESCAPE: see the side map */
  typeCount: Uint8Array;
  /** general reference count per frame (count_info & PGC_count_mask); COUNT_ESCAPE: see the side map */
  refCount: Uint8Array;
  private readonly bigType = new Map<number, number>();
  private readonly bigRef = new Map<number, number>();
  private frames: number;

  constructor(frames: number) {
    this.frames = frames;
    this.owner = new Uint16Array(frames).fill(OWNER_NONE);
    this.typeInfo = new Uint8Array(frames);
    this.typeCount = new Uint8Array(frames);
    this.refCount = new Uint8Array(frames);
  }

  /** The type count of a frame. */
  typeCountOf(mfn: number): number {
    const c = this.typeCount[mfn];
    return c !== COUNT_ESCAPE ? c : (this.bigType.get(mfn) as number);
  }

  /** Sets the type count of a frame. */
  setTypeCount(mfn: number, value: number): void {
    if (value <= COUNT_INLINE_MAX) {
      if (this.typeCount[mfn] === COUNT_ESCAPE) this.bigType.delete(mfn);
      this.typeCount[mfn] = value;
    } else {
      this.typeCount[mfn] = COUNT_ESCAPE;
      this.bigType.set(mfn, value);
    }
  }

  /** The general reference count of a frame. */
  refCountOf(mfn: number): number {
    const c = this.refCount[mfn];
    return c !== COUNT_ESCAPE ? c : (this.bigRef.get(mfn) as number);
  }

  /** Sets the general reference count of a frame. */
  setRefCount(mfn: number, value: number): void {
    if (value <= COUNT_INLINE_MAX) {
      if (this.refCount[mfn] === COUNT_ESCAPE) this.bigRef.delete(mfn);
      this.refCount[mfn] = value;
    } else {
      this.refCount[mfn] = COUNT_ESCAPE;
      this.bigRef.set(mfn, value);
    }
  }

  /** The number of machine frames the table describes (max_page). */
  get maxPage(): number {
    return this.frames;
  }

  /** Bytes the per-frame arrays hold (the side maps of large counts aside: they are rare). */
  get byteSize(): number {
    return this.owner.byteLength + this.typeInfo.byteLength + this.typeCount.byteLength + this.refCount.byteLength;
  }

  /** mfn_valid(mfn): the frame exists on this host. */
  mfnValid(mfn: number): boolean {
    return mfn >= 0 && mfn < this.frames;
  }

  /** Grows the table to `frames` entries (new frames free); used when the host's memory grows. */
  grow(frames: number): void {
    if (frames <= this.frames) return;
    const owner = new Uint16Array(frames);
    owner.set(this.owner);
    owner.fill(OWNER_NONE, this.frames); // only the new frames: the copy holds the rest
    const typeInfo = new Uint8Array(frames); typeInfo.set(this.typeInfo);
    const typeCount = new Uint8Array(frames); typeCount.set(this.typeCount);
    const refCount = new Uint8Array(frames); refCount.set(this.refCount);
    this.owner = owner; this.typeInfo = typeInfo; this.typeCount = typeCount; this.refCount = refCount;
    this.frames = frames;
  }

  /** page_get_owner(page) as a domain id, or null for a free frame. */
  ownerOf(mfn: number): number | null {
    const o = this.owner[mfn];
    return o === OWNER_NONE ? null : o;
  }

  /** share_xen_page_with_guest / assign_pages: gives a frame to a domain with its allocation reference. */
  assign(mfn: number, domid: number): void {
    this.owner[mfn] = domid;
    this.typeInfo[mfn] = 0;
    this.setTypeCount(mfn, 0);
    this.setRefCount(mfn, domid === DOMID_XEN ? 0 : 1); // PGC_allocated holds one reference
  }

  /** assign() over `count` consecutive frames (populate_physmap's extents), with typed-array fills. */
  assignRange(mfn0: number, count: number, domid: number): void {
    if (this.bigType.size !== 0 || this.bigRef.size !== 0) {
      for (let j = 0; j < count; j++) this.assign(mfn0 + j, domid);
      return;
    }
    const end = mfn0 + count;
    this.owner.fill(domid, mfn0, end);
    this.typeInfo.fill(0, mfn0, end);
    this.typeCount.fill(0, mfn0, end);
    this.refCount.fill(domid === DOMID_XEN ? 0 : 1, mfn0, end); // PGC_allocated holds one reference
  }

  /** The frame's type as Xen names it ('PGT_l1_page_table' ...), for display. */
  typeName(mfn: number): string {
    return pageTypeName(this.typeInfo[mfn] & PGT_type_mask);
  }

  /** The page_info of a frame, read out (for display and tests). */
  info(mfn: number): PageInfo {
    if (!Number.isInteger(mfn) || !this.mfnValid(mfn)) {
      throw new LabError('FRAME_OUT_OF_RANGE', `mfn must be an integer from 0 to 0x${(this.frames - 1).toString(16)}; got ${mfn}`);
    }
    const t = this.typeInfo[mfn];
    return {
      mfn,
      owner: this.ownerOf(mfn),
      type: pageTypeName(t & PGT_type_mask),
      typeCount: this.typeCountOf(mfn),
      refCount: this.refCountOf(mfn),
      pinned: (t & PGT_pinned) !== 0,
      validated: (t & PGT_validated) !== 0,
    };
  }
}
