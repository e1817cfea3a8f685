/**
 * More of get_page_from_l1e .. get_page_from_l4e as Xen 4.2.0 defines them (xen/arch/x86/mm.c at
 * RELEASE-4.2.0), for the mutants StrykerJS left alive in lib/xen/mm/validate.ts (README "Mutation
 * testing"). These routines are called directly: mod_l*_entry checks flags before calling them,
 * so the hypercall tests never reach their own checks.
 * - every level: a not-present entry is 1 (L2..L4) or 0 (L1) and takes nothing (839-840, 979-980,
 *   1020-1021, 1045-1046); a disallowed flag is refused whether it sits in the low word, the high
 *   word or both (842, 982, 1023, 1048);
 * - l*e_get_pfn takes frame bits 51:32 from the high word (asm-x86/page.h:72-78): machine frames
 *   above 4 GiB, here a host of 8 GiB whose domains sit at its top;
 * - page_get_owner_and_reference's limits seen through get_page_from_l1e (2148-2152, 875-893: the
 *   message says real_pg_owner -1 when there is none);
 * - get_page_from_l2e: without allowsuperpage a PSE entry is refused (996-1001) when the L2 mask lets
 *   PSE through, as 4.2.0's L2_DISALLOW_MASK does (171); a superpage is exactly 512 frames;
 * - get_page_from_l3e: linear L3 maps (1013, 1031-1032).
 */
import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, OWNER_NONE, PGT_l2_page_table, PGT_l3_page_table, PGT_type_mask, PGT_validated } from '../../lib/xen';
import { disallowMasks } from '../../lib/xen/mm/pte-flags';
import {
  __get_page_type, get_linear_pagetable, get_page_from_l1e, get_page_from_l2e, get_page_from_l3e, get_page_from_l4e, put_page_from_l1e,
  put_page_from_l2e, put_page_from_upper,
} from '../../lib/xen/mm/validate';
import { P, PCD, PSE, RW, freeMfn, makeGuest, pte, type Guest, counts } from './helpers';

const lo = (x: bigint) => Number(x & 0xffffffffn);
const hi = (x: bigint) => Number(x >> 32n);
const NX = 1n << 63n;
function printed(g: Guest, f: () => void): string {
  const mark = g.host.console.lines.length;
  f();
  return g.host.console.since(mark).join('');
}
type Get = (g: Guest, e: bigint, self: number) => number;
const getters: [string, Get][] = [
  ['L1', (g, e) => get_page_from_l1e(g.host, lo(e), hi(e), g.domain.domid, g.domain.domid)],
  ['L2', (g, e, self) => get_page_from_l2e(g.host, lo(e), hi(e), self, g.domain.domid)],
  ['L3', (g, e, self) => get_page_from_l3e(g.host, lo(e), hi(e), self, g.domain.domid, false)],
  ['L4', (g, e, self) => get_page_from_l4e(g.host, lo(e), hi(e), self, g.domain.domid, false)],
];

describe('each level\'s own checks', () => {
  for (const [name, get] of getters) {
    it(`${name}: a not-present entry takes nothing (${name === 'L1' ? '0' : '1'}); PCD alone, NX alone (no NX CPU) and both are refused`, () => {
      const g = makeGuest({ host: { cpuHasNx: false } });
      const [t, self] = [freeMfn(g, 0), freeMfn(g, 1)];
      const before = counts(g, t);
      expect(get(g, pte(t, RW), self)).toBe(name === 'L1' ? 0 : 1);
      expect(counts(g, t)).toEqual(before);
      for (const e of [pte(t, P | PCD), pte(t, P) | NX, pte(t, P | PCD) | NX]) {
        expect({ e, rc: get(g, e, self) }).toEqual({ e, rc: -EINVAL });
      }
      expect(counts(g, t)).toEqual(before);
    });
  }
});

describe('machine frames above 4 GiB (l*e_get_pfn: bits 51:32 from the high word)', () => {
  const big = () => makeGuest({ host: { memoryBytes: 8 * 2 ** 30 } });
  it('the domain\'s frames sit above 4 GiB here (frame numbers >= 2^20)', () => {
    const g = big();
    expect(freeMfn(g, 0)).toBeGreaterThanOrEqual(0x100000);
  });

  it('L1: a read-only and a writable mapping reference the frame named by both words, and give it back', () => {
    const g = big();
    const d = g.domain.domid;
    const t = freeMfn(g, 0);
    const before = counts(g, t);
    for (const flags of [P, P | RW]) {
      const e = pte(t, flags);
      expect(get_page_from_l1e(g.host, lo(e), hi(e), d, d)).toBe(0);
      expect(counts(g, t).ref).toBe(before.ref + 1);
      put_page_from_l1e(g.host, lo(e), hi(e));
      expect(counts(g, t).ref).toBe(before.ref);
    }
  });

  it('L2, L3, L4: each takes its table below as the next level down and gives it back', () => {
    const g = big();
    const [l4, l3, l2, l1] = [0, 1, 2, 3].map((k) => freeMfn(g, k));
    const d = g.domain.domid;
    const e2 = pte(l1, P | RW);
    expect(get_page_from_l2e(g.host, lo(e2), hi(e2), l2, d)).toBe(0);
    expect(counts(g, l1)).toMatchObject({ type: 1, tc: 1, validated: true });
    const e3 = pte(l2, P | RW);
    expect(get_page_from_l3e(g.host, lo(e3), hi(e3), l3, d, false)).toBe(0);
    expect(counts(g, l2)).toMatchObject({ type: 2, tc: 1, validated: true });
    const e4 = pte(l3, P | RW);
    expect(get_page_from_l4e(g.host, lo(e4), hi(e4), l4, d, false)).toBe(0);
    expect(counts(g, l3)).toMatchObject({ type: 3, tc: 1, validated: true });
    expect(put_page_from_upper(g.host, lo(e4), hi(e4), l4)).toBe(0);
    expect(counts(g, l3)).toMatchObject({ tc: 0, validated: false });
    expect(put_page_from_l2e(g.host, lo(e2), hi(e2), l2)).toBe(0);
    expect(counts(g, l1)).toMatchObject({ tc: 0, validated: false });
  });

  it('a linear map to another validated L2 above 4 GiB takes its type reference', () => {
    const g = big();
    const [self, other] = [freeMfn(g, 0), freeMfn(g, 1)];
    expect(__get_page_type(g.host, other, PGT_l2_page_table, false)).toBe(0);
    const e = pte(other, P);
    expect(get_linear_pagetable(g.host, PGT_l2_page_table, lo(e), hi(e), self, g.domain.domid)).toBe(true);
    expect(counts(g, other).tc).toBe(2);
  });
});

describe('get_page_from_l1e and the frame\'s general count (mm.c:875-893, 2148-2152)', () => {
  it('a count of -2 or -1 (PGC_count_mask - 1, PGC_count_mask) takes no reference: -EBUSY; one below is fine', () => {
    const g = makeGuest();
    const d = g.domain.domid;
    const t = freeMfn(g, 0);
    const ft = g.host.frameTable;
    for (const c of [0xfffe, 0xffff]) {
      ft.setRefCount(t, c);
      expect(get_page_from_l1e(g.host, lo(pte(t, P)), 0, d, d)).toBe(-EBUSY);
      expect(ft.refCountOf(t)).toBe(c);
    }
    ft.setRefCount(t, 0xfffd);
    expect(get_page_from_l1e(g.host, lo(pte(t, P)), 0, d, d)).toBe(0);
    expect(ft.refCountOf(t)).toBe(0xfffe);
  });

  it('a referenced frame without an owner: -EBUSY, "real_pg_owner -1"', () => {
    const g = makeGuest({ host: { debug: true } });
    const d = g.domain.domid;
    const t = freeMfn(g, 0);
    g.host.frameTable.owner[t] = OWNER_NONE;
    const text = printed(g, () => expect(get_page_from_l1e(g.host, lo(pte(t, P)), 0, d, d)).toBe(-EBUSY));
    expect(text).toContain(`pg_owner ${d} l1e_owner ${d}, but real_pg_owner -1`);
  });

  it('Xen 4.1.5-pre (stable-4.1 at b39efd3dff) has no line of its own for it: straight to could_not_pin\'s "Error getting mfn" (mm.c:849-918 there)', () => {
    const g = makeGuest({ host: { debug: true, release: '4.1.5-pre' } });
    const d = g.domain.domid;
    const t = freeMfn(g, 0);
    g.host.frameTable.owner[t] = OWNER_NONE;
    const text = printed(g, () => expect(get_page_from_l1e(g.host, lo(pte(t, P)), 0, d, d)).toBe(-EBUSY));
    expect(text).not.toContain('real_pg_owner');
    expect(text).toContain(`Error getting mfn ${t.toString(16)}`);
  });
});

describe('superpages and linear L3 maps', () => {
  it('mm.c:171, 996-1001: with PSE allowed by the L2 mask (4.2.0 as released) but no allowsuperpage, a superpage is -EINVAL', () => {
    const g = makeGuest({ host: { debug: true } });
    Object.assign(g.host.disallow.l2, disallowMasks(true, false, true).l2); // L2_DISALLOW_MASK = base & ~PSE
    const base = g.domain.pfnToMfn(0x2000);
    const before = counts(g, base);
    const e = pte(base, P | PSE);
    const text = printed(g, () => expect(get_page_from_l2e(g.host, lo(e), hi(e), freeMfn(g, 0), g.domain.domid)).toBe(-EINVAL));
    expect(text).toContain('Attempt to map superpage without allowsuperpage flag in hypervisor');
    expect(counts(g, base)).toEqual(before);
  });

  it('a superpage is 512 frames: the frame after them is not touched', () => {
    const g = makeGuest({ host: { allowSuperpage: true } });
    const base = g.domain.pfnToMfn(0x2000);
    const next = base + 512;
    const before = counts(g, next);
    for (const flags of [P | PSE, P | PSE | RW]) {
      const e = pte(base, flags);
      expect(get_page_from_l2e(g.host, lo(e), hi(e), freeMfn(g, 0), g.domain.domid)).toBe(0);
      expect(counts(g, next)).toEqual(before);
      expect(put_page_from_l2e(g.host, lo(e), hi(e), freeMfn(g, 0))).toBe(0);
      expect(counts(g, next)).toEqual(before);
    }
  });

  it('a read-only superpage that fails half-way gives back only general references (no type count touched)', () => {
    const g = makeGuest({ host: { allowSuperpage: true } });
    const base = g.domain.pfnToMfn(0x2000);
    g.host.frameTable.owner[base + 300] = OWNER_NONE; // not the domain's: get_page fails there
    const sample = [0, 1, 299, 511].map((i) => base + i);
    const before = sample.map((m) => counts(g, m));
    const e = pte(base, P | PSE);
    expect(get_page_from_l2e(g.host, lo(e), hi(e), freeMfn(g, 0), g.domain.domid)).toBe(-EINVAL);
    expect(sample.map((m) => counts(g, m))).toEqual(before);
  });

  it('mm.c:1013, 1031-1032: an L3 entry may map another validated L3 read-only (one type reference), or the L3 itself; not writable', () => {
    const g = makeGuest();
    const d = g.domain.domid;
    const [self, other] = [freeMfn(g, 0), freeMfn(g, 1)];
    expect(__get_page_type(g.host, other, PGT_l3_page_table, false)).toBe(0);
    const before = counts(g, other);
    expect(get_page_from_l3e(g.host, lo(pte(other, P | RW)), 0, self, d, false)).toBe(-EINVAL);
    expect(counts(g, other)).toEqual(before);
    expect(get_page_from_l3e(g.host, lo(pte(other, P)), 0, self, d, false)).toBe(0);
    expect(counts(g, other)).toEqual({ ...before, ref: before.ref + 1, tc: before.tc + 1 });
    expect(__get_page_type(g.host, self, PGT_l3_page_table, false)).toBe(0); // the L3 the entry lives in
    const selfBefore = counts(g, self);
    expect(get_page_from_l3e(g.host, lo(pte(self, P)), 0, self, d, false)).toBe(0);
    expect(counts(g, self)).toEqual(selfBefore);
  });
});
