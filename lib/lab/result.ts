/**
 * The result of a run as a user reads it: outcome, Xen's console, the guest's console, the
 * symbolised guest stack, the fault, the pgd's pfn and counters over the trace.
 */
import type { TraceRecorder } from '../trace/recorder';
import type { GuestHalted } from '../x86/cpu';
import { formatVirtualAddress } from '../x86/address';
import type { NormalizedConfig } from './config';
import type { Machine } from './machine';
import { stackFromXenConsole, type StackFrame } from './guest-stack';
import { __START_KERNEL_map, THREAD_SIZE } from '../linux/layout';
import { KERNEL_IMAGE } from '../linux/image';
import { structPageLayout } from '../linux/struct-page';
import { kernelVariant } from '../linux/variants';
import { buildProvenance, type Provenance } from './provenance';

export interface RunCounters {
  pageFaults: { handled: number; unhandled: number; earlyPf: number; bounced: number; fixup: number };
  ptPages: { l4: number; l3: number; l2: number; l1: number };
  pteWrites: { l4: number; l3: number; l2: number; l1: number };
  hypercalls: Record<string, number>;
  mmuextOps: Record<string, number>;
  cr3Loads: number;
  /** bare metal, 8170e6bed465: times early_make_pgtable ran out of early_dynamic_pgts and started over */
  earlyPgtResets: number;
}

export interface RunResult {
  config: NormalizedConfig;
  outcome: 'not-started' | 'paused' | 'booted' | 'crashed';
  /** the routine a paused run stopped at */
  stoppedAt: string | null;
  /** routines entered */
  steps: number;
  /** why the guest stopped for good (crash or panic), or null */
  haltReason: string | null;
  /**
   * What became of the machine: 'running' (a domU's crash leaves Xen up), 'rebooted' or 'halted'
   * (dom0 went down and took the host with it: dom0_shutdown), null on bare metal
   */
  host: 'running' | 'rebooted' | 'halted' | null;
  /** Xen's console, each line with its "(XEN) " prefix, as printed */
  xenConsole: string[];
  /** the guest kernel's own console (printk) */
  guestConsole: string[];
  /** innermost first */
  guestStack: StackFrame[];
  /** the unhandled page fault that ended the run, or null */
  fault: { address: string; errorCode: number } | null;
  /** pfn of the kernel's pgd (init_level4_pgt) */
  pgdPfn: number;
  /** the routines on the kernel's stack now, outermost first */
  callChain: string[];
  counters: RunCounters;
  /**
   * Where each reported value comes from: 'report' (copied from the crash report), 'derived'
   * (computed by the model), 'fitted' (data chosen to match the report) or 'invented'; keys
   * domid, pcpu, structPageSize, pgdPfn, faultAddress, l4Index, xenRelease, registers.<name>,
   * stack.<symbol>, console.<n> (see provenance.ts)
   */
  provenance: Provenance;
  trace: TraceRecorder;
}

export function buildResult(
  config: NormalizedConfig, outcome: RunResult['outcome'], stoppedAt: string | null, steps: number,
  machine: Machine | null, trace: TraceRecorder, halt: GuestHalted | null,
): RunResult {
  const c = trace.counters;
  const xenConsole = machine === null ? [] : machine.platform.xenConsole();
  let guestStack: StackFrame[] = [];
  if (machine !== null) {
    const symbols = machine.kernel.variant.symbols;
    guestStack = xenConsole.length > 0 && outcome === 'crashed' ? stackFromXenConsole(xenConsole, symbols) : [];
  }
  let fault: RunResult['fault'] = null;
  for (const e of trace.eventsOfType('page-fault')) {
    if (e.handler === 'unhandled') {
      fault = { address: formatVirtualAddress(Number(BigInt(`0x${e.address}`) & 0xffffffffffffn)), errorCode: e.errorCode };
    }
  }
  const pgdPfn = machine === null ? 0 : machine.kernel.image.init_level4_pgt / 4096;
  const stackBottom = __START_KERNEL_map + KERNEL_IMAGE.init_thread_union;
  const provenance = buildProvenance({
    config, xenConsole, guestStack, fault, pgdPfn,
    symbols: machine === null ? kernelVariant(config.variant).symbols : machine.kernel.variant.symbols,
    structPage: machine === null ? structPageLayout(config.structPageSize) : machine.kernel.page,
    bootStack: [stackBottom, stackBottom + THREAD_SIZE],
    ...(machine === null ? {} : { savedRegisterWords: machine.kernel.stack.savedRegisterWords() }),
  });
  return {
    config, outcome, stoppedAt, steps,
    haltReason: halt === null ? null : halt.reason,
    host: machine === null ? (config.platform === 'xen' ? 'running' : null) : machine.platform.xen === null ? null : machine.platform.xen.host.fate,
    xenConsole,
    guestConsole: machine === null ? [] : [...machine.kernel.console],
    guestStack,
    fault,
    pgdPfn,
    callChain: machine === null ? [] : machine.kernel.stack.callChain,
    counters: {
      pageFaults: {
        handled: c.pageFaults.handled, unhandled: c.pageFaults.unhandled, earlyPf: c.pageFaults.byHandler['early-pf'],
        bounced: c.pageFaults.byHandler.bounced, fixup: c.pageFaults.byHandler.fixup,
      },
      ptPages: { ...c.ptPages },
      pteWrites: { ...c.pteWrites },
      hypercalls: { ...c.hypercalls },
      mmuextOps: { ...c.mmuextOps },
      cr3Loads: c.cr3Loads,
      earlyPgtResets: machine === null ? 0 : machine.kernel.g.early_pgt_resets,
    },
    provenance,
    trace,
  };
}
