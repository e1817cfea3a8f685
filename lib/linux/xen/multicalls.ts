/**
 * Multicall batching (arch/x86/xen/multicalls.c and multicalls.h, v3.9): pv ops queue hypercalls
 * between xen_mc_batch() and xen_mc_issue(); a flush sends one entry as a direct hypercall and
 * several as one HYPERVISOR_multicall, then runs the queued callbacks.
 */
import type { Kernel } from '../kernel';
import { panic } from '../mm/panic';
import type { MmuUpdateReq, MmuextOpReq, MulticallReq, XenHypercalls } from './hypercall';

export class MulticallBuffer {
  entries: MulticallReq[] = [];
  callbacks: (() => void)[] = [];
}

// arch/x86/xen/multicalls.h (v3.9): local_irq_save under Xen masks event delivery
export function xen_mc_batch(hv: XenHypercalls): void {
  hv.setUpcallMask(true);
}

// arch/x86/xen/mmu.c (v3.9): append to the previous mmuext_op entry if there is one
export function xen_extend_mmuext_op(buf: MulticallBuffer, op: MmuextOpReq): void {
  const last = buf.entries[buf.entries.length - 1];
  if (last !== undefined && last.op === 'mmuext_op') last.ops.push(op);
  else buf.entries.push({ op: 'mmuext_op', ops: [op] });
}

// arch/x86/xen/mmu.c (v3.9): append to the previous mmu_update entry if there is one
export function xen_extend_mmu_update(buf: MulticallBuffer, u: MmuUpdateReq): void {
  const last = buf.entries[buf.entries.length - 1];
  if (last !== undefined && last.op === 'mmu_update') last.reqs.push(u);
  else buf.entries.push({ op: 'mmu_update', reqs: [u] });
}

function issueOne(hv: XenHypercalls, e: MulticallReq): number {
  switch (e.op) {
    case 'mmu_update': return hv.HYPERVISOR_mmu_update(e.reqs);
    case 'mmuext_op': return hv.HYPERVISOR_mmuext_op(e.ops);
    default: return hv.HYPERVISOR_update_va_mapping(e.va, e.val, e.flags);
  }
}

// arch/x86/xen/multicalls.c (v3.9)
export function xen_mc_flush(k: Kernel, hv: XenHypercalls, buf: MulticallBuffer): void {
  if (buf.entries.length === 0 && buf.callbacks.length === 0) return;
  k.call('xen_mc_flush', () => {
    const entries = buf.entries;
    buf.entries = [];
    let failed = false;
    if (entries.length === 1) {
      // "Singleton multicall - bypass multicall machinery and just do the call directly."
      failed = issueOne(hv, entries[0]) !== 0;
    } else if (entries.length > 1) {
      const { rc, results } = hv.HYPERVISOR_multicall(entries);
      failed = rc !== 0 || results.some((r) => r !== 0);
    }
    if (failed) panic(k, 'xen_mc_flush: a hypercall in the batch failed'); // BUG() in the kernel
    const callbacks = buf.callbacks;
    buf.callbacks = [];
    for (const cb of callbacks) cb();
  });
}

// arch/x86/xen/multicalls.h (v3.9): flush unless in lazy mode (never at boot). It also restores the
// event mask saved by xen_mc_batch; early boot keeps events masked (local_irq_disable), so the model leaves it set.
export function xen_mc_issue(k: Kernel, hv: XenHypercalls, buf: MulticallBuffer): void {
  xen_mc_flush(k, hv, buf);
}
