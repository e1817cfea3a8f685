/**
 * lib/xen/mm/mod-entry.ts: one entry update in a validated table (HYPERVISOR_mmu_update), as Xen
 * 4.2.0 does it in mod_l1_entry (xen/arch/x86/mm.c:1813-1902 at RELEASE-4.2.0) and mod_l2_entry ..
 * mod_l4_entry (1904-2100):
 * - only a PRESENT new entry is checked (1834, 1925, 1992, 2063); a not-present one (a swap entry,
 *   say) is stored as it is, whatever its other bits, and the old entry's references dropped;
 * - the disallow masks (1843, 1927, 1994, 2065) cover the high word too: _PAGE_GNTTAB (pte bit 62,
 *   flag bit 22, asm-x86/x86_64/page.h:162) in an L1 (L1_DISALLOW_MASK, 170 and 184), NX without
 *   cpu_has_nx at every level (297-301); PSE is allowed in an L2 (171) but not in an L3 or L4
 *   (173-179); each refusal prints its own "Bad L%d flags %x" line (__LINE__ of the closing
 *   parenthesis: 1846, 1930, 1997, 2068);
 * - the fast paths compare the whole frame number, bits 51:12 (l1e_has_changed .. l4e_has_changed,
 *   asm-x86/page.h: the entries' "pfn" bits); an L1 also compares RW, an upper level only PRESENT
 *   (1849, 1935, 2002, 2074); a fast-path update takes no new reference;
 * - only the L4 has Xen slots (2053-2058; is_guest_l2_slot and is_guest_l3_slot are always true
 *   for a 64-bit guest, asm-x86/x86_64/page.h);
 * - XSA-148 (fe360c90ea) makes mod_l2_entry's fast path compare PSE and RW when allowsuperpage is
 *   on, and puts PSE back into L2_DISALLOW_MASK when it is off; it leaves L3 and L4 alone.
 * Each test reads back what a guest or Xen would see: the entry, the console line, the counts.
 */
import { describe, expect, it } from 'vitest';
import { EINVAL, EPERM, PGT_count_mask, PGT_l1_page_table, PGT_type_mask, PGT_validated } from '../../lib/xen';
import { A, D, P, PCD, PSE, RW, freeMfn, makeGuest, pin, pte, readEntry, write, type Guest, counts } from './helpers';

function printed(g: Guest, f: () => void): string[] {
  const mark = g.host.console.lines.length;
  f();
  return g.host.console.since(mark);
}
/** A free frame pinned as an empty table of `level` (validated, nothing present). */
function emptyTable(g: Guest, level: number, k: number): number {
  const mfn = freeMfn(g, k);
  expect(pin(g, level, mfn)).toBe(0);
  return mfn;
}
const NX = 1n << 63n;
const GNTTAB = 1n << 62n;
/** A not-present entry as Linux keeps a swap entry: type and offset bits, high bits set, no PRESENT. */
const SWAP = (0x12345n << 32n) | 0xabc000n | BigInt(PCD | PSE);

describe('mod_l1_entry (mm.c:1813-1902 at 4.2.0)', () => {
  it('a not-present new entry is stored as it is (disallowed bits and all) and the old one\'s reference dropped', () => {
    const g = makeGuest();
    const l1 = emptyTable(g, 1, 0);
    const b = freeMfn(g, 1);
    expect(write(g, l1, 3, pte(b, P))).toBe(0);
    const held = counts(g, b);
    expect(write(g, l1, 3, SWAP)).toBe(0);
    expect(readEntry(g, l1, 3)).toBe(SWAP);
    expect(counts(g, b)).toEqual({ ...held, ref: held.ref - 1 });
  });

  it('a not-present neighbour with high bits does not disturb the entry after it (the old entry is read whole)', () => {
    const g = makeGuest();
    const l1 = emptyTable(g, 1, 0);
    const [b, c] = [freeMfn(g, 1), freeMfn(g, 2)];
    expect(write(g, l1, 0, SWAP)).toBe(0);
    expect(write(g, l1, 1, pte(b, P))).toBe(0);
    const [b0, c0] = [counts(g, b), counts(g, c)];
    // same frame, only ACCESSED added: the fast path, no reference taken or dropped
    expect(write(g, l1, 1, pte(b, P | A))).toBe(0);
    expect(counts(g, b)).toEqual(b0);
    // another frame: the new one gains a reference, the old one gives its back
    expect(write(g, l1, 1, pte(c, P))).toBe(0);
    expect([counts(g, b), counts(g, c)]).toEqual([{ ...b0, ref: b0.ref - 1 }, { ...c0, ref: c0.ref + 1 }]);
    expect(readEntry(g, l1, 0)).toBe(SWAP);
  });

  it('_PAGE_GNTTAB (pte bit 62) is refused in an L1 ("Bad L1 flags 400000" at mm.c:1846), the entry unchanged', () => {
    const g = makeGuest({ host: { debug: true } });
    const l1 = emptyTable(g, 1, 0);
    const b = freeMfn(g, 1);
    expect(write(g, l1, 2, pte(b, P))).toBe(0);
    const before = [readEntry(g, l1, 2), counts(g, b)];
    const lines = printed(g, () => expect(write(g, l1, 2, pte(b, P | RW) | GNTTAB)).toBe(-EINVAL));
    expect(lines).toContain(`(XEN) mm.c:1846:d${g.domain.domid} Bad L1 flags 400000`);
    expect([readEntry(g, l1, 2), counts(g, b)]).toEqual(before);
    // bits 61:52 are the guest's (mm.c:302-304): accepted
    expect(write(g, l1, 2, pte(b, P) | (0x3ffn << 52n))).toBe(0);
  });

  it('without cpu_has_nx, NX in a new L1 entry is refused ("Bad L1 flags 800000")', () => {
    const g = makeGuest({ host: { debug: true, cpuHasNx: false } });
    const l1 = emptyTable(g, 1, 0);
    const lines = printed(g, () => expect(write(g, l1, 0, pte(freeMfn(g, 1), P) | NX)).toBe(-EINVAL));
    expect(lines).toContain(`(XEN) mm.c:1846:d${g.domain.domid} Bad L1 flags 800000`);
    expect(readEntry(g, l1, 0)).toBe(0n);
  });

  it('the fast path (same frame, same RW) takes no reference: it succeeds even when the frame\'s type count is full', () => {
    const g = makeGuest();
    const l1 = emptyTable(g, 1, 0);
    const b = freeMfn(g, 1);
    expect(write(g, l1, 4, pte(b, P | RW))).toBe(0);
    g.host.frameTable.setTypeCount(b, PGT_count_mask);
    const full = counts(g, b);
    expect(write(g, l1, 4, pte(b, P | RW | A | D))).toBe(0);
    expect(counts(g, b)).toEqual(full);
    // a changed RW bit is not the fast path: get_page_from_l1e needs the type and cannot have it
    expect(write(g, l1, 5, pte(b, P | RW))).toBeLessThan(0);
  });

  it('the fast path compares the whole frame number: frame b + 2^20 (bits 51:32 differ) is beyond memory, so I/O space (-EPERM)', () => {
    const g = makeGuest();
    const l1 = emptyTable(g, 1, 0);
    const b = freeMfn(g, 1);
    expect(write(g, l1, 6, pte(b, P))).toBe(0);
    const before = [readEntry(g, l1, 6), counts(g, b)];
    expect(write(g, l1, 6, pte(b + 0x100000, P))).toBe(-EPERM);
    expect([readEntry(g, l1, 6), counts(g, b)]).toEqual(before);
  });
});

describe('mod_l2_entry .. mod_l4_entry (mm.c:1904-2100 at 4.2.0)', () => {
  it('a not-present new entry is stored as it is and the old table\'s type reference dropped (freeing it)', () => {
    const g = makeGuest();
    const l2 = emptyTable(g, 2, 0);
    const t = freeMfn(g, 1);
    expect(write(g, l2, 7, pte(t, P | RW))).toBe(0);
    expect(counts(g, t)).toMatchObject({ type: PGT_l1_page_table, tc: 1, validated: true });
    expect(write(g, l2, 7, SWAP)).toBe(0);
    expect(readEntry(g, l2, 7)).toBe(SWAP);
    expect(counts(g, t)).toMatchObject({ tc: 0, validated: false });
  });

  it('a not-present neighbour with high bits does not disturb the entry after it', () => {
    const g = makeGuest();
    const l2 = emptyTable(g, 2, 0);
    const [y, w] = [freeMfn(g, 1), freeMfn(g, 2)];
    expect(write(g, l2, 0, SWAP)).toBe(0);
    expect(write(g, l2, 1, pte(y, P | RW))).toBe(0);
    const y0 = counts(g, y);
    expect(write(g, l2, 1, pte(y, P | RW | A))).toBe(0); // fast path
    expect(counts(g, y)).toEqual(y0);
    expect(write(g, l2, 1, pte(w, P | RW))).toBe(0);
    expect(counts(g, y)).toMatchObject({ ref: y0.ref - 1, tc: 0, validated: false });
    expect(counts(g, w)).toMatchObject({ type: PGT_l1_page_table, tc: 1, validated: true });
  });

  it('the fast path compares the whole frame number: table y + 2^20 is not a frame of the domain (-EINVAL)', () => {
    const g = makeGuest();
    const l2 = emptyTable(g, 2, 0);
    const y = freeMfn(g, 1);
    expect(write(g, l2, 2, pte(y, P | RW))).toBe(0);
    const before = counts(g, y);
    expect(write(g, l2, 2, pte(y + 0x100000, P | RW))).toBe(-EINVAL);
    expect(counts(g, y)).toEqual(before);
  });

  it('L2 and L3 have no Xen slots: entries 256..271 are the guest\'s', () => {
    const g = makeGuest();
    const l2 = emptyTable(g, 2, 0);
    const l3 = emptyTable(g, 3, 1);
    for (const slot of [256, 263, 271]) {
      expect(write(g, l2, slot, pte(freeMfn(g, 2 + slot - 256), P | RW))).toBe(0);
      expect(write(g, l3, slot, pte(freeMfn(g, 20 + slot - 256), P | RW))).toBe(0);
    }
    expect(counts(g, freeMfn(g, 2))).toMatchObject({ type: PGT_l1_page_table, tc: 1 });
  });

  it('PSE passes the L2 mask but not the L3 or L4 one; each level prints its own line; NX without cpu_has_nx likewise', () => {
    const g = makeGuest({ host: { debug: true, cpuHasNx: false } });
    const d = g.domain.domid;
    const [l2, l3, l4] = [emptyTable(g, 2, 0), emptyTable(g, 3, 1), emptyTable(g, 4, 2)];
    const t = freeMfn(g, 3);
    expect(printed(g, () => expect(write(g, l3, 0, pte(t, P | RW | PSE))).toBe(-EINVAL))).toContain(`(XEN) mm.c:1997:d${d} Bad L3 flags 80`);
    expect(printed(g, () => expect(write(g, l4, 0, pte(t, P | RW | PSE))).toBe(-EINVAL))).toContain(`(XEN) mm.c:2068:d${d} Bad L4 flags 80`);
    expect(printed(g, () => expect(write(g, l2, 0, pte(t, P | RW | PCD))).toBe(-EINVAL))).toContain(`(XEN) mm.c:1930:d${d} Bad L2 flags 10`);
    for (const [table, line, level] of [[l2, 1930, 2], [l3, 1997, 3], [l4, 2068, 4]]) {
      expect(printed(g, () => expect(write(g, table, 1, pte(t, P | RW) | NX)).toBe(-EINVAL))).toContain(`(XEN) mm.c:${line}:d${d} Bad L${level} flags 800000`);
      expect(readEntry(g, table, 1)).toBe(0n);
    }
  });
});

describe('XSA-148 (fe360c90ea) on mod_l2_entry', () => {
  /** An L2 whose entry 1 maps the L1 table t (not 2 MiB aligned); the host as given. */
  function l2WithTable(host: object) {
    const g = makeGuest({ host: { debug: true, ...host } });
    const l2 = emptyTable(g, 2, 0);
    const t = freeMfn(g, 1);
    expect(t % 512).not.toBe(0);
    expect(write(g, l2, 1, pte(t, P | RW))).toBe(0);
    return { g, l2, t };
  }

  it('4.2.0 with allowsuperpage: turning the entry into a superpage over the same frame is the fast path (the hole XSA-148 closes)', () => {
    const { g, l2, t } = l2WithTable({ allowSuperpage: true });
    const before = counts(g, t);
    expect(write(g, l2, 1, pte(t, P | RW | PSE))).toBe(0);
    expect(counts(g, t)).toEqual(before);
  });

  it('with XSA-148 and allowsuperpage the PSE change goes through get_page_from_l2e: unaligned, refused', () => {
    const { g, l2, t } = l2WithTable({ allowSuperpage: true, patches: ['xsa-148'] });
    const lines = printed(g, () => expect(write(g, l2, 1, pte(t, P | RW | PSE))).toBe(-EINVAL));
    expect(lines.join('\n')).toContain(`Unaligned superpage map attempt mfn ${t.toString(16)}`);
    expect(readEntry(g, l2, 1) & BigInt(PSE)).toBe(0n);
  });

  it('with XSA-148 and no allowsuperpage, PSE is a disallowed L2 flag again ("Bad L2 flags 80")', () => {
    const { g, l2, t } = l2WithTable({ patches: ['xsa-148'] });
    const lines = printed(g, () => expect(write(g, l2, 1, pte(t, P | RW | PSE))).toBe(-EINVAL));
    expect(lines).toContain(`(XEN) mm.c:1930:d${g.domain.domid} Bad L2 flags 80`);
  });

  it('XSA-148 leaves the L4 fast path alone: a read-only self-map made writable is still accepted (XSA-182 closes that)', () => {
    const g = makeGuest({ host: { allowSuperpage: true, patches: ['xsa-148'] } });
    const l4 = emptyTable(g, 4, 0);
    expect(write(g, l4, 0, pte(l4, P))).toBe(0); // linear self-map, read-only: allowed
    expect(write(g, l4, 0, pte(l4, P | RW))).toBe(0);
    expect(readEntry(g, l4, 0) & BigInt(RW)).toBe(BigInt(RW));
  });
});
