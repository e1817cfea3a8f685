/**
 * struct page (include/linux/mm_types.h, v3.8) and the vmemmap that holds one per page frame.
 *
 * On 64-bit: +0 flags, +8 mapping, +16 index/freelist, +24 counters (_mapcount, _count),
 * +32 lru (16 bytes), +48 private. sizeof is 56 without CONFIG_HAVE_ALIGNED_STRUCT_PAGE and
 * 64 with it (x86 selects it with SLUB: the 16-byte alignment rounds 56 up).
 */
import { LabError, describeValue } from '../errors';
import { VMEMMAP_START } from './layout';

export interface StructPageLayout {
  /** sizeof(struct page) */
  size: number;
  /** offsetof(struct page, flags) */
  flags: number;
  /** offsetof(struct page, private) */
  private: number;
}

export const STRUCT_PAGE_SIZES = [56, 64] as const;

/** The layout for a given sizeof(struct page): 56 (SLAB/SLOB) or 64 (SLUB, aligned). */
export function structPageLayout(size: unknown): StructPageLayout {
  if (size !== 56 && size !== 64) {
    throw new LabError('BAD_CONFIG',
      `structPageSize must be 56 (no CONFIG_HAVE_ALIGNED_STRUCT_PAGE) or 64 (SLUB, aligned); got ${describeValue(size)}`);
  }
  return { size, flags: 0, private: 48 };
}

/** pfn_to_page(pfn) with SPARSEMEM_VMEMMAP: vmemmap + pfn (include/asm-generic/memory_model.h). */
export function pfn_to_page(layout: StructPageLayout, pfn: number): number {
  return VMEMMAP_START + pfn * layout.size;
}

/** PG_pinned = PG_owner_priv_1 (include/linux/page-flags.h, v3.8): bit 8 of page->flags. */
export const PG_pinned = 8;
