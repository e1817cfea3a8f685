/**
 * lib/xen/mm/validate.ts at its edges, as Xen 4.2.0 defines them (written to kill mutants
 * StrykerJS left alive; see README "Mutation testing"). xen/arch/x86/mm.c line numbers at
 * RELEASE-4.2.0 unless said otherwise:
 * - get_page_from_l1e (828-969): not present takes nothing; the I/O and ownership checks; a writable
 *   mapping takes a PGT_writable_page type reference, and gives the general one back if it cannot;
 * - put_page_from_l1e (1132-1187); alloc_l1_table (1250-1287), whose model inlines the common cases:
 *   the counts must come out as get_page_from_l1e's whatever the starting counts;
 * - define_get_linear_pagetable (748-789): read-only only, self-maps take nothing, another table of
 *   the same level must be validated and its type count must not wrap;
 * - get_page_from_l2e (973-1010) superpages; is_guest_l4_slot (asm-x86/x86_64/page.h:135-139,
 *   slots 256..271 from asm-x86/config.h:196-197); alloc_l4_table's Xen slots (1597-1605:
 *   LINEAR_PT_VIRT_START is slot 258, config.h:215, mapped with __PAGE_HYPERVISOR, page.h:350);
 * - alloc_page_type (2202-2240): the types it validates; anything else -EINVAL.
 */
import { describe, expect, it } from 'vitest';
import {
  EBUSY, EINVAL, EPERM, PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table,
  PGT_seg_desc_page, PGT_type_mask, PGT_validated, PGT_writable_page, MMUEXT_UNPIN_TABLE,
} from '../../lib/xen';
import { is_guest_l4_slot } from '../../lib/xen/mm/tables';
import {
  __get_page_type, alloc_page_type, get_linear_pagetable, get_page_from_l1e, get_page_from_l2e, put_page_from_l1e,
  put_page_from_l2e, put_page_type,
} from '../../lib/xen/mm/validate';
import { A, D, P, PSE, RW, US, freeMfn, makeGuest, pin, pte, readEntry, write, type Guest, counts } from './helpers';

const lo = (x: bigint) => Number(x & 0xffffffffn);
const hi = (x: bigint) => Number(x >> 32n);
function unpin(g: Guest, mfn: number): number {
  return g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_UNPIN_TABLE, mfn }]);
}

describe('get_page_from_l1e / put_page_from_l1e (mm.c:828-969, 1132-1187 at 4.2.0)', () => {
  it('mm.c:839-840: a not-present entry is accepted whatever else it holds, and takes nothing', () => {
    const g = makeGuest();
    const mfn = freeMfn(g, 0);
    const before = counts(g, mfn);
    const junk = pte(mfn, RW | 0x198, 0xfff00000n); // every disallowed low flag, all high bits, no PRESENT
    expect(get_page_from_l1e(g.host, lo(junk), hi(junk), 1, 1)).toBe(0);
    put_page_from_l1e(g.host, lo(junk), hi(junk));
    expect(counts(g, mfn)).toEqual(before);
  });

  it('mm.c:849-873: I/O memory (beyond the frame table, or DOMID_IO\'s) is -EPERM for a domU and takes nothing; put_page_from_l1e leaves it too', () => {
    const g = makeGuest();
    const d = g.domain.domid;
    const io = 0x10; // the first MiB is DOMID_IO's (arch_init_memory)
    const before = counts(g, io);
    for (const flags of [P, P | RW]) {
      expect(get_page_from_l1e(g.host, lo(pte(io, flags)), 0, d, d)).toBe(-EPERM);
      expect(get_page_from_l1e(g.host, lo(pte(g.host.frameTable.maxPage, flags)), hi(pte(g.host.frameTable.maxPage, flags)), d, d)).toBe(-EPERM);
      put_page_from_l1e(g.host, lo(pte(io, flags)), 0);
    }
    expect(counts(g, io)).toEqual(before);
  });

  it('mm.c:849-873: dom0 maps I/O memory it holds (iomem_access_permitted), not what construct_dom0 denied it, nor for another l1e owner', () => {
    const g = makeGuest();
    const io = 0x10; // the first MiB is DOMID_IO's (arch_init_memory)
    const denied = 0x20;
    // domain 0 as construct_dom0 leaves it for this check: every frame but the denied ones (the dom0
    // builder's own tests build a whole one; here only its iomem permissions matter)
    const dom0 = { domid: 0, iomemDenied: new Set([denied]) as ReadonlySet<number> | null };
    (g.host.domains as Map<number, unknown>).set(0, dom0);
    const before = counts(g, io);
    expect(get_page_from_l1e(g.host, lo(pte(io, P | RW)), 0, 0, 0)).toBe(0);
    expect(counts(g, io)).toEqual(before); // I/O mappings take no reference
    const beyond = g.host.frameTable.maxPage + 5;
    expect(get_page_from_l1e(g.host, lo(pte(beyond, P)), hi(pte(beyond, P)), 0, 0)).toBe(0);
    expect(get_page_from_l1e(g.host, lo(pte(denied, P)), 0, 0, 0)).toBe(-EPERM);
    // the table's owner must hold the frame too: a domU's table is refused whoever asks
    expect(get_page_from_l1e(g.host, lo(pte(io, P)), 0, 1, 0)).toBe(-EPERM);
    // a domU as pg_owner holds no I/O memory, even for dom0's own table
    expect(get_page_from_l1e(g.host, lo(pte(io, P)), 0, 0, 1)).toBe(-EPERM);
    // DOMID_IO as pg_owner means the caller (dom0 here: no vCPU of another domain is running)
    expect(get_page_from_l1e(g.host, lo(pte(io, P)), 0, 0, 0x7ff1)).toBe(0);
    // a host with no domain 0 (caller 0: no vCPU running) holds none either
    (g.host.domains as Map<number, unknown>).delete(0);
    expect(get_page_from_l1e(g.host, lo(pte(io, P)), 0, 0, 0x7ff1)).toBe(-EPERM);
    (g.host.domains as Map<number, unknown>).set(0, dom0);
    // a domain 0 with no iomem permissions recorded holds none
    dom0.iomemDenied = null;
    expect(get_page_from_l1e(g.host, lo(pte(io, P)), 0, 0, 0)).toBe(-EPERM);
  });

  it('mm.c:875-893: a frame nobody owns, or whose count is 0, is -EBUSY and takes nothing', () => {
    const g = makeGuest();
    const d = g.domain.domid;
    const mfn = freeMfn(g, 0);
    g.host.frameTable.setRefCount(mfn, 0);
    expect(get_page_from_l1e(g.host, lo(pte(mfn, P)), 0, d, d)).toBe(-EBUSY);
    expect(g.host.frameTable.refCountOf(mfn)).toBe(0);
  });

  it('mm.c:907-914, 966-968: a writable mapping of a frame that cannot be typed writable gives the general reference back (-EBUSY)', () => {
    const g = makeGuest();
    const d = g.domain.domid;
    const l1 = freeMfn(g, 0);
    expect(__get_page_type(g.host, l1, PGT_l1_page_table, false)).toBe(0);
    const before = counts(g, l1);
    expect(get_page_from_l1e(g.host, lo(pte(l1, P | RW)), 0, d, d)).toBe(-EBUSY);
    expect(counts(g, l1)).toEqual(before);
    // read-only: a general reference only, the type is untouched
    expect(get_page_from_l1e(g.host, lo(pte(l1, P)), 0, d, d)).toBe(0);
    expect(counts(g, l1)).toEqual({ ...before, ref: before.ref + 1 });
    put_page_from_l1e(g.host, lo(pte(l1, P)), 0);
    expect(counts(g, l1)).toEqual(before);
  });

  it('mm.c:907-914, 1167-1186: RW takes and gives back a writable type reference, at any type count', () => {
    const g = makeGuest();
    const d = g.domain.domid;
    const mfn = freeMfn(g, 0);
    const ft = g.host.frameTable;
    for (const start of [0, 1, 253, 254, 300, PGT_count_mask - 1]) {
      if (start > 0) { ft.typeInfo[mfn] = PGT_writable_page | PGT_validated; ft.setTypeCount(mfn, start); }
      const before = counts(g, mfn);
      expect(get_page_from_l1e(g.host, lo(pte(mfn, P | RW)), 0, d, d)).toBe(0);
      expect({ start, ...counts(g, mfn) }).toEqual({ start, ...before, ref: before.ref + 1, tc: before.tc + 1, type: PGT_writable_page, validated: true });
      put_page_from_l1e(g.host, lo(pte(mfn, P | RW)), 0);
      expect({ start, ...counts(g, mfn) }).toEqual({ start, ...before, type: PGT_writable_page, validated: true });
    }
    // at PGT_count_mask the type count would wrap: refused, the general reference given back
    ft.setTypeCount(mfn, PGT_count_mask);
    const full = counts(g, mfn);
    expect(get_page_from_l1e(g.host, lo(pte(mfn, P | RW)), 0, d, d)).toBe(-EBUSY);
    expect(counts(g, mfn)).toEqual(full);
  });
});

describe('alloc_l1_table (mm.c:1250-1287): the counts an L1 takes do not depend on how large they already are', () => {
  // The model's alloc_l1_table handles counts up to COUNT_INLINE_MAX - 1 in place and leaves
  // everything else to get_page_from_l1e; either way each entry must take exactly one general
  // reference, and a writable one exactly one PGT_writable_page type reference.
  for (const start of [1, 252, 253, 254, 255, 400]) {
    it(`a frame whose counts start at ${start}: +1 per entry when pinned, back when unpinned`, () => {
      const g = makeGuest();
      const l1 = freeMfn(g, 0);
      const [ro, rw] = [freeMfn(g, 1), freeMfn(g, 2)];
      const ft = g.host.frameTable;
      ft.setRefCount(ro, start);
      ft.setRefCount(rw, start);
      ft.typeInfo[rw] = PGT_writable_page | PGT_validated;
      ft.setTypeCount(rw, start);
      expect(write(g, l1, 0, pte(ro, P))).toBe(0);
      expect(write(g, l1, 1, pte(rw, P | RW))).toBe(0);
      const before = [counts(g, ro), counts(g, rw)];
      expect(pin(g, 1, l1)).toBe(0);
      expect([counts(g, ro), counts(g, rw)]).toEqual([
        { ...before[0], ref: before[0].ref + 1 },
        { ...before[1], ref: before[1].ref + 1, tc: before[1].tc + 1 },
      ]);
      expect(unpin(g, l1)).toBe(0);
      expect([counts(g, ro), counts(g, rw)]).toEqual(before);
    });
  }

  it('mm.c:2476-2490 via get_page_type: a writable entry to a frame of another type at count 0 retypes it writable (validated)', () => {
    const g = makeGuest();
    const [l1, old] = [freeMfn(g, 0), freeMfn(g, 1)];
    expect(__get_page_type(g.host, old, PGT_l2_page_table, false)).toBe(0);
    put_page_type(g.host, old); // an L2 nobody uses: type L2, count 0
    expect(counts(g, old)).toMatchObject({ type: PGT_l2_page_table, tc: 0, validated: false });
    expect(write(g, l1, 0, pte(old, P | RW))).toBe(0);
    expect(pin(g, 1, l1)).toBe(0);
    expect(counts(g, old)).toMatchObject({ type: PGT_writable_page, tc: 1, validated: true, ref: 2 });
  });

  it('mm.c:1281-1286: a bad entry undoes the references of the entries before it, and the error says which entry', () => {
    const g = makeGuest({ host: { debug: true } });
    const l1 = freeMfn(g, 0);
    const [a, b] = [freeMfn(g, 1), freeMfn(g, 2)];
    expect(write(g, l1, 0, pte(a, P | RW))).toBe(0);
    expect(write(g, l1, 1, pte(b, P))).toBe(0);
    expect(write(g, l1, 7, pte(l1, P | RW))).toBe(0); // maps the L1 itself writable
    const before = [counts(g, a), counts(g, b)];
    const mark = g.host.console.lines.length;
    expect(pin(g, 1, l1)).toBeLessThan(0); // refused (the code is the pin's business, not this test's)
    expect([a, b].map((m) => [counts(g, m).ref, counts(g, m).tc])).toEqual(before.map((c) => [c.ref, c.tc]));
    expect(g.host.console.since(mark).join('')).toContain('Failure in alloc_l1_table: entry 7');
    expect(counts(g, l1)).toMatchObject({ tc: 0, validated: false });
  });

  it('mm.c:1274 (adjust_guest_l1e, 1066-1081): each present entry comes out with USER, and GLOBAL unless it is a kernel entry', () => {
    const g = makeGuest();
    const l1 = freeMfn(g, 0);
    const t = freeMfn(g, 1);
    const cases: [number, bigint][] = [
      [P, pte(t, P | US) | (1n << 52n)], // kernel: USER and _PAGE_GUEST_KERNEL added
      [P | US, pte(t, P | US | 0x100)], // user: GLOBAL added
      [P | US | A | D, pte(t, P | US | A | D | 0x100)],
    ];
    cases.forEach(([flags], i) => expect(write(g, l1, i, pte(t, flags))).toBe(0));
    expect(write(g, l1, 9, pte(t, US))).toBe(0); // not present: untouched
    expect(pin(g, 1, l1)).toBe(0);
    cases.forEach(([, want], i) => expect(readEntry(g, l1, i)).toBe(want));
    expect(readEntry(g, l1, 9)).toBe(pte(t, US));
  });
});

describe('get_lN_linear_pagetable (define_get_linear_pagetable, mm.c:748-789 at 4.2.0)', () => {
  it('refuses RW; a self-map takes nothing; another validated table of the level takes one general and one type reference', () => {
    const g = makeGuest();
    const d = g.domain.domid;
    const [self, other] = [freeMfn(g, 0), freeMfn(g, 1)];
    expect(__get_page_type(g.host, self, PGT_l2_page_table, false)).toBe(0);
    expect(__get_page_type(g.host, other, PGT_l2_page_table, false)).toBe(0);
    const before = [counts(g, self), counts(g, other)];
    expect(get_linear_pagetable(g.host, PGT_l2_page_table, lo(pte(other, P | RW)), 0, self, d)).toBe(false);
    expect(get_linear_pagetable(g.host, PGT_l2_page_table, lo(pte(self, P)), 0, self, d)).toBe(true);
    expect([counts(g, self), counts(g, other)]).toEqual(before);
    expect(get_linear_pagetable(g.host, PGT_l2_page_table, lo(pte(other, P)), 0, self, d)).toBe(true);
    expect(counts(g, other)).toEqual({ ...before[1], ref: before[1].ref + 1, tc: before[1].tc + 1 });
  });

  it('mm.c:776-782: a table of another level, an unvalidated one, or one whose type count would wrap is refused and its reference given back', () => {
    const g = makeGuest();
    const d = g.domain.domid;
    const [self, l3, stale, full] = [0, 1, 2, 3].map((k) => freeMfn(g, k));
    expect(__get_page_type(g.host, l3, PGT_l3_page_table, false)).toBe(0);
    expect(__get_page_type(g.host, stale, PGT_l2_page_table, false)).toBe(0);
    put_page_type(g.host, stale); // type L2, count 0, no longer validated
    expect(__get_page_type(g.host, full, PGT_l2_page_table, false)).toBe(0);
    g.host.frameTable.setTypeCount(full, PGT_count_mask);
    for (const m of [l3, stale, full]) {
      const before = counts(g, m);
      expect(get_linear_pagetable(g.host, PGT_l2_page_table, lo(pte(m, P)), 0, self, d)).toBe(false);
      expect(counts(g, m)).toEqual(before);
    }
    g.host.frameTable.setTypeCount(full, PGT_count_mask - 1);
    expect(get_linear_pagetable(g.host, PGT_l2_page_table, lo(pte(full, P)), 0, self, d)).toBe(true);
    // another domain's validated L2: refused by get_page_from_pagenr
    expect(get_linear_pagetable(g.host, PGT_l2_page_table, lo(pte(full, P)), 0, self, d + 1)).toBe(false);
  });
});

describe('get_page_from_l2e superpages (mm.c:973-1010 at 4.2.0, allowsuperpage)', () => {
  it('an aligned superpage takes a reference on each of its 512 frames (and a writable type if RW); put_page_from_l2e gives them back', () => {
    const g = makeGuest({ host: { allowSuperpage: true } });
    const d = g.domain.domid;
    const base = g.domain.pfnToMfn(0x2000);
    expect(base % 512).toBe(0);
    const sample = [0, 1, 255, 511].map((i) => base + i);
    const before = sample.map((m) => counts(g, m));
    for (const flags of [P | PSE, P | PSE | RW]) {
      const e = pte(base, flags);
      expect(get_page_from_l2e(g.host, lo(e), hi(e), freeMfn(g, 0), d)).toBe(0);
      expect(sample.map((m) => counts(g, m))).toEqual(before.map((c) => ({
        ...c, ref: c.ref + 1, ...(flags & RW ? { tc: c.tc + 1, type: PGT_writable_page, validated: true } : {}),
      })));
      expect(put_page_from_l2e(g.host, lo(e), hi(e), freeMfn(g, 0))).toBe(0);
      expect(sample.map((m) => counts(g, m)).map((c) => c.ref)).toEqual(before.map((c) => c.ref));
      expect(sample.map((m) => counts(g, m)).map((c) => c.tc)).toEqual(before.map((c) => c.tc));
    }
  });

  it('a writable superpage over a page table is refused and every frame before it is given back', () => {
    const g = makeGuest({ host: { allowSuperpage: true } });
    const d = g.domain.domid;
    const base = g.domain.pfnToMfn(0x2000);
    expect(__get_page_type(g.host, base + 300, PGT_l1_page_table, false)).toBe(0);
    const sample = [0, 1, 299, 300, 301, 511].map((i) => base + i);
    const before = sample.map((m) => counts(g, m));
    const e = pte(base, P | PSE | RW);
    expect(get_page_from_l2e(g.host, lo(e), hi(e), freeMfn(g, 0), d)).toBe(-EINVAL);
    // the counts are back; frames 0..299 keep the writable type at count 0 (a type outlives its
    // count: __put_page_type only clears the count of a non-page-table type)
    expect(sample.map((m) => [counts(g, m).ref, counts(g, m).tc])).toEqual(before.map((c) => [c.ref, c.tc]));
    expect(counts(g, base + 300)).toEqual(before[3]);
  });

  it('mm.c:1195-1196: put_page_from_l2e of a not-present entry or a self-map gives nothing back (1)', () => {
    const g = makeGuest();
    const l2 = freeMfn(g, 0);
    const before = counts(g, l2);
    expect(put_page_from_l2e(g.host, lo(pte(l2, P)), 0, l2)).toBe(1);
    expect(put_page_from_l2e(g.host, lo(pte(l2, RW)), 0, l2 + 1)).toBe(1);
    expect(counts(g, l2)).toEqual(before);
  });
});

describe('L4 slots and page types', () => {
  it('is_guest_l4_slot (x86_64/page.h:135-139): Xen owns 256..271 (config.h:196-197), the guest every other slot', () => {
    const xen = [...Array(512).keys()].filter((s) => !is_guest_l4_slot(s));
    expect(xen).toEqual([...Array(16).keys()].map((k) => 256 + k));
  });

  it('alloc_l4_table (mm.c:1597-1605): slot 258 maps the L4 itself and slot 260 the per-domain L3, both __PAGE_HYPERVISOR (P|RW|A|D)', () => {
    const g = makeGuest();
    const l4 = freeMfn(g, 0);
    expect(pin(g, 4, l4)).toBe(0);
    const HYP = BigInt(P | RW | A | D); // page.h:350-351
    expect(readEntry(g, l4, 258)).toBe((BigInt(l4) << 12n) | HYP);
    expect(readEntry(g, l4, 260)).toBe((BigInt(g.domain.perdomainL3Mfn) << 12n) | HYP);
    // the guest's own slots: nothing was present, nothing is now
    expect([0, 255, 272, 511].map((s) => readEntry(g, l4, s))).toEqual([0n, 0n, 0n, 0n]);
  });

  it('alloc_page_type (mm.c:2202-2240): L1..L4 and descriptor pages validate; any other type is -EINVAL and leaves no type', () => {
    const g = makeGuest();
    const mfns = [0, 1, 2, 3, 4, 5].map((k) => freeMfn(g, k));
    const types = [PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table, PGT_seg_desc_page];
    types.forEach((t, i) => {
      g.host.frameTable.typeInfo[mfns[i]] = t;
      expect(alloc_page_type(g.host, mfns[i], t, false)).toBe(0);
      expect(counts(g, mfns[i])).toMatchObject({ type: t, validated: true });
    });
    g.host.frameTable.typeInfo[mfns[5]] = 6;
    g.host.frameTable.setTypeCount(mfns[5], 1);
    expect(alloc_page_type(g.host, mfns[5], 6, false)).toBe(-EINVAL);
    expect(counts(g, mfns[5])).toMatchObject({ type: 0, tc: 0, validated: false });
  });
});
