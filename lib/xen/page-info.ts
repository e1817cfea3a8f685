/**
 * struct page_info, as the model stores it: the page type and its flags in one byte per frame.
 * Xen keeps type, flags and type count in `u.inuse.type_info` (bits 63:60 the type, 59 pinned,
 * 58 validated, 56 partial, 54:0 the count) and the general reference count in `count_info`.
 * The model keeps the same fields in compact per-frame typed arrays (see frame-table.ts); the
 * type codes below are Xen's type nibble (PGT_l1_page_table = 1 << 60 ... stored as 1).
 * // xen/include/asm-x86/mm.h (Xen 4.2.0)
 */

/** PGT_none: the frame has no type yet (type_info >> 60 == 0). */
export const PGT_none = 0;
/** PGT_l1_page_table (0x1 << 60) */
export const PGT_l1_page_table = 1;
/** PGT_l2_page_table (0x2 << 60) */
export const PGT_l2_page_table = 2;
/** PGT_l3_page_table (0x3 << 60) */
export const PGT_l3_page_table = 3;
/** PGT_l4_page_table (0x4 << 60) */
export const PGT_l4_page_table = 4;
/** PGT_seg_desc_page (0x5 << 60): a GDT or LDT page */
export const PGT_seg_desc_page = 5;
/** PGT_writable_page (0x7 << 60): mapped writable by the guest */
export const PGT_writable_page = 7;
/** PGT_root_page_table: on x86_64 the L4 (asm-x86/x86_64/page.h) */
export const PGT_root_page_table = PGT_l4_page_table;
/** PGT_base_page_table: the type CR3 needs (asm-x86/page.h) */
export const PGT_base_page_table = PGT_root_page_table;

/** Mask of the type code in the model's type byte (Xen: PGT_type_mask, bits 63:60). */
export const PGT_type_mask = 0x07;
/** PGT_pinned (bit 59 in Xen): the guest pinned the frame as a page table */
export const PGT_pinned = 0x08;
/** PGT_validated (bit 58 in Xen): the frame's contents were checked for its current type */
export const PGT_validated = 0x10;
/** PGT_partial (bit 56 in Xen): validation was interrupted half-way (kept for completeness) */
export const PGT_partial = 0x20;

/**
 * PGT_count_mask: Xen's type count has 55 bits; the model stores it in 16 bits per frame (a
 * 64 GiB guest has 16M frames) and refuses a reference beyond this as Xen refuses an overflow
 * ("Type count overflow on pfn %lx", -EINVAL).
 */
export const PGT_count_mask = 0xffff;
/** PGC_count_mask: the general reference count, likewise 16 bits in the model (55 in Xen). */
export const PGC_count_mask = 0xffff;

/** Owner value of a frame nobody owns (free, or never given out). */
export const OWNER_NONE = 0xffff;

/** The page-table type for a level (1..4). */
export function pageTableType(level: number): number {
  return level; // PGT_l1_page_table .. PGT_l4_page_table are 1..4
}

/** Xen's name for a type code, e.g. 'PGT_l1_page_table'. */
export function pageTypeName(type: number): string {
  switch (type & PGT_type_mask) {
    case PGT_none: return 'PGT_none';
    case PGT_l1_page_table: return 'PGT_l1_page_table';
    case PGT_l2_page_table: return 'PGT_l2_page_table';
    case PGT_l3_page_table: return 'PGT_l3_page_table';
    case PGT_l4_page_table: return 'PGT_l4_page_table';
    case PGT_seg_desc_page: return 'PGT_seg_desc_page';
    case PGT_writable_page: return 'PGT_writable_page';
    default: return `PGT_type_${type & PGT_type_mask}`;
  }
}

/** One frame's page_info, read out for display and tests (not used on hot paths). */
export interface PageInfo {
  mfn: number;
  /** the owning domain id (DOMID_XEN for Xen's own frames), or null for a free frame */
  owner: number | null;
  type: string;
  typeCount: number;
  refCount: number;
  pinned: boolean;
  validated: boolean;
}
