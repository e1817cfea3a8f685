/** HYPERVISOR_multicall (do_multicall, xen/common/multicall.c). */
import { describe, expect, it } from 'vitest';
import {
  EINVAL, ENOSYS, MMUEXT_NEW_BASEPTR, MMUEXT_PIN_L4_TABLE, MMUEXT_TLB_FLUSH_LOCAL, __HYPERVISOR_mmu_update,
  __HYPERVISOR_mmuext_op, __HYPERVISOR_multicall, __HYPERVISOR_update_va_mapping, type MulticallEntry,
} from '../../lib/xen';
import { P, entryPtr, freeMfn, makeGuest, readEntry } from './helpers';

describe('do_multicall', () => {
  it('runs every entry, writes each result, does not stop at a failure, and returns 0', () => {
    const g = makeGuest();
    const m = freeMfn(g, 0);
    const calls: MulticallEntry[] = [
      { op: __HYPERVISOR_mmu_update, args: [[{ ptr: entryPtr(m, 0), val: 5n }], 1, null, 0x7ff0] },
      { op: __HYPERVISOR_mmuext_op, args: [[{ cmd: MMUEXT_PIN_L4_TABLE, mfn: 0x300 }], 1, null, 0x7ff0] },
      { op: __HYPERVISOR_update_va_mapping, args: [0xffffea0000000000n, 0n, 0] },
      { op: __HYPERVISOR_mmuext_op, args: [[{ cmd: MMUEXT_TLB_FLUSH_LOCAL }], 1, null, 0x7ff0] },
      { op: 50, args: [] },
      { op: 99, args: [] },
      { op: __HYPERVISOR_multicall, args: [[], 0] },
    ];
    expect(g.vcpu.HYPERVISOR_multicall(calls)).toBe(0);
    expect(calls.map((c) => c.result)).toEqual([0, -EINVAL, -EINVAL, 0, -ENOSYS, -ENOSYS, -EINVAL]);
    expect(readEntry(g, m, 0)).toBe(5n);
    // a multicall counts once, and each call it carries under its own name (the nested multicall too)
    expect(g.trace.counters.hypercalls.multicall).toBe(2);
    expect(g.trace.counters.hypercalls.mmuext_op).toBe(2);
  });

  it('carries Linux\'s pin + NEW_BASEPTR batch (xen_setup_kernel_pagetable\'s shape)', () => {
    const g = makeGuest();
    const l4 = freeMfn(g, 1);
    const old = g.vcpu.guestTable;
    const slot511 = readEntry(g, old, 511);
    const calls: MulticallEntry[] = [
      { op: __HYPERVISOR_mmu_update, args: [[{ ptr: entryPtr(l4, 511), val: slot511 | BigInt(P) }], 1, null, 0x7ff0] },
      { op: __HYPERVISOR_mmuext_op, args: [[{ cmd: MMUEXT_PIN_L4_TABLE, mfn: l4 }], 1, null, 0x7ff0] },
      { op: __HYPERVISOR_mmuext_op, args: [[{ cmd: MMUEXT_NEW_BASEPTR, mfn: l4 }], 1, null, 0x7ff0] },
    ];
    expect(g.vcpu.HYPERVISOR_multicall(calls)).toBe(0);
    expect(calls.map((c) => c.result)).toEqual([0, 0, 0]);
    expect(g.vcpu.guestTable).toBe(l4);
  });

  it('checks every entry\'s arguments before running any (LabError, nothing applied)', () => {
    const g = makeGuest();
    const m = freeMfn(g, 0);
    const calls: MulticallEntry[] = [
      { op: __HYPERVISOR_mmu_update, args: [[{ ptr: entryPtr(m, 0), val: 5n }], 1, null, 0x7ff0] },
      { op: __HYPERVISOR_update_va_mapping, args: ['not-hex', 0n, 0] },
    ];
    expect(() => g.vcpu.HYPERVISOR_multicall(calls)).toThrowError(expect.objectContaining({ code: 'MALFORMED_ADDRESS' }));
    expect(readEntry(g, m, 0)).toBe(0n);
  });
});
