/**
 * lib/xen/mm/linear.ts: guest_map_l1e and guest_get_eff_l1e as Xen 4.2.0 defines them for a PV
 * guest (xen/include/asm-x86/paging.h:377-395 and 406-419 at RELEASE-4.2.0): the L2 entry is read
 * through the linear map, which only works when the L4 and L3 entries above it are present and the
 * L3 is not a 1 GiB page (the linear read would fault, __copy_from_user != 0: no L1); the L2 entry
 * must be present and not PSE ("(flags & (_PAGE_PRESENT|_PAGE_PSE)) != _PAGE_PRESENT"); the L1 is
 * then l2e_get_pfn(l2e) and the slot l1_table_offset(addr) (SDM 4.5: bits 20:12).
 * Written to kill the mutants StrykerJS left alive there (README "Mutation testing"). The tables are
 * written straight into machine memory here, so each level's index and each flag is chosen by the
 * test, not by the model.
 */
import { describe, expect, it } from 'vitest';
import { guest_get_eff_l1e, guest_map_l1e, type L1Location } from '../../lib/xen/mm/linear';
import { A, P, PSE, RW, US, freeMfn, makeGuest, type Guest } from './helpers';

/** Writes the 64-bit entry `val` at `index` of machine frame `mfn`, straight into memory. */
function put(g: Guest, mfn: number, index: number, val: bigint): void {
  const w = g.host.memory.words(mfn);
  w[index * 2] = Number(val & 0xffffffffn);
  w[index * 2 + 1] = Number(val >> 32n);
}
const entry = (mfn: number, flags: number, hi = 0n): bigint => (BigInt(mfn) << 12n) | BigInt(flags) | (hi << 32n);
/** SDM 4.5 figure 4-8: the 48-bit address with these indices and offset. */
const va = (i4: number, i3: number, i2: number, i1: number, off = 0): number =>
  Number((BigInt(i4) << 39n) | (BigInt(i3) << 30n) | (BigInt(i2) << 21n) | (BigInt(i1) << 12n) | BigInt(off));

interface Tree { g: Guest; l4: number; l3: number; l2: number; l1: number; addr: number; i1: number }
/** A 4-level path for indices (i4, i3, i2, i1), each level in its own frame; nothing else present. */
function tree(i4: number, i3: number, i2: number, i1: number): Tree {
  const g = makeGuest();
  const [l4, l3, l2, l1] = [0, 1, 2, 3].map((k) => freeMfn(g, k));
  put(g, l4, i4, entry(l3, P | RW | US | A));
  put(g, l3, i3, entry(l2, P | RW | US | A));
  put(g, l2, i2, entry(l1, P | RW | US | A));
  put(g, l1, i1, entry(0x1234, P | A, 0x80000000n)); // NX in the high word
  return { g, l4, l3, l2, l1, addr: va(i4, i3, i2, i1, 0xabc), i1 };
}
function map(t: Tree, l4 = t.l4, addr = t.addr): L1Location | null {
  const loc: L1Location = { gl1mfn: -1, index: -1 };
  return guest_map_l1e(t.g.host, l4, addr, loc) ? loc : null;
}

describe('guest_map_l1e (paging.h:377-395 at 4.2.0)', () => {
  it('finds the L1 frame and the slot (bits 20:12) for addresses whose four indices all differ', () => {
    for (const [i4, i3, i2, i1] of [[1, 2, 3, 4], [511, 510, 509, 508], [0x1d4, 0, 0, 91], [255, 256, 1, 511], [3, 1, 2, 0]]) {
      const t = tree(i4, i3, i2, i1);
      expect(map(t)).toEqual({ gl1mfn: t.l1, index: i1 });
      // the offset within the page and a different slot in the same L1 do not change the L1
      expect(map(t, t.l4, va(i4, i3, i2, (i1 + 1) % 512, 0xfff))).toEqual({ gl1mfn: t.l1, index: (i1 + 1) % 512 });
      // a neighbouring L2, L3 or L4 slot is not present: no L1
      expect(map(t, t.l4, va(i4, i3, (i2 + 1) % 512, i1))).toBeNull();
      expect(map(t, t.l4, va(i4, (i3 + 1) % 512, i2, i1))).toBeNull();
      expect(map(t, t.l4, va((i4 + 1) % 512, i3, i2, i1))).toBeNull();
    }
  });

  it('no L1 without a base table (guest_table 0, pagetable_is_null), even if machine frame 0 held a walkable table', () => {
    const t = tree(1, 2, 3, 4);
    expect(map(t, 0)).toBeNull();
    // frame 0 is DOMID_IO's and never written by the model; write a present path into it anyway
    put(t.g, 0, 1, entry(t.l3, P | RW | US | A));
    expect(map(t, 0)).toBeNull();
    expect(map(t)).toEqual({ gl1mfn: t.l1, index: 4 }); // the same path from a real L4
  });

  it('an L4 or L3 entry that is not present stops the walk (the linear read faults); RW, USER do not matter on the way down', () => {
    const t = tree(5, 6, 7, 8);
    put(t.g, t.l4, 5, entry(t.l3, RW | US | A)); // all but PRESENT
    expect(map(t)).toBeNull();
    put(t.g, t.l4, 5, entry(t.l3, P)); // present, read-only, supervisor: still walked (Xen reads in ring 0)
    expect(map(t)).toEqual({ gl1mfn: t.l1, index: 8 });
    put(t.g, t.l3, 6, entry(t.l2, RW | US | A));
    expect(map(t)).toBeNull();
    put(t.g, t.l3, 6, entry(t.l2, P));
    expect(map(t)).toEqual({ gl1mfn: t.l1, index: 8 });
  });

  it('a 1 GiB L3 leaf or a 2 MiB L2 leaf has no L1; a not-present L2 entry neither', () => {
    const t = tree(5, 6, 7, 8);
    put(t.g, t.l3, 6, entry(t.l2, P | RW | PSE));
    expect(map(t)).toBeNull();
    put(t.g, t.l3, 6, entry(t.l2, P | RW));
    put(t.g, t.l2, 7, entry(t.l1, P | RW | PSE));
    expect(map(t)).toBeNull();
    put(t.g, t.l2, 7, entry(t.l1, RW | A)); // PSE clear but not present
    expect(map(t)).toBeNull();
    put(t.g, t.l2, 7, entry(t.l1, P));
    expect(map(t)).toEqual({ gl1mfn: t.l1, index: 8 });
  });

  it('l*e_get_pfn takes frame bits 51:32 from the high word at every level; the high word\'s flag bits are not address', () => {
    // Each level points at a frame whose number needs the high word (machine memory is sparse
    // storage up to MAXPHYADDR 46, so such frames can be written directly here).
    const t = tree(9, 10, 11, 12);
    const big = (k: number) => 0x100000 * k + 0x345; // frame numbers >= 2^20: address bits 32 and up
    const [l3, l2, l1] = [big(3), big(2), big(1)];
    put(t.g, t.l4, 9, entry(l3, P, 0x7ff00000n)); // plus bits 62:52, available to software
    put(t.g, l3, 10, entry(l2, P, 0x80000000n)); // plus NX (bit 63)
    put(t.g, l2, 11, entry(l1, P, 0x40000000n)); // plus bit 62
    expect(map(t)).toEqual({ gl1mfn: l1, index: 12 });
  });
});

describe('guest_get_eff_l1e (paging.h:406-419 at 4.2.0)', () => {
  it('reads the L1 entry mapping the address, both halves; an empty entry when no L1 is reachable', () => {
    const t = tree(1, 2, 3, 4);
    const out = { lo: -1, hi: -1 };
    const loc: L1Location = { gl1mfn: -1, index: -1 };
    guest_get_eff_l1e(t.g.host, t.l4, t.addr, out, loc);
    expect(out).toEqual({ lo: (0x1234 * 4096 + (P | A)) >>> 0, hi: 0x80000000 });
    expect(loc).toEqual({ gl1mfn: t.l1, index: 4 });
    put(t.g, t.l2, 3, entry(t.l1, RW));
    guest_get_eff_l1e(t.g.host, t.l4, t.addr, out, loc);
    expect(out).toEqual({ lo: 0, hi: 0 });
  });

  it('an L1 or upper table frame never written reads as zeros (not present)', () => {
    const g = makeGuest();
    const [l4, l3] = [freeMfn(g, 0), freeMfn(g, 1)];
    const never = freeMfn(g, 2);
    put(g, l4, 0, entry(l3, P));
    put(g, l3, 0, entry(never, P)); // the L2 frame has no storage: every entry 0
    const out = { lo: -1, hi: -1 };
    const loc: L1Location = { gl1mfn: -1, index: -1 };
    guest_get_eff_l1e(g.host, l4, va(0, 0, 0, 0), out, loc);
    expect(out).toEqual({ lo: 0, hi: 0 });
  });
});
