/**
 * lib/xen/mm/new-guest-cr3.ts against Xen 4.2.0's new_guest_cr3 (xen/arch/x86/mm.c:2798-2856 at
 * RELEASE-4.2.0) for a 64-bit PV vCPU: take an L4 type reference on the new base
 * (get_page_and_type_from_pagenr, 2831-2833), set guest_table, update_cr3 and write_ptbase
 * (2844-2847), then drop the old base's references (2849-2854). There is no shortcut for the base
 * the vCPU already has: that call reloads CR3 too, and its counts end where they were because the
 * new reference is taken before the old one is dropped.
 */
import { describe, expect, it } from 'vitest';
import { EINVAL, MMUEXT_NEW_BASEPTR, MMUEXT_PIN_L4_TABLE, MMUEXT_UNPIN_TABLE } from '../../lib/xen';
import { freeMfn, makeGuest, readEntry, write, type Guest } from './helpers';

const op = (g: Guest, o: object): number => g.vcpu.HYPERVISOR_mmuext_op([o as never]);
const loads = (g: Guest) => g.trace.events.filter((e) => e.type === 'cr3-load');

/** A fresh L4 (not pinned) that shares the bootstrap L3 in slot 511, so the kernel stays mapped. */
function newL4(g: Guest, k = 1): number {
  const l4 = freeMfn(g, k);
  expect(write(g, l4, 511, readEntry(g, g.vcpu.guestTable, 511))).toBe(0);
  return l4;
}

describe('new_guest_cr3 (MMUEXT_NEW_BASEPTR), Xen 4.2.0', () => {
  it('reloads CR3 for the base the vCPU already has (write_ptbase), counts unchanged', () => {
    const g = makeGuest();
    const base = g.vcpu.guestTable;
    const before = g.host.pageInfo(base);
    const n = loads(g).length;
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: base })).toBe(0);
    expect(g.vcpu.guestTable).toBe(base);
    // one more CR3 load, by new_guest_cr3, of the base's machine address
    expect(loads(g).slice(n)).toEqual([
      expect.objectContaining({ value: (BigInt(base) * 4096n).toString(16).padStart(16, '0'), by: 'new_guest_cr3' }),
    ]);
    expect(g.host.pageInfo(base)).toEqual(before);
  });

  it('an unpinned base held only by guest_table survives a reload of itself (reference taken before the old one is dropped)', () => {
    const g = makeGuest();
    const l4 = newL4(g);
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: l4 })).toBe(0);
    const held = g.host.pageInfo(l4);
    expect(held).toMatchObject({ type: 'PGT_l4_page_table', typeCount: 1, validated: true, pinned: false });
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: l4 })).toBe(0);
    expect(g.host.pageInfo(l4)).toEqual(held);
    expect(g.vcpu.read64(0xffff80000000 + 0x1000 * 4096)).toBe(0x1000n); // the kernel is still mapped
  });

  it('switching away from an unpinned base frees its type (free_l4_table); a pinned one keeps it', () => {
    const g = makeGuest();
    const boot = g.vcpu.guestTable;
    const a = newL4(g, 1);
    const b = newL4(g, 2);
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: a })).toBe(0);
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: b })).toBe(0);
    expect(g.host.pageInfo(a)).toMatchObject({ typeCount: 0, validated: false });
    // b pinned as well as held: leaving it keeps one type reference, the pin's
    expect(op(g, { cmd: MMUEXT_PIN_L4_TABLE, mfn: b })).toBe(0);
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: boot })).toBe(0);
    expect(g.host.pageInfo(b)).toMatchObject({ typeCount: 1, validated: true, pinned: true });
    expect(op(g, { cmd: MMUEXT_UNPIN_TABLE, mfn: b })).toBe(0);
    expect(g.host.pageInfo(b)).toMatchObject({ typeCount: 0, validated: false });
  });

  it('a refused base (-EINVAL) loads nothing and leaves guest_table and the counts alone', () => {
    const g = makeGuest();
    const base = g.vcpu.guestTable;
    const before = g.host.pageInfo(base);
    const n = loads(g).length;
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: g.domain.pfnToMfn(0x10) })).toBe(-EINVAL); // mapped writable
    expect(g.vcpu.guestTable).toBe(base);
    expect(loads(g)).toHaveLength(n);
    expect(g.host.pageInfo(base)).toEqual(before);
  });
});

describe('new_guest_cr3 with no base yet (guest_table 0, mm.c:2849)', () => {
  it('a vCPU without a base takes the new one and drops nothing (frame 0 untouched)', () => {
    const g = makeGuest();
    const l4 = newL4(g);
    // as before the toolstack's arch_set_info_guest: no kernel base pointer
    const boot = g.vcpu.guestTable;
    g.vcpu.guestTable = 0;
    const zero = g.host.pageInfo(0);
    const bootInfo = g.host.pageInfo(boot);
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: l4 })).toBe(0);
    expect(g.vcpu.guestTable).toBe(l4);
    expect(g.host.pageInfo(0)).toEqual(zero);
    expect(g.host.pageInfo(boot)).toEqual(bootInfo);
    expect(g.host.pageInfo(l4)).toMatchObject({ type: 'PGT_l4_page_table', typeCount: 1, validated: true });
  });
});
