/**
 * memblock: the early boot memory allocator (mm/memblock.c, v3.9). Two sorted lists of physical
 * ranges, memory (RAM) and reserved; allocations search free ranges top-down, as 3.9's
 * memblock_find_in_range_node does (for_each_free_mem_range_reverse).
 */
export interface PhysRange {
  base: number;
  /** exclusive */
  end: number;
}

/** MEMBLOCK_ALLOC_ACCESSIBLE: "anywhere below memblock.current_limit" */
export const MEMBLOCK_ALLOC_ACCESSIBLE = 0;

export class Memblock {
  readonly memory: PhysRange[] = [];
  readonly reserved: PhysRange[] = [];
  /** memblock.current_limit: allocations stay below it */
  current_limit = Number.MAX_SAFE_INTEGER;

  /** memblock_add */
  add(base: number, size: number): void {
    insertMerged(this.memory, { base, end: base + size });
  }

  /** memblock_reserve */
  reserve(base: number, size: number): void {
    if (size > 0) insertMerged(this.reserved, { base, end: base + size });
  }

  /** memblock_free: returns a range to the free pool */
  free(base: number, size: number): void {
    removeRange(this.reserved, base, base + size);
  }

  /**
   * memblock_find_in_range(start, end, size, align): the highest `align`-aligned free range of
   * `size` bytes inside [start, end) and RAM, or 0 when there is none.
   */
  findInRange(start: number, end: number, size: number, align: number): number {
    const limit = end === MEMBLOCK_ALLOC_ACCESSIBLE ? this.current_limit : end;
    for (let i = this.memory.length - 1; i >= 0; i--) {
      const m = this.memory[i];
      let top = Math.min(m.end, limit);
      const bottom = Math.max(m.base, start);
      // Walk the reserved ranges downward from `top`, trying each free gap.
      while (top - bottom >= size) {
        const candidate = Math.floor((top - size) / align) * align;
        if (candidate < bottom) break;
        const clash = this.lastReservedOverlapping(candidate, candidate + size);
        if (clash === null) return candidate;
        top = clash.base;
      }
    }
    return 0;
  }

  /** memblock_alloc-style: find below current_limit (top-down), reserve, return the base (0 if none). */
  alloc(size: number, align: number, goal = 0): number {
    const base = this.findInRange(goal, MEMBLOCK_ALLOC_ACCESSIBLE, size, align);
    if (base !== 0) this.reserve(base, size);
    return base;
  }

  /** True when [base, end) lies in RAM. */
  isMemory(base: number, end: number): boolean {
    return this.memory.some((m) => m.base <= base && end <= m.end);
  }

  /** True when some RAM lies inside [start, end) (what e820_any_mapped(..., E820_RAM) asks). */
  anyMemory(start: number, end: number): boolean {
    for (const m of this.memory) if (m.base < end && start < m.end) return true;
    return false;
  }

  /** The RAM ranges clipped to [start, end) (for_each_mem_pfn_range). */
  memoryIn(start: number, end: number): PhysRange[] {
    const out: PhysRange[] = [];
    for (const m of this.memory) {
      const base = Math.max(m.base, start);
      const e = Math.min(m.end, end);
      if (base < e) out.push({ base, end: e });
    }
    return out;
  }

  clone(): Memblock {
    const c = new Memblock();
    c.memory.push(...this.memory.map((r) => ({ ...r })));
    c.reserved.push(...this.reserved.map((r) => ({ ...r })));
    c.current_limit = this.current_limit;
    return c;
  }

  private lastReservedOverlapping(base: number, end: number): PhysRange | null {
    for (let i = this.reserved.length - 1; i >= 0; i--) {
      const r = this.reserved[i];
      if (r.base < end && base < r.end) return r;
    }
    return null;
  }
}

/**
 * Adds `range` to a sorted list of disjoint ranges, merging it with every range it overlaps or
 * touches (memblock_add_range then memblock_merge_regions). The list stays sorted by base.
 */
function insertMerged(list: PhysRange[], range: PhysRange): void {
  // the first range that ends at or after the new one's base (binary search: the list is sorted)
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].end < range.base) lo = mid + 1; else hi = mid;
  }
  let last = lo;
  while (last < list.length && list[last].base <= range.end) last++;
  if (last === lo) { list.splice(lo, 0, range); return; }
  // ranges lo .. last-1 overlap or touch it: the one that starts first absorbs the others
  const first = list[lo].base <= range.base ? list[lo] : range;
  first.base = Math.min(list[lo].base, range.base);
  first.end = Math.max(list[last - 1].end, range.end);
  list.splice(lo, last - lo, first);
}

function removeRange(list: PhysRange[], base: number, end: number): void {
  const out: PhysRange[] = [];
  for (const r of list) {
    if (r.end <= base || end <= r.base) { out.push(r); continue; }
    if (r.base < base) out.push({ base: r.base, end: base });
    if (end < r.end) out.push({ base: end, end: r.end });
  }
  list.length = 0;
  list.push(...out);
}
