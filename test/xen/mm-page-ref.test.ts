/**
 * lib/xen/mm/page-ref.ts at its edges, as Xen 4.2.0 defines them (written to kill the mutants
 * StrykerJS left alive there; see README "Mutation testing"). Line numbers: xen/arch/x86/mm.c
 * at RELEASE-4.2.0 unless said otherwise.
 * - page_get_owner_and_reference (2141-2157): no reference on a count of 0, -1 or -2 (that is
 *   PGC_count_mask and PGC_count_mask - 1, the last one kept for get_page_light);
 * - get_page (2161-2176): a reference on another domain's frame is given back;
 * - get_page_from_pagenr (689-698): mfn_valid first;
 * - put_page (2120-2138) frees the frame at 0: free_heap_pages clears the owner and the M2P entry
 *   (common/page_alloc.c:682-683);
 * - __get_page_type (2425-2561): overflow when the count would wrap; a type change only at count
 *   0, writable pages validated at once (2486-2490), page tables validated by alloc_page_type;
 *   wrong type -EINVAL, not logged for the three recursive-mapping cases (2493-2507);
 * - __put_page_type (2368-2422): a page table's last type reference devalidates it and releases
 *   what it maps; other types just drop the count;
 * - page_lock (1733-1748): refused unless validated and 0 < count < PGT_count_mask.
 */
import { describe, expect, it } from 'vitest';
import {
  PGC_count_mask, PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table,
  PGT_pinned, PGT_type_mask, PGT_validated, PGT_writable_page, INVALID_M2P_ENTRY, EINVAL, OWNER_NONE,
} from '../../lib/xen';
import { get_page, get_page_from_pagenr, page_get_owner_and_reference, page_lock, put_page } from '../../lib/xen/mm/page-ref';
import {
  __get_page_type, get_page_and_type_from_pagenr, get_page_type, put_page_and_type, put_page_type,
} from '../../lib/xen/mm/validate';
import { P, RW, freeMfn, makeGuest, pin, pte, write, type Guest, counts } from './helpers';

/** A guest on a debug build: every MEM_LOG line is printed (no rate limit). */
function guest(): Guest {
  return makeGuest({ host: { debug: true } });
}
function logSince(g: Guest, mark: number): string[] {
  return g.host.console.since(mark).filter((l) => l.includes('mm.c:'));
}

describe('general references: page_get_owner_and_reference, get_page, put_page', () => {
  it('mm.c:2151: a count of 0 takes no reference', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    g.host.frameTable.setRefCount(mfn, 0);
    expect(page_get_owner_and_reference(g.host, mfn)).toBe(-1);
    expect(get_page(g.host, mfn, g.domain.domid)).toBe(false);
    expect(g.host.frameTable.refCountOf(mfn)).toBe(0);
  });

  it('mm.c:2148-2152: the last two counts before the wrap are never handed out; the one before them is', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    const ft = g.host.frameTable;
    ft.setRefCount(mfn, PGC_count_mask - 2);
    expect(page_get_owner_and_reference(g.host, mfn)).toBe(g.domain.domid);
    expect(ft.refCountOf(mfn)).toBe(PGC_count_mask - 1);
    expect(page_get_owner_and_reference(g.host, mfn)).toBe(-1); // -2: kept for get_page_light
    expect(get_page(g.host, mfn, g.domain.domid)).toBe(false);
    expect(ft.refCountOf(mfn)).toBe(PGC_count_mask - 1);
    ft.setRefCount(mfn, PGC_count_mask);
    expect(page_get_owner_and_reference(g.host, mfn)).toBe(-1); // -1: would wrap
    expect(get_page(g.host, mfn, g.domain.domid)).toBe(false);
    expect(ft.refCountOf(mfn)).toBe(PGC_count_mask);
    ft.setRefCount(mfn, PGC_count_mask - 2);
    expect(get_page(g.host, mfn, g.domain.domid)).toBe(true);
    expect(ft.refCountOf(mfn)).toBe(PGC_count_mask - 1);
  });

  it('mm.c:2141-2157: the reference is taken whoever owns the frame; the owner is returned (none: NULL)', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    const ft = g.host.frameTable;
    expect(page_get_owner_and_reference(g.host, mfn)).toBe(g.domain.domid);
    expect(ft.refCountOf(mfn)).toBe(2);
    ft.assign(mfn, 7);
    expect(page_get_owner_and_reference(g.host, mfn)).toBe(7);
    expect(ft.refCountOf(mfn)).toBe(2);
    // a referenced frame with no owner (page_get_owner NULL): the reference is still taken
    ft.owner[mfn] = OWNER_NONE;
    expect(page_get_owner_and_reference(g.host, mfn)).toBe(-1);
    expect(ft.refCountOf(mfn)).toBe(3);
  });

  it('mm.c:2161-2176: get_page on another domain\'s frame gives its reference back and fails', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    expect(get_page(g.host, mfn, g.domain.domid + 1)).toBe(false);
    expect(g.host.frameTable.refCountOf(mfn)).toBe(1);
    expect(get_page(g.host, mfn, g.domain.domid)).toBe(true);
    expect(g.host.frameTable.refCountOf(mfn)).toBe(2);
  });

  it('mm.c:689-698: get_page_from_pagenr refuses a frame beyond the frame table (mfn_valid) and logs it', () => {
    const g = guest();
    const max = g.host.frameTable.maxPage;
    const mark = g.host.console.lines.length;
    expect(get_page_from_pagenr(g.host, max, g.domain.domid)).toBe(false);
    expect(logSince(g, mark).join('')).toContain(`Could not get page ref for pfn ${max.toString(16)}`);
    expect(get_page_from_pagenr(g.host, freeMfn(g, 0), g.domain.domid)).toBe(true);
    expect(get_page_from_pagenr(g.host, freeMfn(g, 0), g.domain.domid + 1)).toBe(false);
  });

  it('mm.c:2131-2136 and page_alloc.c:682-683: the last put_page frees the frame (no owner, no M2P entry); earlier ones only count down', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    expect(get_page(g.host, mfn, g.domain.domid)).toBe(true);
    put_page(g.host, mfn);
    expect(g.host.pageInfo(mfn)).toMatchObject({ owner: g.domain.domid, refCount: 1 });
    expect(g.host.m2p.entry(mfn)).not.toBe(INVALID_M2P_ENTRY);
    put_page(g.host, mfn);
    expect(g.host.pageInfo(mfn)).toMatchObject({ owner: null, refCount: 0, typeCount: 0 });
    expect(g.host.m2p.entry(mfn)).toBe(INVALID_M2P_ENTRY);
  });
});

describe('type references: __get_page_type, put_page_type, page_lock', () => {
  it('mm.c:2436-2440: the type count overflows at PGT_count_mask, not before; nothing changes', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    const ft = g.host.frameTable;
    expect(__get_page_type(g.host, mfn, PGT_writable_page, false)).toBe(0);
    ft.setTypeCount(mfn, PGT_count_mask - 1);
    expect(__get_page_type(g.host, mfn, PGT_writable_page, false)).toBe(0);
    expect(ft.typeCountOf(mfn)).toBe(PGT_count_mask);
    const mark = g.host.console.lines.length;
    expect(__get_page_type(g.host, mfn, PGT_writable_page, false)).toBe(-EINVAL);
    expect(ft.typeCountOf(mfn)).toBe(PGT_count_mask);
    expect(logSince(g, mark).join('')).toContain(`Type count overflow on pfn ${mfn.toString(16)}`);
  });

  it('mm.c:2476-2490: at count 0 a writable page takes its type validated, without looking at its contents', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    // contents that would fail any page-table validation: a writable self-map
    g.host.memory.words(mfn)[0] = (mfn * 4096 + (P | RW)) >>> 0;
    expect(get_page_type(g.host, mfn, PGT_writable_page)).toBe(true);
    expect(counts(g, mfn)).toEqual({ ref: 1, type: PGT_writable_page, tc: 1, validated: true });
  });

  it('mm.c:2486-2490, 2551-2558: at count 0 a page-table type is validated (alloc_page_type); a failure leaves no type and no count', () => {
    const g = guest();
    const [good, bad] = [freeMfn(g, 0), freeMfn(g, 1)];
    expect(__get_page_type(g.host, good, PGT_l1_page_table, false)).toBe(0);
    expect(counts(g, good)).toEqual({ ref: 1, type: PGT_l1_page_table, tc: 1, validated: true });
    g.host.memory.words(bad)[0] = (bad * 4096 + (P | RW)) >>> 0; // maps itself writable: -EBUSY from get_page_from_l1e
    expect(__get_page_type(g.host, bad, PGT_l1_page_table, false)).toBeLessThan(0);
    expect(counts(g, bad)).toEqual({ ref: 1, type: 0, tc: 0, validated: false });
  });

  it('mm.c:2476-2490: at count 0 the same type keeps its validation: a validated type is not checked again', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    const ft = g.host.frameTable;
    expect(__get_page_type(g.host, mfn, PGT_writable_page, false)).toBe(0);
    put_page_type(g.host, mfn);
    expect(counts(g, mfn)).toEqual({ ref: 1, type: PGT_writable_page, tc: 0, validated: true });
    expect(__get_page_type(g.host, mfn, PGT_writable_page, false)).toBe(0);
    expect(ft.typeCountOf(mfn)).toBe(1);
  });

  it('mm.c:2493-2507: a use in another type is refused while the count is not 0 (logged, but not for L2-as-L1, L3-as-L2, L4-as-L3)', () => {
    const g = guest();
    const levels = [PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table, PGT_writable_page];
    levels.forEach((held, k) => {
      const mfn = freeMfn(g, k);
      expect(__get_page_type(g.host, mfn, held, false)).toBe(0);
      for (const asked of levels) {
        if (asked === held) continue;
        const before = counts(g, mfn);
        const mark = g.host.console.lines.length;
        expect(__get_page_type(g.host, mfn, asked, false)).toBe(-EINVAL);
        expect(counts(g, mfn)).toEqual(before);
        const recursive = held >= PGT_l2_page_table && held <= PGT_l4_page_table && asked === held - 1;
        expect({ held, asked, logged: logSince(g, mark).some((l) => l.includes('Bad type')) }).toEqual({ held, asked, logged: !recursive });
      }
    });
  });

  it('mm.c:2368-2400: the last type reference of a page table devalidates it, releases what it maps and unpins; the type stays', () => {
    const g = guest();
    const [l2, l1] = [freeMfn(g, 0), freeMfn(g, 1)];
    const data = g.domain.pfnToMfn(0x10);
    const dataTc = counts(g, data).tc; // the bootstrap tables already map it writable
    expect(write(g, l1, 0, pte(data, P | RW))).toBe(0);
    expect(write(g, l2, 3, pte(l1, P))).toBe(0);
    expect(pin(g, 2, l2)).toBe(0);
    const ft = g.host.frameTable;
    expect(ft.typeInfo[l2] & PGT_pinned).toBe(PGT_pinned);
    expect(counts(g, l1)).toMatchObject({ type: PGT_l1_page_table, tc: 1, validated: true });
    expect(counts(g, data)).toMatchObject({ type: PGT_writable_page, tc: dataTc + 1 });
    // drop the pin's type reference directly: the L2 goes to count 0
    put_page_type(g.host, l2);
    expect(counts(g, l2)).toMatchObject({ type: PGT_l2_page_table, tc: 0, validated: false });
    expect(ft.typeInfo[l2] & PGT_pinned).toBe(0);
    expect(counts(g, l1)).toMatchObject({ type: PGT_l1_page_table, tc: 0, validated: false, ref: 1 });
    expect(counts(g, data)).toMatchObject({ type: PGT_writable_page, tc: dataTc });
  });

  it('mm.c:2368-2422: a page table with more than one type reference, or a writable page, only counts down', () => {
    const g = guest();
    const [l1, w] = [freeMfn(g, 0), freeMfn(g, 1)];
    const data = g.domain.pfnToMfn(0x10);
    const dataTc = counts(g, data).tc;
    expect(write(g, l1, 0, pte(data, P | RW))).toBe(0);
    expect(__get_page_type(g.host, l1, PGT_l1_page_table, false)).toBe(0);
    expect(__get_page_type(g.host, l1, PGT_l1_page_table, false)).toBe(0);
    put_page_type(g.host, l1);
    expect(counts(g, l1)).toMatchObject({ tc: 1, validated: true });
    expect(counts(g, data)).toMatchObject({ tc: dataTc + 1 }); // still mapped writable by the L1
    expect(__get_page_type(g.host, w, PGT_writable_page, false)).toBe(0);
    expect(__get_page_type(g.host, w, PGT_writable_page, false)).toBe(0);
    put_page_type(g.host, w);
    put_page_type(g.host, w);
    expect(counts(g, w)).toEqual({ ref: 1, type: PGT_writable_page, tc: 0, validated: true });
  });

  it('mm.c:1733-1748: page_lock needs a validated frame with 0 < count < PGT_count_mask', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    const ft = g.host.frameTable;
    expect(page_lock(g.host, mfn)).toBe(false); // count 0, not validated
    expect(__get_page_type(g.host, mfn, PGT_l1_page_table, false)).toBe(0);
    expect(page_lock(g.host, mfn)).toBe(true);
    ft.setTypeCount(mfn, PGT_count_mask - 1);
    expect(page_lock(g.host, mfn)).toBe(true);
    ft.setTypeCount(mfn, PGT_count_mask);
    expect(page_lock(g.host, mfn)).toBe(false); // nx's count would wrap
    ft.setTypeCount(mfn, 1);
    ft.typeInfo[mfn] &= ~PGT_validated;
    expect(page_lock(g.host, mfn)).toBe(false);
    ft.typeInfo[mfn] |= PGT_validated;
    ft.setTypeCount(mfn, 0);
    expect(page_lock(g.host, mfn)).toBe(false);
  });

  it('mm.c:702-723: get_page_and_type_from_pagenr gives the general reference back when the type fails', () => {
    const g = guest();
    const mfn = freeMfn(g, 0);
    expect(__get_page_type(g.host, mfn, PGT_writable_page, false)).toBe(0);
    expect(get_page_and_type_from_pagenr(g.host, mfn, PGT_l1_page_table, g.domain.domid, false)).toBe(-EINVAL);
    expect(counts(g, mfn)).toMatchObject({ ref: 1, tc: 1, type: PGT_writable_page });
    expect(get_page_and_type_from_pagenr(g.host, mfn, PGT_writable_page, g.domain.domid + 1, false)).toBe(-EINVAL);
    expect(counts(g, mfn)).toMatchObject({ ref: 1, tc: 1 });
    expect(get_page_and_type_from_pagenr(g.host, mfn, PGT_writable_page, g.domain.domid, false)).toBe(0);
    expect(counts(g, mfn)).toMatchObject({ ref: 2, tc: 2 });
    put_page_and_type(g.host, mfn);
    expect(counts(g, mfn)).toMatchObject({ ref: 1, tc: 1 });
  });
});
