import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Memblock } from '../../lib/linux/memblock';
import { split_mem_range } from '../../lib/linux/mm/init';

describe('memblock (mm/memblock.c, v3.9)', () => {
  it('finds the highest free aligned block below the end, skipping reserved ranges', () => {
    const m = new Memblock();
    m.add(0, 0xa0000);
    m.add(0x100000, 0x7ff00000);
    expect(m.findInRange(0x100000, 0x80000000, 0x200000, 0x1000)).toBe(0x7fe00000);
    m.reserve(0x7ff00000, 0x100000);
    expect(m.findInRange(0x100000, 0x80000000, 0x200000, 0x1000)).toBe(0x7fd00000);
    expect(m.findInRange(0x100000, 0x80000000, 0x200000, 0x200000)).toBe(0x7fc00000);
    expect(m.findInRange(0, 0x1000, 0x2000, 0x1000)).toBe(0);
  });

  it('merges reservations and frees them again', () => {
    const m = new Memblock();
    m.reserve(0x1000, 0x1000);
    m.reserve(0x2000, 0x1000);
    expect(m.reserved).toEqual([{ base: 0x1000, end: 0x3000 }]);
    m.free(0x1800, 0x800);
    expect(m.reserved).toEqual([{ base: 0x1000, end: 0x1800 }, { base: 0x2000, end: 0x3000 }]);
  });
});

describe('split_mem_range (arch/x86/mm/init.c, v3.9)', () => {
  const PSE = 1 << 2;
  const GB = 1 << 3;
  it('keeps reservations sorted, disjoint and not touching, covering exactly the bytes reserved', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(200), fc.nat(30)), { maxLength: 25 }), (adds) => {
      const m = new Memblock();
      const covered = new Set<number>();
      for (const [base, size] of adds) {
        m.reserve(base, size);
        for (let b = base; b < base + size; b++) covered.add(b);
      }
      const r = m.reserved;
      for (let i = 1; i < r.length; i++) expect(r[i].base).toBeGreaterThan(r[i - 1].end); // a gap between any two
      const got = new Set<number>();
      for (const x of r) { expect(x.end).toBeGreaterThan(x.base); for (let b = x.base; b < x.end; b++) got.add(b); }
      expect([...got].sort((a, b) => a - b)).toEqual([...covered].sort((a, b) => a - b));
    }));
  });

  it('maps everything with 4k pages when the CPU has no PSE (a Xen PV guest)', () => {
    expect(split_mem_range(0x100000, 0x7c000000, 0)).toEqual([{ start: 0x100000, end: 0x7c000000, page_size_mask: 0 }]);
  });
  it('splits into a 4k head, 2M middle and 4k tail with PSE', () => {
    expect(split_mem_range(0x100000, 0x7c001000, PSE)).toEqual([
      { start: 0x100000, end: 0x200000, page_size_mask: 0 },
      { start: 0x200000, end: 0x7c000000, page_size_mask: PSE },
      { start: 0x7c000000, end: 0x7c001000, page_size_mask: 0 },
    ]);
  });
  it('uses 1G pages for whole gigabytes when allowed', () => {
    expect(split_mem_range(0, 3 * 2 ** 30, PSE | GB)).toEqual([{ start: 0, end: 3 * 2 ** 30, page_size_mask: PSE | GB }]);
    expect(split_mem_range(0x100000, 3 * 2 ** 30, PSE | GB)).toEqual([
      { start: 0x100000, end: 0x200000, page_size_mask: 0 },
      { start: 0x200000, end: 2 ** 30, page_size_mask: PSE },
      { start: 2 ** 30, end: 3 * 2 ** 30, page_size_mask: PSE | GB },
    ]);
  });
});
