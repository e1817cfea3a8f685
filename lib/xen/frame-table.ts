/**
 * The frame table: one `struct page_info` per machine frame, as compact typed arrays sized to the
 * host (5 bytes a frame: owner 2, type and flags 1, type count 2, plus the general reference
 * count 2), never an object per frame. Xen's `frame_table[]` (asm-x86/mm.h, mm.c) holds the same
 * fields per frame.
 * // xen/arch/x86/mm.c, xen/include/asm-x86/mm.h (Xen 4.2.2)
 */
import { LabError } from '../errors';
import { DOMID_XEN } from './public/xen';
import {
  OWNER_NONE, PGT_pinned, PGT_type_mask, PGT_validated, pageTypeName, type PageInfo,
} from './page-info';

export class FrameTable {
  /** owner domain id per frame (OWNER_NONE when free) */
  owner: Uint16Array;
  /** type code | PGT_pinned | PGT_validated | PGT_partial per frame */
  typeInfo: Uint8Array;
  /** type count per frame (uses in the current type) */
  typeCount: Uint16Array;
  /** general reference count per frame (count_info & PGC_count_mask) */
  refCount: Uint16Array;
  private frames: number;

  constructor(frames: number) {
    this.frames = frames;
    this.owner = new Uint16Array(frames).fill(OWNER_NONE);
    this.typeInfo = new Uint8Array(frames);
    this.typeCount = new Uint16Array(frames);
    this.refCount = new Uint16Array(frames);
  }

  /** The number of machine frames the table describes (max_page). */
  get maxPage(): number {
    return this.frames;
  }

  /** mfn_valid(mfn): the frame exists on this host. */
  mfnValid(mfn: number): boolean {
    return mfn >= 0 && mfn < this.frames;
  }

  /** Grows the table to `frames` entries (new frames free); used when the host's memory grows. */
  grow(frames: number): void {
    if (frames <= this.frames) return;
    const owner = new Uint16Array(frames).fill(OWNER_NONE);
    owner.set(this.owner);
    const typeInfo = new Uint8Array(frames); typeInfo.set(this.typeInfo);
    const typeCount = new Uint16Array(frames); typeCount.set(this.typeCount);
    const refCount = new Uint16Array(frames); refCount.set(this.refCount);
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
    this.typeCount[mfn] = 0;
    this.refCount[mfn] = domid === DOMID_XEN ? 0 : 1; // PGC_allocated holds one reference
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
      typeCount: this.typeCount[mfn],
      refCount: this.refCount[mfn],
      pinned: (t & PGT_pinned) !== 0,
      validated: (t & PGT_validated) !== 0,
    };
  }
}
