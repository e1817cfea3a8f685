/**
 * lib/xen/mm/pte-flags.ts against Xen 4.2.0's own definitions, bit by bit (written to kill the
 * mutants StrykerJS left alive there; see README "Mutation testing"):
 * - the disallow masks: arch_init_memory and the L*_DISALLOW_MASK macros (xen/arch/x86/mm.c:169-184,
 *   296-304 at RELEASE-4.2.0), _PAGE_GNTTAB 0 on release builds (asm-x86/page.h:343-348);
 * - get_pte_flags and l1e_get_pfn (asm-x86/x86_64/page.h:155, asm-x86/page.h:72);
 * - adjust_guest_l1e with USER_MAPPINGS_ARE_GLOBAL and adjust_guest_l2e/l3e/l4e for a 64-bit PV
 *   guest (mm.c:1064-1111; _PAGE_GUEST_KERNEL is flag bit 12 = pte bit 52, x86_64/page.h:167-174).
 * Expected values are built here from those definitions on 64-bit BigInt entries, not read back
 * from the model.
 */
import { describe, expect, it } from 'vitest';
import {
  adjustL1Value, adjustUpperValue, adjust_guest_l1e, disallowMasks, entryMfn, getPteFlags,
} from '../../lib/xen/mm/pte-flags';

// asm-x86/page.h:320-333 and x86_64/page.h:159-174, as 24-bit flag masks (get_pte_flags form)
const F = {
  PRESENT: 0x001, RW: 0x002, USER: 0x004, PWT: 0x008, PCD: 0x010, ACCESSED: 0x020, DIRTY: 0x040,
  PSE: 0x080, GLOBAL: 0x100, AVAIL: 0xe00, GUEST_KERNEL: 1 << 12, GNTTAB: 1 << 22, NX: 1 << 23,
};
const ALL24 = 0xffffff;

/** get_pte_flags(x) (x86_64/page.h:155) on a 64-bit entry. */
function get_pte_flags(x: bigint): number {
  return (Number((x >> 40n) & 0xffffffn) & ~0xfff) | Number(x & 0xfffn);
}
/** put_pte_flags(f) (x86_64/page.h:156): a 24-bit flag mask as pte bits. */
function put_pte_flags(f: number): bigint {
  return (BigInt(f & ~0xfff) << 40n) | BigInt(f & 0xfff);
}
const lo32 = (x: bigint): number => Number(x & 0xffffffffn);
const hi32 = (x: bigint): number => Number(x >> 32n);
const join = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** base_disallow_mask as arch_init_memory computes it (mm.c:297-304), 24-bit flags. */
function base_disallow_mask(cpuHasNx: boolean): number {
  let m = ~(F.PRESENT | F.RW | F.USER | F.ACCESSED | F.DIRTY | F.AVAIL) & ALL24;
  if (cpuHasNx) m &= ~F.NX;
  m &= ~get_pte_flags(0x7ffn << 52n); // bits 62:52 free for guest software (CONFIG_PAGING_LEVELS 4)
  return m;
}

describe('disallow masks (arch_init_memory, L*_DISALLOW_MASK: mm.c:169-184, 296-304 at 4.2.0)', () => {
  for (const cpuHasNx of [true, false]) {
    for (const debug of [false, true]) {
      it(`cpu_has_nx=${cpuHasNx}, ${debug ? 'debug' : 'release'} build: every one of the 24 flag bits, per level`, () => {
        const base = base_disallow_mask(cpuHasNx);
        const gnttab = debug ? F.GNTTAB : 0; // page.h:343-348: 0 under NDEBUG
        const want = {
          l1: (base | gnttab) & ~F.GLOBAL, // USER_MAPPINGS_ARE_GLOBAL (mm.c:182-184)
          l2: base & ~F.PSE, // mm.c:171
          l3: base, // l3_disallow_mask for a 64-bit guest (mm.c:175-177)
          l4: base, // mm.c:179
        };
        const got = disallowMasks(cpuHasNx, debug);
        for (const level of ['l1', 'l2', 'l3', 'l4'] as const) {
          for (let bit = 0; bit < 24; bit++) {
            const f = 1 << bit;
            const pte = put_pte_flags(f);
            const refused = (lo32(pte) & got[level].lo) !== 0 || (hi32(pte) & got[level].hi) !== 0;
            expect({ level, bit, refused }).toEqual({ level, bit, refused: (want[level] & f) !== 0 });
          }
          // and no address bit (51:12) is ever taken for a flag
          const addr = ((1n << 52n) - 1n) & ~0xfffn;
          expect([(lo32(addr) & got[level].lo) >>> 0, (hi32(addr) & got[level].hi) >>> 0]).toEqual([0, 0]);
        }
      });
    }
  }

  it('mm.c:171 vs the XSA-148 variant: PSE leaves the L2 mask only when superpages may be mapped', () => {
    const allowed = disallowMasks(true, false, true);
    const refused = disallowMasks(true, false, false);
    expect(allowed.l2.lo & F.PSE).toBe(0);
    expect(refused.l2.lo & F.PSE).toBe(F.PSE);
    expect(refused.l2.lo).toBe(base_disallow_mask(true) & 0xfff);
    // the other levels do not depend on it
    expect([refused.l1, refused.l3, refused.l4]).toEqual([allowed.l1, allowed.l3, allowed.l4]);
  });

  it('the four flags Xen refuses everywhere for a 64-bit PV guest on an NX CPU: PWT, PCD, PSE (L1: PAT), GLOBAL (but L1)', () => {
    const m = disallowMasks(true, false);
    expect(m.l4.lo).toBe(F.PWT | F.PCD | F.PSE | F.GLOBAL);
    expect(m.l1.lo).toBe(F.PWT | F.PCD | F.PSE);
    expect(m.l2.lo).toBe(F.PWT | F.PCD | F.GLOBAL);
    expect([m.l1.hi, m.l2.hi, m.l3.hi, m.l4.hi]).toEqual([0, 0, 0, 0]);
  });
});

describe('get_pte_flags and l1e_get_pfn (x86_64/page.h:155, page.h:72 at 4.2.0)', () => {
  // entries with every kind of bit pattern: each single bit, and a few mixed words
  const samples: bigint[] = [];
  for (let b = 0n; b < 64n; b++) samples.push(1n << b);
  samples.push(0n, (1n << 64n) - 1n, 0x8000000123456067n, 0x7ff0000fffff0fffn, 0x00100001ffffe163n, 0xfff000000000a000n);
  it('getPteFlags keeps pte bits 11:0 as flag bits 11:0 and pte bits 63:52 as flag bits 23:12', () => {
    for (const x of samples) expect({ x, f: getPteFlags(lo32(x), hi32(x)) }).toEqual({ x, f: get_pte_flags(x) });
  });
  it('entryMfn is bits 51:12 of the entry, whatever the flags', () => {
    const PADDR_MASK = (1n << 52n) - 1n; // x86_64/page.h:26-28
    for (const x of samples) expect({ x, mfn: entryMfn(lo32(x), hi32(x)) }).toEqual({ x, mfn: Number((x & (PADDR_MASK & ~0xfffn)) >> 12n) });
  });
});

/** adjust_guest_l1e for a 64-bit PV guest with USER_MAPPINGS_ARE_GLOBAL (mm.c:1066-1081). */
function adjust_l1(x: bigint): bigint {
  const flags = () => get_pte_flags(x);
  if ((flags() & F.PRESENT) === 0) return x;
  if ((flags() & F.USER) === 0) x |= put_pte_flags(F.GUEST_KERNEL | F.USER);
  if ((flags() & F.GUEST_KERNEL) === 0) x |= put_pte_flags(F.GLOBAL | F.USER);
  return x;
}

describe('adjust_guest_l1e / adjust_guest_l2e..l4e (mm.c:1064-1111 at 4.2.0)', () => {
  // every combination of PRESENT, USER, GLOBAL, RW, NX and _PAGE_GUEST_KERNEL, over an address
  const entries: bigint[] = [];
  for (let k = 0; k < 64; k++) {
    let x = 0x12345000n | 0x60n; // a frame, accessed and dirty
    if (k & 1) x |= 1n; // PRESENT
    if (k & 2) x |= 4n; // USER
    if (k & 4) x |= 0x100n; // GLOBAL
    if (k & 8) x |= 2n; // RW
    if (k & 16) x |= 1n << 63n; // NX
    if (k & 32) x |= 1n << 52n; // _PAGE_GUEST_KERNEL
    entries.push(x);
  }
  it('kernel entries (no USER) get USER and _PAGE_GUEST_KERNEL; user entries without _PAGE_GUEST_KERNEL get GLOBAL; not-present entries stay', () => {
    for (const x of entries) {
      const want = adjust_l1(x);
      const words = new Uint32Array([0xdeadbeef, lo32(x), hi32(x), 0xfeedface]);
      adjust_guest_l1e(words, 1);
      expect({ x, got: join(words[1], words[2]) }).toEqual({ x, got: want });
      expect([words[0], words[3]]).toEqual([0xdeadbeef, 0xfeedface]); // neighbours untouched
      const e = { lo: lo32(x), hi: hi32(x) };
      adjustL1Value(e);
      expect({ x, got: join(e.lo, e.hi) }).toEqual({ x, got: want });
    }
  });
  it('adjust_guest_l2e/l3e/l4e: a present entry gets USER, nothing else changes', () => {
    for (const x of entries) {
      const e = { lo: lo32(x), hi: hi32(x) };
      adjustUpperValue(e);
      const want = (x & 1n) !== 0n ? x | 4n : x;
      expect({ x, got: join(e.lo, e.hi) }).toEqual({ x, got: want });
    }
  });
  it('results are unsigned 32-bit words (a high word with NX set reads back as such)', () => {
    const e = { lo: 0x80000001 | 0, hi: 0x80000000 | 0 }; // negative int32 inputs
    adjustL1Value(e);
    expect(e.lo).toBeGreaterThan(0);
    expect(e.hi).toBe(0x80100000);
    const u = { lo: 0x80000001 | 0, hi: 0 };
    adjustUpperValue(u);
    expect(u.lo).toBe(0x80000005);
  });
});
