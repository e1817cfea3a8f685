/**
 * lib/xen/mm/validate.ts's alloc_upper_table, free_upper_table and put_page_from_l2e ..
 * put_page_from_l4e, reached as a guest reaches them (pin, unpin, mmu_update), against Xen 4.2.0
 * (xen/arch/x86/mm.c at RELEASE-4.2.0):
 * - alloc_l2_table / alloc_l3_table / alloc_l4_table (1400-1445, 1500-1560, 1562-1615) validate
 *   every guest slot; only an L4 has Xen slots (is_guest_l4_slot, asm-x86/x86_64/page.h:135-139;
 *   is_guest_l2_slot and is_guest_l3_slot are true for a 64-bit guest); a failure prints
 *   "Failure in alloc_l%d_table: entry %d" (1427, 1537, 1584) and puts every guest slot before it;
 * - free_l2_table .. free_l4_table (1620-1700) put every guest slot, never Xen's;
 * - put_page_from_l2e .. l4e (1189-1248): nothing for a not-present entry or a self-map (the
 *   linear map took no reference); a superpage L2 entry gives back its 512 frames.
 */
import { describe, expect, it } from 'vitest';
import { EINVAL, MMUEXT_UNPIN_TABLE, PGT_l1_page_table, PGT_type_mask, PGT_validated } from '../../lib/xen';
import { P, PCD, PSE, RW, US, freeMfn, makeGuest, pin, pte, readEntry, write, type Guest, counts, unpin, printed, fill } from './helpers';

const rc = (g: Guest, m: number) => [counts(g, m).ref, counts(g, m).tc];
/** Not present, high bits set (a swap entry's shape). */
const SWAP = (0x12345n << 32n) | 0xabc000n;

describe('alloc/free of L2 and L3 tables: slots 256..271 are the guest\'s', () => {
  for (const level of [2, 3]) {
    it(`an L${level} entry in slot 260 is validated on pin (USER added) and released on unpin`, () => {
      const g = makeGuest();
      const [table, below] = [freeMfn(g, 0), freeMfn(g, 1)];
      fill(g, table, { 260: pte(below, P | RW) });
      expect(pin(g, level, table)).toBe(0);
      expect(counts(g, below)).toMatchObject({ type: level - 1, tc: 1, validated: true });
      expect(readEntry(g, table, 260)).toBe(pte(below, P | RW | US)); // adjust_guest_l2e/l3e
      expect(unpin(g, table)).toBe(0);
      expect(counts(g, below)).toMatchObject({ tc: 0, validated: false });
    });
  }
});

describe('a failing alloc_l*_table gives back what the entries before the bad one took', () => {
  for (const [level, line] of [[2, 1427], [3, 1537], [4, 1584]]) {
    it(`L${level}: entries 1..3 and 260 (not Xen's below an L4) are put, past a not-present neighbour; "Failure in alloc_l${level}_table" at mm.c:${line}`, () => {
      const g = makeGuest({ host: { debug: true } });
      const table = freeMfn(g, 0);
      const below = [1, 2, 3, 4].map((k) => freeMfn(g, k));
      const entries: Record<number, bigint> = { 0: SWAP, 1: pte(below[0], P | RW), 2: pte(below[1], P | RW), 3: pte(below[2], P | RW), 300: pte(below[0], P | RW | PCD) };
      if (level !== 4) entries[260] = pte(below[3], P | RW);
      fill(g, table, entries);
      const before = below.map((m) => rc(g, m));
      const text = printed(g, () => expect(pin(g, level, table)).toBe(-EINVAL));
      expect(below.map((m) => rc(g, m))).toEqual(before);
      expect(text).toContain(`(XEN) mm.c:${line}:d${g.domain.domid} Failure in alloc_l${level}_table: entry 300`);
    });
  }

  it('L4: guest data in the Xen slots (here slot 260 naming a live L3) is neither validated nor put when the pin fails', () => {
    const g = makeGuest();
    const [l4, held, u] = [freeMfn(g, 0), freeMfn(g, 1), freeMfn(g, 2)];
    expect(pin(g, 3, held)).toBe(0);
    fill(g, l4, { 0: pte(u, P | RW), 260: pte(held, P | RW), 300: pte(u, P | RW | PSE) });
    const before = [rc(g, held), rc(g, u)];
    expect(pin(g, 4, l4)).toBe(-EINVAL);
    expect([rc(g, held), rc(g, u)]).toEqual(before);
  });
});

describe('free_l*_table', () => {
  it('L2: unpin gives back every entry\'s references, past a not-present neighbour with high bits', () => {
    const g = makeGuest();
    const l2 = freeMfn(g, 0);
    const below = [1, 2, 3].map((k) => freeMfn(g, k));
    fill(g, l2, { 0: SWAP, 1: pte(below[0], P | RW), 2: pte(below[1], P | RW), 3: pte(below[2], P | RW) });
    const before = below.map((m) => rc(g, m));
    expect(pin(g, 2, l2)).toBe(0);
    expect(below.map((m) => counts(g, m).tc)).toEqual([1, 1, 1]);
    expect(unpin(g, l2)).toBe(0);
    expect(below.map((m) => rc(g, m))).toEqual(before);
  });

  it('L4: unpin leaves Xen\'s slots alone (the per-domain L3 and the frames of the idle table keep their counts)', () => {
    const g = makeGuest();
    const l4 = freeMfn(g, 0);
    expect(pin(g, 4, l4)).toBe(0);
    const w = g.host.memory.words(l4);
    const xenFrames = [256, 257, 259, 260, 261, 262].map((s) => w[s * 2] >>> 12).filter((m) => m !== 0);
    expect(xenFrames).toContain(g.domain.perdomainL3Mfn);
    const before = xenFrames.map((m) => g.host.pageInfo(m));
    expect(unpin(g, l4)).toBe(0);
    expect(xenFrames.map((m) => g.host.pageInfo(m))).toEqual(before);
    expect(counts(g, l4)).toMatchObject({ tc: 0, validated: false });
  });
});

describe('put_page_from_l3e / put_page_from_l4e through mmu_update', () => {
  for (const level of [3, 4]) {
    it(`L${level}: overwriting a not-present entry (whose frame bits name a live table) drops nothing`, () => {
      const g = makeGuest();
      const table = freeMfn(g, 0);
      const live = freeMfn(g, 1);
      expect(pin(g, level, table)).toBe(0);
      expect(pin(g, level - 1, live)).toBe(0);
      fill(g, table, { 5: pte(live, RW) }); // not present: the guest may keep anything there
      const before = rc(g, live);
      expect(write(g, table, 5, 0n)).toBe(0);
      expect(rc(g, live)).toEqual(before);
    });

    it(`L${level}: removing a read-only self-map (which took no reference) leaves the table's counts`, () => {
      const g = makeGuest();
      const table = freeMfn(g, 0);
      expect(pin(g, level, table)).toBe(0);
      const pinned = rc(g, table);
      expect(write(g, table, 7, pte(table, P))).toBe(0);
      expect(rc(g, table)).toEqual(pinned);
      expect(write(g, table, 7, 0n)).toBe(0);
      expect(rc(g, table)).toEqual(pinned);
    });
  }

  it('L2 (allowsuperpage): removing a superpage entry gives back a reference on each of its 512 frames', () => {
    const g = makeGuest({ host: { allowSuperpage: true } });
    const l2 = freeMfn(g, 0);
    expect(pin(g, 2, l2)).toBe(0);
    const base = g.domain.pfnToMfn(0x2000);
    expect(base % 512).toBe(0);
    const sample = [0, 1, 255, 511].map((i) => base + i);
    const before = sample.map((m) => rc(g, m));
    expect(write(g, l2, 9, pte(base, P | PSE))).toBe(0);
    expect(sample.map((m) => rc(g, m)[0])).toEqual(before.map(([r]) => r + 1));
    expect(write(g, l2, 9, 0n)).toBe(0);
    expect(sample.map((m) => rc(g, m))).toEqual(before);
    expect(counts(g, base).type).not.toBe(PGT_l1_page_table);
  });
});
