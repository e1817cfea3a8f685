/**
 * Type and reference counting as __get_page_type / __put_page_type, alloc_l*_table and
 * free_l*_table keep them (xen/arch/x86/mm.c), the write-emulation path (ptwr_emulated_update),
 * and the crash's place in the x86 contract (DomainCrashed extends GuestHalted).
 */
import { describe, expect, it } from 'vitest';
import { GuestHalted } from '../../lib/x86';
import {
  DomainCrashed, EBUSY, EINVAL, MMUEXT_NEW_BASEPTR, MMUEXT_NEW_USER_BASEPTR, MMUEXT_UNPIN_TABLE, VMASST_CMD_enable,
  VMASST_TYPE_writable_pagetables,
} from '../../lib/xen';
import { A, P, RW, freeMfn, makeGuest, pin, pte, readEntry, vaOfPfn, write, type Guest } from './helpers';

describe('__get_page_type / __put_page_type', () => {
  it('a failing L4 validation deep in the tree releases everything it had taken (alloc_l4_table, alloc_l3_table)', () => {
    const g = makeGuest();
    const [l4, l3a, l3b, l2] = [0, 1, 2, 3].map((k) => freeMfn(g, k));
    const data = g.domain.pfnToMfn(0x10);
    const before = [l3a, l3b, l2, data].map((m) => g.host.pageInfo(m));
    expect(write(g, l2, 0, 0n)).toBe(0);
    expect(write(g, l3a, 0, pte(l2, P | RW))).toBe(0); // fine
    expect(write(g, l3b, 0, pte(data, P | RW))).toBe(0); // data page as an L2: refused below
    expect(write(g, l4, 0, pte(l3a, P | RW))).toBe(0);
    expect(write(g, l4, 1, pte(l3b, P | RW))).toBe(0);
    expect(pin(g, 4, l4)).toBe(-EINVAL);
    expect([l3a, l3b, l2, data].map((m) => ({ ...g.host.pageInfo(m), type: undefined }))).toEqual(before.map((i) => ({ ...i, type: undefined })));
    expect(g.host.pageInfo(l4)).toMatchObject({ typeCount: 0, refCount: 1, validated: false });
  });

  it('a table shared by two parents is validated once and freed when the last reference goes', () => {
    const g = makeGuest();
    const [l2a, l2b, l1] = [0, 1, 2].map((k) => freeMfn(g, k));
    expect(write(g, l1, 0, pte(g.domain.pfnToMfn(0x10), P | RW))).toBe(0);
    expect(pin(g, 2, l2a)).toBe(0);
    expect(pin(g, 2, l2b)).toBe(0);
    expect(write(g, l2a, 0, pte(l1, P | RW))).toBe(0);
    expect(write(g, l2b, 7, pte(l1, P | RW))).toBe(0);
    expect(g.host.pageInfo(l1)).toMatchObject({ type: 'PGT_l1_page_table', typeCount: 2, validated: true });
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_UNPIN_TABLE, mfn: l2a }])).toBe(0);
    expect(g.host.pageInfo(l1)).toMatchObject({ typeCount: 1, validated: true });
    expect(write(g, l2b, 7, 0n)).toBe(0);
    expect(g.host.pageInfo(l1)).toMatchObject({ typeCount: 0, validated: false });
  });

  it('a frame in use as a page table cannot be pinned as another level, nor mapped writable, until freed', () => {
    const g = makeGuest();
    const l3 = freeMfn(g, 0);
    expect(pin(g, 3, l3)).toBe(0);
    expect(pin(g, 2, l3)).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_update_va_mapping(BigInt(vaOfPfn(0x1100)) | 0xffff000000000000n, pte(l3, P | RW | A), 0)).toBe(-EBUSY);
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_UNPIN_TABLE, mfn: l3 }])).toBe(0);
    expect(pin(g, 2, l3)).toBe(0);
  });
});

// RELEASE-4.2.0 xen/arch/x86/mm.c: get_page_and_type_from_pagenr (703-724) returns the type's
// own error only when preemptible; otherwise `get_page_type(...) ? 0 : -EINVAL` (716-718).
// get_page_from_l2e takes the L1 type non-preemptibly (990), so whatever fails inside an L1
// comes out of an L2 as -EINVAL, and from there up (mod_l3/l4_entry, 2009 and 2080, get
// preemptible = 1 from do_mmu_update, 3609-3610 and 3614-3615, but all they see is the L2's -EINVAL).
// new_guest_cr3 returns okay or not (2828-2835), do_mmuext_op makes that -EINVAL (3413). Only
// MMUEXT_PIN_L1_TABLE (get_page_type_preemptible, 3064) returns alloc_l1_table's -EBUSY.
describe('nested validation failures: -EINVAL from an L2 up (Xen 4.2.0)', () => {
  /** An L1 mapping the live L4 writable (cannot validate), under an L2, L3 and L4 of free frames. */
  const tree = (g: Guest): number[] => {
    const [l4, l3, l2, l1] = [0, 1, 2, 3].map((k) => freeMfn(g, k));
    expect(write(g, l1, 0, pte(g.vcpu.guestTable, P | RW))).toBe(0);
    expect(write(g, l2, 0, pte(l1, P | RW))).toBe(0);
    expect(write(g, l3, 0, pte(l2, P | RW))).toBe(0);
    expect(write(g, l4, 0, pte(l3, P | RW))).toBe(0);
    return [l4, l3, l2, l1];
  };

  it('PIN_L1 is -EBUSY; PIN_L2, PIN_L3, PIN_L4 and NEW_BASEPTR over it are -EINVAL', () => {
    const g = makeGuest();
    const [l4, l3, l2, l1] = tree(g);
    expect(pin(g, 1, l1)).toBe(-EBUSY);
    expect(pin(g, 2, l2)).toBe(-EINVAL);
    expect(pin(g, 3, l3)).toBe(-EINVAL);
    expect(pin(g, 4, l4)).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_NEW_BASEPTR, mfn: l4 }])).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_NEW_USER_BASEPTR, mfn: l4 }])).toBe(-EINVAL);
  });

  it('an mmu_update of an L2, L3 or L4 entry over the bad L1 is -EINVAL', () => {
    const g = makeGuest();
    const [, l3, l2, l1] = tree(g);
    const [p2, p3, p4] = [4, 5, 6].map((k) => freeMfn(g, k));
    expect(pin(g, 2, p2)).toBe(0);
    expect(pin(g, 3, p3)).toBe(0);
    expect(pin(g, 4, p4)).toBe(0);
    expect(write(g, p2, 1, pte(l1, P | RW))).toBe(-EINVAL);
    expect(write(g, p3, 1, pte(l2, P | RW))).toBe(-EINVAL);
    expect(write(g, p4, 1, pte(l3, P | RW))).toBe(-EINVAL);
  });
});

describe('ptwr_emulated_update', () => {
  it('merges a 4-byte store into the full entry and validates the result', () => {
    const g = makeGuest();
    const v = g.vcpu;
    expect(v.HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables)).toBe(0);
    const l1pfn = g.layout.pgtables.pfn + 3;
    const l1mfn = g.domain.pfnToMfn(l1pfn);
    const target = g.domain.pfnToMfn(0x40);
    // low half: a read-only mapping of pfn 0x40 (the high half, 0x00100000 GUEST_KERNEL, stays)
    v.write32(vaOfPfn(l1pfn) + 9 * 8, ((target % 0x100000) * 4096 + (P | A)) >>> 0);
    expect(Number((readEntry(g, l1mfn, 9) >> 12n) & 0xfffffffn)).toBe(target);
    // a store that would map a page table writable is not emulated: the guest faults (no handler: crash)
    expect(() => v.write64(vaOfPfn(l1pfn) + 10 * 8, pte(l1mfn, P | RW))).toThrowError(DomainCrashed);
  });
});

describe('DomainCrashed', () => {
  it('is a GuestHalted carrying the domain, vCPU, CPU and the lines printed', () => {
    const g = makeGuest({ domid: 9, pcpu: 1 });
    let e: unknown;
    try { g.vcpu.read64(Number(0xffffea0000000000n & 0xffffffffffffn)); } catch (err) { e = err; }
    expect(e).toBeInstanceOf(GuestHalted);
    expect(e).toBeInstanceOf(DomainCrashed);
    const d = e as DomainCrashed;
    expect([d.domid, d.vcpuId, d.pcpu]).toEqual([9, 0, 1]);
    expect(d.lines[0]).toBe('(XEN) d9:v0: unhandled page fault (ec=0000)');
    expect(d.reason).toBe('domain_crash_sync called from entry.S');
  });
});
