/**
 * lib/xen/mm/validate.ts's alloc_l1_table and free_l1_table, reached the way a guest reaches them:
 * MMUEXT_PIN_L1_TABLE and MMUEXT_UNPIN_TABLE on a frame whose entries were written beforehand.
 * The model inlines get_page_from_l1e's common cases there; whatever it inlines, a pin must give
 * get_page_from_l1e's verdict for every entry (xen/arch/x86/mm.c at RELEASE-4.2.0):
 * - alloc_l1_table (1250-1287) runs get_page_from_l1e on each present entry and, on a failure,
 *   put_page_from_l1e on the entries before it (1281-1286); free_l1_table (1316-1331) puts each
 *   present entry; an entry is read whole, so a not-present neighbour's high word (a swap entry
 *   keeps bits there) plays no part;
 * - get_page_from_l1e (828-969): disallowed flags, low word or high word (_PAGE_GNTTAB is pte bit
 *   62, asm-x86/x86_64/page.h:162, in L1_DISALLOW_MASK, mm.c:170), are -EINVAL "Bad L1 flags %x"
 *   (842-845); a frame beyond max_page or DOMID_IO's is I/O space, -EPERM for a domU (849-866); a
 *   frame of another domain is "pg_owner %d l1e_owner %d, but real_pg_owner %d" and -EBUSY
 *   (878-894, 957-967);
 * - get_lN_linear_pagetable refuses a writable self-map with "Attempt to create linear p.t. with
 *   write perms" (mm.c:760, inside define_get_linear_pagetable, whose __LINE__ is the line of each
 *   instantiation: 971, 1013, 1038).
 */
import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, EPERM, MMUEXT_UNPIN_TABLE, PGT_type_mask, PGT_validated, PGT_writable_page, buildPvDomain } from '../../lib/xen';
import { P, PCD, RW, freeMfn, makeGuest, pin, pte, readEntry, write, type Guest, counts, unpin, printed, fill } from './helpers';

const SWAP = (0x12345n << 32n) | 0xabc000n | BigInt(PCD); // not present, high bits set
const GNTTAB = 1n << 62n;

describe('MMUEXT_PIN_L1_TABLE refuses what get_page_from_l1e refuses, and takes nothing', () => {
  /** An L1 (free frame 0) whose entry 5 is `bad`, entry 4 a valid read-only mapping of frame 1. */
  function refused(g: Guest, bad: bigint): { rc: number; text: string; l1: number; held: number } {
    const l1 = freeMfn(g, 0);
    const held = freeMfn(g, 1);
    fill(g, l1, { 4: pte(held, P), 5: bad });
    const before = counts(g, held);
    let rc = 0;
    const text = printed(g, () => { rc = pin(g, 1, l1); });
    expect(counts(g, held)).toEqual(before);
    expect(counts(g, l1)).toMatchObject({ tc: 0, validated: false });
    return { rc, text, l1, held };
  }

  it('a disallowed low flag (PCD) on a mapping of the domain\'s own frame: -EINVAL, "Bad L1 flags 10"', () => {
    const g = makeGuest({ host: { debug: true } });
    const own = freeMfn(g, 2);
    const before = counts(g, own);
    const r = refused(g, pte(own, P | PCD));
    expect(r.rc).toBe(-EINVAL);
    expect(r.text).toContain('Bad L1 flags 10');
    expect(r.text).toContain('Failure in alloc_l1_table: entry 5');
    expect(counts(g, own)).toEqual(before);
  });

  it('_PAGE_GNTTAB (pte bit 62) on a mapping of the domain\'s own frame: -EINVAL, "Bad L1 flags 400000"', () => {
    const g = makeGuest({ host: { debug: true } });
    const own = freeMfn(g, 2);
    const before = counts(g, own);
    const r = refused(g, pte(own, P | RW) | GNTTAB);
    expect(r.rc).toBe(-EINVAL);
    expect(r.text).toContain('Bad L1 flags 400000');
    expect(counts(g, own)).toEqual(before);
  });

  it('a DOMID_IO frame (the first MiB) read-only: I/O space, -EPERM', () => {
    const g = makeGuest({ host: { debug: true } });
    const before = counts(g, 0x10);
    const r = refused(g, pte(0x10, P));
    expect(r.rc).toBe(-EPERM);
    expect(r.text).toContain(`Non-privileged (${g.domain.domid}) attempt to map I/O space 00000010`);
    expect(counts(g, 0x10)).toEqual(before);
  });

  it('a frame beyond memory with bits above 4 GiB (mfn 2^21 - k): I/O space, -EPERM, frame k untouched', () => {
    const g = makeGuest();
    const k = freeMfn(g, 2);
    const before = counts(g, k);
    expect(refused(g, pte(0x200000 - k, P)).rc).toBe(-EPERM);
    expect(counts(g, k)).toEqual(before);
  });

  it('another domain\'s frame, read-only or writable: -EBUSY ("but real_pg_owner 2")', () => {
    const g = makeGuest({ host: { debug: true } });
    const other = buildPvDomain(g.host, {
      domid: 2, memoryBytes: 16 * 1024 * 1024, pcpu: 1,
      kernel: { virtBase: 0xffffffff80000000n, loadPfn: 0x100, pages: 0x10, fill: () => {}, entry: 0xffffffff80100000n },
    });
    const theirs = other.domain.pfnToMfn(0x800);
    const before = counts(g, theirs);
    for (const flags of [P, P | RW]) {
      const r = refused(g, pte(theirs, flags));
      expect(r.rc).toBe(-EBUSY);
      expect(r.text).toContain(`pg_owner ${g.domain.domid} l1e_owner ${g.domain.domid}, but real_pg_owner 2`);
    }
    expect(counts(g, theirs)).toEqual(before);
  });
});

describe('alloc_l1_table / free_l1_table read each entry whole', () => {
  it('a refused pin gives back the references of the entries before the bad one, past a not-present neighbour with high bits', () => {
    const g = makeGuest();
    const l1 = freeMfn(g, 0);
    const [b, c] = [freeMfn(g, 1), freeMfn(g, 2)];
    fill(g, l1, { 0: SWAP, 1: pte(b, P), 2: pte(c, P | RW), 3: pte(b, P | PCD) });
    const rc = (m: number) => [counts(g, m).ref, counts(g, m).tc];
    const before = [rc(b), rc(c)];
    expect(pin(g, 1, l1)).toBe(-EINVAL);
    // the counts come back; c keeps the writable type it took (a type outlives its count, mm.c:2476-2490)
    expect([rc(b), rc(c)]).toEqual(before);
  });

  it('pin then unpin leaves every count as it was, with a not-present neighbour with high bits', () => {
    const g = makeGuest();
    const l1 = freeMfn(g, 0);
    const [b, c] = [freeMfn(g, 1), freeMfn(g, 2)];
    fill(g, l1, { 0: SWAP, 1: pte(b, P), 2: pte(c, P | RW), 7: SWAP, 8: pte(c, P | RW) });
    const before = [counts(g, b), counts(g, c)];
    expect(pin(g, 1, l1)).toBe(0);
    expect([counts(g, b).ref, counts(g, c).ref, counts(g, c).tc]).toEqual([before[0].ref + 1, before[1].ref + 2, before[1].tc + 2]);
    expect(readEntry(g, l1, 0)).toBe(SWAP); // not present: adjust_guest_l1e leaves it
    expect(unpin(g, l1)).toBe(0);
    expect([counts(g, b).ref, counts(g, c).ref, counts(g, c).tc]).toEqual([before[0].ref, before[1].ref, before[1].tc]);
  });

  it('a frame mapped writable before and unmapped since (type writable, count 0) is mapped writable again: one type reference', () => {
    const g = makeGuest();
    const [l1a, l1b, b] = [freeMfn(g, 0), freeMfn(g, 1), freeMfn(g, 2)];
    fill(g, l1a, { 3: pte(b, P | RW) });
    expect(pin(g, 1, l1a)).toBe(0);
    expect(unpin(g, l1a)).toBe(0);
    const idle = counts(g, b);
    expect(idle).toMatchObject({ type: PGT_writable_page, tc: 0, validated: true });
    fill(g, l1b, { 9: pte(b, P | RW) });
    expect(pin(g, 1, l1b)).toBe(0);
    expect(counts(g, b)).toEqual({ ...idle, ref: idle.ref + 1, tc: 1 });
  });
});

describe('"Attempt to create linear p.t. with write perms": the line of each level\'s get_lN_linear_pagetable', () => {
  for (const [level, line] of [[2, 971], [3, 1013], [4, 1038]]) {
    it(`an L${level} mapping itself writable: -EINVAL, mm.c:${line}`, () => {
      const g = makeGuest({ host: { debug: true } });
      const t = freeMfn(g, 0);
      fill(g, t, { 3: pte(t, P | RW) });
      const text = printed(g, () => expect(pin(g, level, t)).toBe(-EINVAL));
      expect(text).toContain(`(XEN) mm.c:${line}:d${g.domain.domid} Attempt to create linear p.t. with write perms`);
    });
  }
});
