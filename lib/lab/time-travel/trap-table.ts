/**
 * The trap table Xen holds for the guest's vCPU 0 (pv_vcpu.trap_ctxt, filled by do_set_trap_table
 * in xen/arch/x86/traps.c, Xen 4.2.0), read out with the kernel's symbol for each handler, and the
 * history of the guest's set_trap_table calls as the trace recorded them.
 */
import { LabError } from '../../errors';
import type { TraceRecorder } from '../../trace/recorder';
import { formatVirtualAddress } from '../../x86/address';
import type { Machine } from '../machine';
import { stepOfSeq } from './step-index';

export interface TrapTableEntry {
  vector: number;
  /** the handler's symbol (name+0xoff when not a symbol's start, '?' outside every symbol) */
  symbol: string;
  /** the handler's address, 16 hex digits */
  address: string;
}

/** The non-empty entries of Xen's trap table for vCPU 0 now; NOT_XEN on bare metal. */
export function trapTableOf(m: Machine, what = 'the trap table'): TrapTableEntry[] {
  const xen = m.platform.xen;
  if (xen === null) throw new LabError('NOT_XEN', `${what} is Xen's; this run is on bare metal (its IDT is the kernel's own)`);
  const out: TrapTableEntry[] = [];
  xen.vcpu.trapCtxt.forEach((t, vector) => {
    if (t.address === 0) return;
    const s = m.kernel.variant.symbols.lookup(t.address);
    out.push({ vector, symbol: s === null ? '?' : s.offset === 0 ? s.symbol : s.text, address: formatVirtualAddress(t.address) });
  });
  return out;
}

/** One set_trap_table the guest made: where, by which routine, and the vectors Xen held after it. */
export interface TrapTableChange {
  step: number;
  routine: string;
  vectors: number[];
}

/** Every 'trap-table' event of a trace, with the step it happened in. */
export function trapTableHistory(trace: TraceRecorder): TrapTableChange[] {
  const stepOf = stepOfSeq(trace);
  const out: TrapTableChange[] = [];
  for (const e of trace.eventsOfType('trap-table')) {
    out.push({ step: stepOf(e.seq), routine: e.by, vectors: [...e.vectors] });
  }
  return out;
}
