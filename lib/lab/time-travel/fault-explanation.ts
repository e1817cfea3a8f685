/**
 * Explains a page fault of a run: the hardware walk (Intel SDM vol. 3, 4.5 and 4.7) that failed,
 * at which level and on which bit; under Xen, Xen's side of the same walk (each table's machine
 * frame, its page type, type and reference counts, pinned or not, and the M2P entry of the frame
 * each entry points to, as show_page_walk prints it), the trap table Xen held for vCPU 0 then and
 * why the fault was or was not bounced (propagate_page_fault, xen/arch/x86/traps.c, Xen 4.2.0);
 * on bare metal, the IDT's #PF entry and what the early handler decided (early_idt_handler and
 * early_make_pgtable, arch/x86/kernel/head64.c, 8170e6bed465).
 */
import { LabError } from '../../errors';
import { Paused } from '../../linux/kernel';
import type { TraceEventBody, TraceEvent } from '../../trace/events';
import { TraceRecorder } from '../../trace/recorder';
import { formatVirtualAddress } from '../../x86/address';
import { PFEC_INSTR, PFEC_USER, PFEC_WRITE } from '../../x86/page-fault';
import { entryAddress } from '../../x86/pte';
import type { Access, WalkResult } from '../../x86/walk';
import { addressSpaceOf, walkAddressSpace } from '../address-space';
import type { NormalizedConfig } from '../config';
import type { Machine, PlatformFactory } from '../machine';
import { replay, stopAtStep, type Outcome } from './replay';
import { lastEntryOf, routinesByStep, stepOfSeq } from './step-index';
import { trapTableOf, type TrapTableEntry } from './trap-table';

/** X86_TRAP_PF */
const PF_VECTOR = 14;
const LEVEL_SHORT = ['', 'L1', 'L2', 'L3', 'L4'];
const ENTRY_NAMES = ['', 'PTE', 'PDE', 'PDPTE', 'PML4E'];

/** Xen's view of one level of the walk. */
export interface XenWalkLevel {
  level: number;
  index: number;
  /** the entry, 16 hex digits */
  entry: string;
  /** the machine frame of the table holding the entry */
  tableMfn: number;
  /** that frame's page type, type count, reference count and pinning */
  tableType: string;
  typeCount: number;
  refCount: number;
  pinned: boolean;
  /** the machine frame the entry points to, and its M2P entry (all ones when no guest owns it) */
  mfn: number;
  m2p: string;
}

export interface FaultExplanation {
  /** the faulting address (16 hex digits) and the hardware error code */
  address: string;
  errorCode: number;
  access: Access;
  /** the step the fault happened in, the innermost routine running and the call chain */
  step: number;
  routine: string;
  callChain: string[];
  /** who handled it, as the trace recorded */
  handler: string;
  /** the hardware walk at the moment of the fault */
  walk: WalkResult;
  /** the level whose entry stopped the walk (null when the walk succeeds now) */
  failingLevel: number | null;
  /** the bit that failed, named as the SDM names it */
  failingBit: string | null;
  xen: {
    domid: number;
    levels: XenWalkLevel[];
    trapTable: TrapTableEntry[];
    /** Xen's trap-table entry for #PF, or null when it has none */
    pfEntry: TrapTableEntry | null;
    bounced: boolean;
    why: string;
  } | null;
  bareMetal: { idtEntry: string; decision: string } | null;
  /** the explanation as plain text */
  text: string;
}

/** Stops a replay right after the n-th page-fault event is recorded (n from 1). */
class StopAtFault extends TraceRecorder {
  private seen = 0;
  constructor(private readonly nth: number) { super(); }
  override emit(body: TraceEventBody): void {
    super.emit(body);
    if (body.type === 'page-fault' && ++this.seen === this.nth) throw new Paused('(page fault)', 0);
  }
}

/** How the run stands now. */
export interface FaultRunPoint {
  machine: Machine | null;
  outcome: Outcome;
  step: number;
  trace: TraceRecorder;
}

/**
 * The last fault of the run up to now (a fault Xen fixed up by emulation does not count); NO_FAULT
 * when there is none. Cost: none when the run stopped at the fault (a crash); otherwise one
 * replay up to the fault.
 */
export function explainFault(config: NormalizedConfig, platforms: PlatformFactory, now: FaultRunPoint): FaultExplanation {
  const faults = now.trace.eventsOfType('page-fault');
  let nth = faults.length;
  while (nth > 0 && faults[nth - 1].handler === 'fixup') nth--;
  if (nth === 0 || now.machine === null) {
    throw new LabError('NO_FAULT', `this run has no page fault to explain (outcome ${now.outcome} at step ${now.step}); run it further (run.run()) or pick a run that faults`);
  }
  const fault = faults[nth - 1];
  const stepOf = stepOfSeq(now.trace);
  const step = stepOf(fault.seq);
  let m: Machine;
  if (nth === faults.length && now.outcome === 'crashed' && fault.handler === 'unhandled') {
    m = now.machine; // the run ended at this fault: nothing changed the tables since
  } else if (fault.handler === 'early-pf') {
    // early_make_pgtable has filled the mapping by the time the event is recorded: stop at the handler's entry.
    const at = lastEntryOf(routinesByStep(now.trace), 'early_idt_handler', step);
    m = replay(config, platforms, stopAtStep(at)).machine;
  } else {
    // the fault is recorded before Xen bounces it or the kernel handles it: stop right there
    m = replay(config, platforms, () => false, new StopAtFault(nth)).machine;
  }
  return explainAt(m, fault, step);
}

function explainAt(m: Machine, fault: TraceEvent & { type: 'page-fault' }, step: number): FaultExplanation {
  const va48 = Number(BigInt(`0x${fault.address}`) & 0xffffffffffffn);
  const address = formatVirtualAddress(va48);
  const ec = fault.errorCode;
  // A 64-bit PV kernel runs in ring 3: the processor made a user access, and Xen clears the user
  // bit of the error code it reports for a fault in guest kernel mode (propagate_page_fault).
  const access: Access = {
    kind: (ec & PFEC_INSTR) !== 0 ? 'fetch' : (ec & PFEC_WRITE) !== 0 ? 'write' : 'read',
    user: m.platform.xen !== null || (ec & PFEC_USER) !== 0,
  };
  const walk = walkAddressSpace(addressSpaceOf(m), address, access);
  const failingLevel = walk.ok ? null : walk.level;
  const failingBit = walk.ok ? null : bitOf(walk.kind, access);
  const callChain = m.kernel.stack.callChain;
  const routine = callChain.length === 0 ? '(none)' : callChain[callChain.length - 1];
  const lines: string[] = [];
  lines.push(`Page fault at ${address}, error code ${ec.toString(16).padStart(4, '0')} (a ${access.kind}${m.platform.xen !== null ? ' by the guest kernel in ring 3: a user access to the processor' : ''}), in step ${step}, routine ${routine}`);
  lines.push(`  call chain: ${callChain.join(' > ')}`);
  lines.push('Hardware walk (SDM 4.5):');
  for (const s of walk.steps) {
    lines.push(`  ${LEVEL_SHORT[s.level]}[0x${s.index.toString(16).padStart(3, '0')}] ${ENTRY_NAMES[s.level]} at ${s.entryAddress.toString(16).padStart(16, '0')} = ${s.entry.toString(16).padStart(16, '0')}`);
  }
  lines.push(walk.ok
    ? `  the walk translates the address now (to ${walk.pa.toString(16)})`
    : `  fails at ${LEVEL_SHORT[walk.level]} (${walk.kind}): ${failingBit}`);
  const out: FaultExplanation = {
    address, errorCode: ec, access, step, routine, callChain, handler: fault.handler, walk, failingLevel, failingBit,
    xen: null, bareMetal: null, text: '',
  };
  const xen = m.platform.xen;
  if (xen !== null) {
    const ft = xen.host.frameTable;
    const levels: XenWalkLevel[] = walk.steps.map((s) => {
      const tableMfn = Math.floor(Number(s.entryAddress) / 4096);
      const info = ft.info(tableMfn);
      const lo = Number(s.entry & 0xffffffffn);
      const hi = Number(s.entry >> 32n);
      const mfn = entryAddress(lo, hi) / 4096;
      const m2p = ft.mfnValid(mfn) ? xen.host.m2p.entry(mfn) : (1n << 64n) - 1n;
      return {
        level: s.level, index: s.index, entry: s.entry.toString(16).padStart(16, '0'), tableMfn,
        tableType: info.type, typeCount: info.typeCount, refCount: info.refCount, pinned: info.pinned,
        mfn, m2p: BigInt.asUintN(64, m2p).toString(16).padStart(16, '0'),
      };
    });
    const trapTable = trapTableOf(m);
    const pfEntry = trapTable.find((t) => t.vector === PF_VECTOR) ?? null;
    const domid = xen.domain.domid;
    const bounced = fault.handler === 'bounced';
    const why = pfEntry === null
      ? `Xen's trap table for d${domid}:v0 has no entry for vector ${PF_VECTOR} (#PF): propagate_page_fault finds no handler address and prints "unhandled page fault" and the walk; with no bounce to make, create_bounce_frame crashes the domain (domain_crash_sync)`
      : bounced
        ? `Xen bounced the fault to the guest's #PF handler ${pfEntry.symbol} (${pfEntry.address}), registered with set_trap_table`
        : `the trap table has a #PF entry (${pfEntry.symbol}), but the fault was ${fault.handler}`;
    lines.push(`Xen's side of the walk (d${domid}:v0):`);
    for (const l of levels) {
      lines.push(`  ${LEVEL_SHORT[l.level]}[0x${l.index.toString(16).padStart(3, '0')}] = ${l.entry} ${l.m2p}   table mfn ${l.tableMfn.toString(16)}: ${l.tableType}, type count ${l.typeCount}, ref count ${l.refCount}${l.pinned ? ', pinned' : ''}`);
    }
    lines.push(`Trap table Xen held: ${trapTable.length === 0 ? 'empty (the guest has made no set_trap_table yet)' : trapTable.map((t) => `${t.vector}:${t.symbol}`).join(', ')}`);
    lines.push(`Bounced: ${bounced ? 'yes' : 'no'}: ${why}`);
    out.xen = { domid, levels, trapTable, pfEntry, bounced, why };
  } else {
    const inEarly = callChain.includes('early_idt_handler') || fault.handler === 'early-pf';
    const idtEntry = inEarly
      ? 'early_idt_handlers[14], set by x86_64_start_kernel (arch/x86/kernel/head64.c)'
      : 'page_fault, set by early_trap_pf_init (arch/x86/kernel/traps.c)';
    const decision = fault.handler === 'early-pf'
      ? 'early_make_pgtable built the missing mapping from early_dynamic_pgts; the access restarts'
      : inEarly
        ? (m.kernel.variant.earlyPfHandler
          ? 'early_make_pgtable refused it (not a direct-map address, or past max_pfn_mapped): early_idt_handler panics with "early exception"'
          : 'this kernel has no early #PF handler: early_idt_handler panics with "early exception"')
        : 'the kernel\'s page_fault handler finds no fixup: "unable to handle kernel paging request"';
    lines.push(`IDT[14]: ${idtEntry}`);
    lines.push(`Decision: ${decision}`);
    out.bareMetal = { idtEntry, decision };
  }
  out.text = lines.join('\n');
  return out;
}

function bitOf(kind: string, access: Access): string {
  if (kind === 'not-present') return 'P (bit 0) is clear';
  if (kind === 'reserved-bit') return 'a reserved bit is set';
  if (access.kind === 'write') return 'R/W (bit 1) is clear on the path: writes are not allowed';
  if (access.kind === 'fetch') return 'XD (bit 63) is set on the path: no instruction fetch';
  return 'U/S (bit 2) is clear on the path: supervisor only';
}
