import { describe, expect, it } from 'vitest';
import { labError } from './lab-error';
import {
  PFEC_INSTR, PFEC_USER, PFEC_WRITE, TLB_D, TLB_U, TLB_W, TLB_XD, Tlb, tlbMissMask, type TlbHitControl,
} from '../../lib';

/** A deterministic generator (LCG), so a failing sequence can be replayed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

describe('the TLB store (SDM 4.10.2)', () => {
  // A roomy table, and a crowded one whose probe runs wrap around its end. The live entries stay
  // below the capacity, so nothing is evicted and the reference needs no eviction policy.
  it.each([[1024, 700], [16, 300]])('SDM 4.10.2.2: random fills, INVLPGs and CR3 loads agree with a reference map (capacity %i, %i pages)', (capacity, universe) => {
    const tlb = new Tlb(capacity);
    const ref = new Map<number, { delta: number; rights: number; global: boolean }>();
    const rand = lcg(42);
    // Pages spread over the upper half so keys are far above 2^31 and collide in the table.
    const pages = Array.from({ length: universe }, (_, i) => 0x800000000000 + Math.floor(i * 7919.5) * 4096 * 37);
    for (let step = 0; step < 20000; step++) {
      const r = rand();
      const page = pages[Math.floor(rand() * pages.length)];
      if (r < 0.6 && !ref.has(page) && ref.size >= capacity - 1) {
        const victim = [...ref.keys()][Math.floor(rand() * ref.size)];
        tlb.invlpg(victim);
        ref.delete(victim);
      } else if (r < 0.6) {
        const delta = Math.floor(rand() * 2 ** 30) * 4096 - page;
        const rights = Math.floor(rand() * 16);
        const global = rand() < 0.2;
        const offset = Math.floor(rand() * 4096);
        tlb.fill(page + offset, page + offset + delta, 4096, rights, global);
        ref.set(page, { delta, rights, global });
      } else if (r < 0.995) {
        tlb.invlpg(page + 123);
        ref.delete(page);
      } else {
        tlb.onCr3Write(true);
        for (const [k, v] of ref) if (!v.global) ref.delete(k);
      }
      if (step % 997 === 0 || step === 19999) {
        expect(tlb.size).toBe(ref.size);
        for (const p of pages) {
          const slot = tlb.lookup(p + 4095);
          const want = ref.get(p);
          if (want === undefined) {
            expect(slot, `page ${p.toString(16)} at step ${step}`).toBe(-1);
          } else {
            expect(slot).toBeGreaterThanOrEqual(0);
            expect(tlb.deltaAt(slot)).toBe(want.delta);
            expect(tlb.rightsAt(slot)).toBe(want.rights);
          }
        }
      }
    }
  });

  it('SDM 4.10.4.1: INVLPG anywhere in a 2 MiB or 1 GiB page drops the whole translation', () => {
    const tlb = new Tlb();
    const base2m = 0x888000200000;
    tlb.fill(base2m + 0x1234, 0x40001234, 2 ** 21, TLB_W, false);
    expect(tlb.lookup(base2m + 0x1fffff)).toBeGreaterThanOrEqual(0);
    expect(tlb.deltaAt(tlb.lookup(base2m)) + base2m).toBe(0x40000000);
    expect(tlb.lookup(base2m + 0x200000)).toBe(-1);
    tlb.invlpg(base2m + 0x150000);
    expect(tlb.lookup(base2m + 0x1234)).toBe(-1);
    const base1g = 0xc00000000000;
    tlb.fill(base1g, 0x80000000, 2 ** 30, 0, true);
    expect(tlb.lookup(base1g + 0x3fffffff)).toBeGreaterThanOrEqual(0);
    tlb.invlpg(base1g + 0x2345_6000);
    expect(tlb.size).toBe(0);
  });

  it('SDM 4.10.4.1: a CR3 load keeps global entries only when PGE=1; flushAll drops them too', () => {
    const tlb = new Tlb();
    tlb.fill(0x1000, 0x5000, 4096, 0, true);
    tlb.fill(0x2000, 0x6000, 4096, 0, false);
    tlb.fill(0x400000, 0x800000, 2 ** 21, 0, true);
    tlb.onCr3Write(true);
    expect(tlb.entries().map((e) => e.va)).toEqual(['0000000000001000', '0000000000400000']);
    tlb.onCr3Write(false);
    expect(tlb.size).toBe(0);
    tlb.fill(0x1000, 0x5000, 4096, 0, true);
    tlb.flushAll();
    expect(tlb.lookup(0x1000)).toBe(-1);
  });

  it('SDM 4.10.2.2: a full TLB drops entries (non-global first) and keeps working', () => {
    const tlb = new Tlb(16);
    for (let i = 0; i < 4; i++) tlb.fill(0x100000 + i * 4096, i * 4096, 4096, 0, true);
    for (let i = 0; i < 100; i++) {
      tlb.fill(0x800000 + i * 4096, 0x9000000 + i * 4096, 4096, TLB_W | TLB_D, false);
      expect(tlb.size).toBeLessThanOrEqual(16);
      expect(tlb.deltaAt(tlb.lookup(0x800000 + i * 4096)) + 0x800000 + i * 4096).toBe(0x9000000 + i * 4096);
    }
    // The globals survived every eviction (they fill a quarter of it, below three quarters).
    for (let i = 0; i < 4; i++) expect(tlb.lookup(0x100000 + i * 4096)).toBeGreaterThanOrEqual(0);
  });

  it('SDM 4.10.2.2: entries() lists what is cached, with rights, in address order', () => {
    const tlb = new Tlb();
    tlb.fill(0xffff88000000 + 5, 0x1005, 4096, TLB_W | TLB_U | TLB_D, false);
    tlb.fill(0x1000, 0x2000, 4096, TLB_XD, true);
    expect(tlb.entries()).toEqual([
      { va: '0000000000001000', pa: '0000000000002000', pageSize: 4096, writable: false, user: false, noExecute: true, dirty: false, global: true },
      { va: 'ffffffff88000000', pa: '0000000000001000', pageSize: 4096, writable: true, user: true, noExecute: false, dirty: true, global: false },
    ]);
  });

  it('refuses a bad capacity or INVLPG address', () => {
    expect(labError(() => new Tlb(8)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => new Tlb(100.5)).code).toBe('WRONG_TYPE');
    const tlb = new Tlb();
    tlb.fill(0x1000, 0x2000, 4096, 0, false);
    expect(labError(() => tlb.invlpg(2 ** 48)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => tlb.invlpg(-4096)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(tlb.size).toBe(1);
  });
});

describe('the TLB hit check (SDM 4.6.1, 4.8, as KVM update_permission_bitmask)', () => {
  const base: TlbHitControl = { wp: false, smep: false, smap: false, ac: false, nxe: true };
  const hits = (ctl: Partial<TlbHitControl>, access: number, rights: number): boolean =>
    ((tlbMissMask({ ...base, ...ctl }, new Uint16Array(32))[access] >>> rights) & 1) === 0;

  it('SDM 4.8: a write never hits an entry filled while D was clear, whatever its rights', () => {
    expect(hits({}, PFEC_WRITE, TLB_W | TLB_U)).toBe(false);
    expect(hits({}, PFEC_WRITE, TLB_W | TLB_U | TLB_D)).toBe(true);
    expect(hits({}, 0, TLB_W)).toBe(true);
  });

  it('SDM 4.6.1: WP, SMEP, SMAP/AC and NXE are read at hit time', () => {
    expect(hits({ wp: false }, PFEC_WRITE, TLB_D)).toBe(true);
    expect(hits({ wp: true }, PFEC_WRITE, TLB_D)).toBe(false);
    expect(hits({ smep: true }, PFEC_INSTR, TLB_U)).toBe(false);
    expect(hits({ smep: false }, PFEC_INSTR, TLB_U)).toBe(true);
    expect(hits({ smap: true }, 0, TLB_U)).toBe(false);
    expect(hits({ smap: true, ac: true }, 0, TLB_U)).toBe(true);
    expect(hits({ nxe: true }, PFEC_INSTR, TLB_XD)).toBe(false);
    expect(hits({ nxe: true }, 0, TLB_XD)).toBe(true);
    // XD cached while NXE is now clear: the walk would fault on a reserved bit, so no hit at all.
    expect(hits({ nxe: false }, 0, TLB_XD)).toBe(false);
    expect(hits({}, PFEC_USER, TLB_W | TLB_D)).toBe(false);
    expect(hits({}, PFEC_USER | PFEC_WRITE, TLB_U | TLB_D)).toBe(false);
  });
});
