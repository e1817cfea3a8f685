/**
 * HYPERVISOR_mmuext_op (do_mmuext_op, new_guest_cr3) and the type/reference counting it drives
 * (__get_page_type, __put_page_type, alloc_l*_table, free_l*_table in xen/arch/x86/mm.c).
 */
import { describe, expect, it } from 'vitest';
import {
  EINVAL, ENOSYS, ESRCH, MMUEXT_CLEAR_PAGE, MMUEXT_COPY_PAGE, MMUEXT_FLUSH_CACHE, MMUEXT_FLUSH_CACHE_GLOBAL,
  MMUEXT_INVLPG_ALL, MMUEXT_INVLPG_LOCAL, MMUEXT_INVLPG_MULTI, MMUEXT_MARK_SUPER, MMUEXT_NEW_BASEPTR,
  MMUEXT_NEW_USER_BASEPTR, MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L4_TABLE, MMUEXT_SET_LDT, MMUEXT_TLB_FLUSH_ALL,
  MMUEXT_TLB_FLUSH_LOCAL, MMUEXT_TLB_FLUSH_MULTI, MMUEXT_UNPIN_TABLE,
} from '../../lib/xen';
import { expectSaneXenInputs, xenSlotsFromSource } from './oracle-xen-slots';
import { P, RW, A, US, entryPtr, freeMfn, makeGuest, pin, pinnedL1, pte, readEntry, write, type Guest } from './helpers';

const op = (g: Guest, o: object): number => g.vcpu.HYPERVISOR_mmuext_op([o as never]);

describe('MMUEXT_PIN_L*_TABLE / MMUEXT_UNPIN_TABLE', () => {
  it('pinning validates the frame, holds a type and a general reference; unpinning frees the type', () => {
    const g = makeGuest();
    const target = g.domain.pfnToMfn(0x10);
    const t0 = g.host.pageInfo(target);
    const l1 = pinnedL1(g); // maps pfn 0x10 RW
    expect(g.host.pageInfo(l1)).toMatchObject({ type: 'PGT_l1_page_table', typeCount: 1, pinned: true, validated: true, refCount: 2 });
    expect(g.host.pageInfo(target).typeCount).toBe(t0.typeCount + 1);
    expect(op(g, { cmd: MMUEXT_UNPIN_TABLE, mfn: l1 })).toBe(0);
    expect(g.host.pageInfo(l1)).toMatchObject({ type: 'PGT_l1_page_table', typeCount: 0, pinned: false, validated: false, refCount: 1 });
    expect(g.host.pageInfo(target)).toEqual(t0); // free_l1_table dropped the entry's references
    // the frame can now be used as anything else, e.g. mapped writable
    expect(write(g, pinnedL1(g, 3), 1, pte(l1, P | RW))).toBe(0);
    expect(g.host.pageInfo(l1).type).toBe('PGT_writable_page');
  });

  it('refuses to pin twice: -EINVAL ("Mfn %lx already pinned"), with the counts unchanged', () => {
    const g = makeGuest();
    const l1 = pinnedL1(g);
    const before = g.host.pageInfo(l1);
    expect(pin(g, 1, l1)).toBe(-EINVAL);
    expect(g.host.pageInfo(l1)).toEqual(before);
  });

  it('refuses to pin a frame that is not the domain\'s (-EINVAL) and to unpin one not pinned (-EINVAL)', () => {
    const g = makeGuest();
    expect(pin(g, 1, 0x300)).toBe(-EINVAL);
    expect(op(g, { cmd: MMUEXT_UNPIN_TABLE, mfn: freeMfn(g, 0) })).toBe(-EINVAL);
  });

  // RELEASE-4.2.0 xen/arch/x86/mm.c:3117-3122: a failed get_page_from_gfn in MMUEXT_UNPIN_TABLE
  // logs "Mfn %lx bad domain" and breaks with `okay` still 1: the op succeeds. RELEASE-4.2.2
  // mm.c:3131-3138 adds `okay = 0`: -EINVAL.
  it('4.2.0 lets an unpin of a frame that is not the domain\'s succeed (logged); 4.2.2 refuses it', () => {
    const g0 = makeGuest({ domid: 2 });
    expect(op(g0, { cmd: MMUEXT_UNPIN_TABLE, mfn: 0x300 })).toBe(0);
    expect(g0.host.console.lines).toEqual(['(XEN) mm.c:3120:d2 Mfn 300 bad domain']);
    const g2 = makeGuest({ domid: 2, host: { release: '4.2.2' } });
    expect(op(g2, { cmd: MMUEXT_UNPIN_TABLE, mfn: 0x300 })).toBe(-EINVAL);
    expect(g2.host.console.lines).toEqual(['(XEN) mm.c:3135:d2 Mfn 300 bad domain']);
  });

  it('refuses to pin as a page table a frame in use as something else (type count > 0): -EINVAL', () => {
    const g = makeGuest();
    const dataMfn = g.domain.pfnToMfn(0x10); // mapped writable by the bootstrap tables
    expect(pin(g, 1, dataMfn)).toBe(-EINVAL);
    const l1 = pinnedL1(g);
    expect(pin(g, 2, l1)).toBe(-EINVAL); // an L1 is not an L2
  });

  it('a failing validation returns the entry\'s error and leaves nothing taken (alloc_l1_table undoes)', () => {
    const g = makeGuest();
    const l1 = freeMfn(g, 0);
    const ok = g.domain.pfnToMfn(0x11);
    const okBefore = g.host.pageInfo(ok);
    expect(write(g, l1, 0, pte(ok, P | RW))).toBe(0);
    expect(write(g, l1, 1, pte(g.vcpu.guestTable, P | RW))).toBe(0); // an RW map of the L4: invalid in a table
    expect(pin(g, 1, l1)).toBe(-16); // -EBUSY from get_page_from_l1e
    expect(g.host.pageInfo(l1)).toMatchObject({ type: 'PGT_none', typeCount: 0, pinned: false, validated: false });
    expect(g.host.pageInfo(ok)).toEqual(okBefore);
  });

  it('pins a whole new tree from the top (L4 -> L3 -> L2 -> L1), copying Xen\'s slots into the L4', () => {
    const g = makeGuest();
    const [l4, l3, l2, l1] = [1, 2, 3, 4].map((k) => freeMfn(g, k));
    expect(write(g, l1, 0, pte(g.domain.pfnToMfn(0x10), P | RW))).toBe(0);
    expect(write(g, l2, 0, pte(l1, P | RW))).toBe(0);
    expect(write(g, l3, 0, pte(l2, P | RW))).toBe(0);
    expect(write(g, l4, 0, pte(l3, P | RW))).toBe(0);
    expect(write(g, l4, 257, 0xdeadbeef000n | 1n)).toBe(0); // junk in a Xen slot is overwritten, not refused
    expect(pin(g, 4, l4)).toBe(0);
    for (const [m, t] of [[l3, 'PGT_l3_page_table'], [l2, 'PGT_l2_page_table'], [l1, 'PGT_l1_page_table']] as const) {
      expect(g.host.pageInfo(m)).toMatchObject({ type: t, typeCount: 1, validated: true, pinned: false });
    }
    const words = g.host.memory.words(l4).subarray(512, 544);
    expect([...words]).toEqual([...xenSlotsFromSource(g.host, l4, g.domain.perdomainL3Mfn)]); // alloc_l4_table's rule, from the source
    expectSaneXenInputs(g.host, g.domain.perdomainL3Mfn);
    // unpinning the root releases the whole tree
    expect(op(g, { cmd: MMUEXT_UNPIN_TABLE, mfn: l4 })).toBe(0);
    for (const m of [l4, l3, l2, l1]) expect(g.host.pageInfo(m)).toMatchObject({ typeCount: 0, validated: false });
  });
});

describe('MMUEXT_NEW_BASEPTR (new_guest_cr3) and MMUEXT_NEW_USER_BASEPTR', () => {
  it('switches guest_table to a new L4 (validating it), drops the old base\'s references', () => {
    const g = makeGuest();
    const old = g.vcpu.guestTable;
    const oldInfo = g.host.pageInfo(old);
    const l4 = freeMfn(g, 1);
    // the new L4 shares the bootstrap L3 (slot 511) so the kernel stays mapped
    expect(write(g, l4, 511, readEntry(g, old, 511))).toBe(0);
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: l4 })).toBe(0);
    expect(g.vcpu.guestTable).toBe(l4);
    expect(g.host.pageInfo(l4)).toMatchObject({ type: 'PGT_l4_page_table', typeCount: 1, validated: true });
    expect(g.host.pageInfo(old)).toMatchObject({ typeCount: oldInfo.typeCount - 1, refCount: oldInfo.refCount - 1, pinned: true });
    expect(g.trace.events.filter((e) => e.type === 'cr3-load')).toHaveLength(2);
    // the guest still runs: its kernel mapping is there
    expect(g.vcpu.read64(0xffff80000000 + 0x1000 * 4096)).toBe(0x1000n);
  });

  it('refuses a base that cannot be an L4 (-EINVAL) and keeps the old one', () => {
    const g = makeGuest();
    const old = g.vcpu.guestTable;
    const l1 = pinnedL1(g);
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: l1 })).toBe(-EINVAL);
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: 0x300 })).toBe(-EINVAL);
    expect(g.vcpu.guestTable).toBe(old);
    expect(op(g, { cmd: MMUEXT_NEW_BASEPTR, mfn: old })).toBe(0); // the same base: just a reload
  });

  it('sets and clears the user base pointer (mfn 0 clears; an L4 type reference held meanwhile)', () => {
    const g = makeGuest();
    const l4 = freeMfn(g, 1);
    expect(op(g, { cmd: MMUEXT_NEW_USER_BASEPTR, mfn: l4 })).toBe(0);
    expect(g.vcpu.guestTableUser).toBe(l4);
    expect(g.host.pageInfo(l4)).toMatchObject({ type: 'PGT_l4_page_table', typeCount: 1 });
    expect(op(g, { cmd: MMUEXT_NEW_USER_BASEPTR, mfn: 0 })).toBe(0);
    expect(g.vcpu.guestTableUser).toBe(0);
    expect(g.host.pageInfo(l4)).toMatchObject({ typeCount: 0, validated: false });
    expect(op(g, { cmd: MMUEXT_NEW_USER_BASEPTR, mfn: g.domain.pfnToMfn(0x10) })).toBe(-EINVAL);
  });
});

describe('the other commands', () => {
  it('TLB flushes and INVLPG succeed; the *_MULTI forms need a vCPU mask (else -EINVAL)', () => {
    const g = makeGuest();
    for (const cmd of [MMUEXT_TLB_FLUSH_LOCAL, MMUEXT_TLB_FLUSH_ALL]) expect(op(g, { cmd })).toBe(0);
    for (const cmd of [MMUEXT_INVLPG_LOCAL, MMUEXT_INVLPG_ALL]) expect(op(g, { cmd, linear_addr: 0xffffffff81000000n })).toBe(0);
    expect(op(g, { cmd: MMUEXT_TLB_FLUSH_MULTI })).toBe(-EINVAL);
    expect(op(g, { cmd: MMUEXT_INVLPG_MULTI, vcpumask: [0], linear_addr: 0x1000n })).toBe(0);
    expect(g.trace.counters.mmuextOps.MMUEXT_TLB_FLUSH_LOCAL).toBe(1);
  });

  it('a domU may not flush caches (-EINVAL); an unknown command is -ENOSYS; superpage marks need allowsuperpage (-ENOSYS)', () => {
    const g = makeGuest();
    expect(op(g, { cmd: MMUEXT_FLUSH_CACHE })).toBe(-EINVAL);
    expect(op(g, { cmd: MMUEXT_FLUSH_CACHE_GLOBAL })).toBe(-EINVAL);
    expect(op(g, { cmd: 14 })).toBe(-ENOSYS);
    expect(op(g, { cmd: 99 })).toBe(-ENOSYS);
    expect(op(g, { cmd: MMUEXT_MARK_SUPER, mfn: 512 })).toBe(-ENOSYS);
    expect(op(g, { cmd: MMUEXT_MARK_SUPER, mfn: 513 })).toBe(-EINVAL);
  });

  it('SET_LDT checks its arguments; CLEAR_PAGE and COPY_PAGE need writable-typeable frames of the domain', () => {
    const g = makeGuest();
    expect(op(g, { cmd: MMUEXT_SET_LDT, linear_addr: 0x1001n, nr_ents: 1 })).toBe(-EINVAL);
    expect(op(g, { cmd: MMUEXT_SET_LDT, linear_addr: 0x1000n, nr_ents: 8193 })).toBe(-EINVAL);
    expect(op(g, { cmd: MMUEXT_SET_LDT, linear_addr: 0xffff810000000000n, nr_ents: 1 })).toBe(-EINVAL);
    expect(op(g, { cmd: MMUEXT_SET_LDT, linear_addr: 0x1000n, nr_ents: 16 })).toBe(0);
    const src = g.domain.pfnToMfn(0x1000); // a kernel page (first word = its pfn)
    const dst = freeMfn(g, 0);
    expect(op(g, { cmd: MMUEXT_COPY_PAGE, mfn: dst, src_mfn: src })).toBe(0);
    expect(readEntry(g, dst, 0)).toBe(0x1000n);
    expect(op(g, { cmd: MMUEXT_CLEAR_PAGE, mfn: dst })).toBe(0);
    expect(readEntry(g, dst, 0)).toBe(0n);
    expect(op(g, { cmd: MMUEXT_CLEAR_PAGE, mfn: g.vcpu.guestTable })).toBe(-EINVAL); // a page table
  });

  it('stops at the first failing op, *pdone = ops done; a foreign domain is -ESRCH', () => {
    const g = makeGuest();
    const done = { value: 0 };
    const rc = g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_TLB_FLUSH_LOCAL }, { cmd: MMUEXT_UNPIN_TABLE, mfn: freeMfn(g, 0) }, { cmd: MMUEXT_TLB_FLUSH_LOCAL }], 3, done);
    expect(rc).toBe(-EINVAL);
    expect(done.value).toBe(1);
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_TLB_FLUSH_LOCAL }], 1, null, 5)).toBe(-ESRCH);
  });

  // RELEASE-4.2.0 xen/arch/x86/mm.c:3057-3062: a pin whose frame get_page_from_gfn refuses sets
  // rc = -EINVAL and breaks with `okay` still 1, so the batch goes on (mm.c:3411-3415 only stops
  // when !okay) and the op counts as done; rc is returned unless a later op sets it (a pin does,
  // mm.c:3064). RELEASE-4.2.2 mm.c:3071-3076 sets `okay = 0` instead: the batch stops there.
  it('4.2.0: a pin of a frame that is not the domain\'s does not stop the batch; 4.2.2 stops it', () => {
    const batch = (g: Guest): Array<{ cmd: number; mfn?: number }> => [
      { cmd: MMUEXT_TLB_FLUSH_LOCAL }, { cmd: MMUEXT_PIN_L1_TABLE, mfn: 0x300 }, { cmd: MMUEXT_TLB_FLUSH_LOCAL },
      { cmd: MMUEXT_PIN_L1_TABLE, mfn: freeMfn(g, 0) },
    ];
    const g0 = makeGuest();
    const d0 = { value: 0 };
    expect(g0.vcpu.HYPERVISOR_mmuext_op(batch(g0).slice(0, 3), 3, d0)).toBe(-EINVAL);
    expect(d0.value).toBe(3);
    const d1 = { value: 0 };
    expect(g0.vcpu.HYPERVISOR_mmuext_op(batch(g0), 4, d1)).toBe(0); // the last pin set rc = 0
    expect(d1.value).toBe(4);
    expect(g0.host.pageInfo(freeMfn(g0, 0)).pinned).toBe(true);
    const g2 = makeGuest({ host: { release: '4.2.2' } });
    const d2 = { value: 0 };
    expect(g2.vcpu.HYPERVISOR_mmuext_op(batch(g2), 4, d2)).toBe(-EINVAL);
    expect(d2.value).toBe(1);
    expect(g2.host.pageInfo(freeMfn(g2, 0)).pinned).toBe(false);
  });

  it('PIN_L4 of a table that maps itself (linear self-map, read-only) succeeds', () => {
    const g = makeGuest();
    const l4 = freeMfn(g, 1);
    expect(write(g, l4, 5, pte(l4, P | A))).toBe(0);
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_PIN_L4_TABLE, mfn: l4 }])).toBe(0);
    expect(g.host.pageInfo(l4).typeCount).toBe(1);
    expect(readEntry(g, l4, 5) & BigInt(US)).toBe(BigInt(US));
    void entryPtr;
  });
});

describe('counts beyond a byte (the frame table keeps them in a side map)', () => {
  it('a frame mapped read-only 600 times: its reference count goes to 601 and back (get_page / put_page)', () => {
    const g = makeGuest();
    const target = g.domain.pfnToMfn(0x30);
    const before = g.host.pageInfo(target);
    const l1a = freeMfn(g, 0);
    const l1b = freeMfn(g, 1);
    const reqs = (l1: number, flags: number) => [...Array(300).keys()].map((i) => ({ ptr: entryPtr(l1, i), val: pte(target, flags) }));
    expect(g.vcpu.HYPERVISOR_mmu_update(reqs(l1a, P | A))).toBe(0);
    expect(g.vcpu.HYPERVISOR_mmu_update(reqs(l1b, P | RW | A))).toBe(0);
    expect(pin(g, 1, l1a)).toBe(0);
    expect(pin(g, 1, l1b)).toBe(0);
    expect(g.host.pageInfo(target)).toMatchObject({ refCount: before.refCount + 600, typeCount: before.typeCount + 300 });
    expect(op(g, { cmd: MMUEXT_UNPIN_TABLE, mfn: l1a })).toBe(0);
    expect(op(g, { cmd: MMUEXT_UNPIN_TABLE, mfn: l1b })).toBe(0);
    expect(g.host.pageInfo(target)).toEqual(before);
  });
});
