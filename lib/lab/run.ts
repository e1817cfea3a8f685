/**
 * One run of the lab: a kernel variant booting on a platform, which you can step routine by
 * routine, run to a symbol, stop at breakpoints, snapshot and restore. The model is deterministic,
 * so moving through a run is replay: every stop re-runs the boot from its start to the requested
 * step with the same configuration, and the state at the stop is the state the run really had.
 */
import { LabError, describeValue } from '../errors';
import { TraceRecorder } from '../trace/recorder';
import { GuestHalted } from '../x86/cpu';
import { Paused } from '../linux/kernel';
import { kernelVariant } from '../linux/variants';
import { first_mm_switch } from '../linux/xen/activate-mm';
import { normalizeConfig, type BootConfig, type NormalizedConfig } from './config';
import { createMachine, type Machine, type PlatformFactory } from './machine';
import { buildResult, type RunResult } from './result';
import { addressSpaceOf, diffPageTables, dumpAddressSpace, walkAddressSpace, type AddressSpace, type PageTableDiff } from './address-space';
import type { PageTableDump } from '../x86/ptdump';
import { formatVirtualAddress } from '../x86/address';
import type { Access, AccessKind, WalkResult } from '../x86/walk';

export type Outcome = 'not-started' | 'paused' | 'booted' | 'crashed';

/** One entry of the trap table Xen holds for a vCPU. */
export interface XenTrapEntry {
  vector: number;
  /** the handler's symbol (name+0xoff when not a symbol's start, '?' outside every symbol) */
  symbol: string;
  /** the handler's address, 16 hex digits */
  address: string;
}

/** A point in a run to come back to: the number of routines entered, and how the run stood. */
export interface RunSnapshot {
  step: number;
  routine: string | null;
  outcome: Outcome;
}

export class Run {
  readonly config: NormalizedConfig;
  readonly breakpoints = new Set<string>();
  private machine: Machine | null = null;
  private trace = new TraceRecorder();
  private state: Outcome = 'not-started';
  private stoppedAt: string | null = null;
  private halt: GuestHalted | null = null;
  private step_ = 0;

  constructor(config: BootConfig, private readonly platforms: PlatformFactory) {
    this.config = normalizeConfig(config);
  }

  get outcome(): Outcome {
    return this.state;
  }

  /** Routines entered so far. */
  get stepCount(): number {
    return this.step_;
  }

  /** The routine the run stopped at (a breakpoint or a step), or null. */
  get routine(): string | null {
    return this.stoppedAt;
  }

  /** Runs to the end (booted or crashed), ignoring breakpoints. */
  run(): this {
    return this.execute(() => false);
  }

  /** Runs until a breakpoint's routine is entered, or to the end. */
  continue(): this {
    const from = this.step_;
    return this.execute((name, step) => step > from && this.breakpoints.has(name));
  }

  /** Runs `count` more routine entries (default 1). */
  step(count = 1): this {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
      throw new LabError('VALUE_OUT_OF_RANGE', `count must be a positive integer; got ${describeValue(count)}`);
    }
    const target = this.step_ + count;
    return this.execute((_name, step) => step >= target);
  }

  /** Runs until routine `symbol` is entered (after the current step), or to the end. */
  runTo(symbol: string): this {
    this.checkSymbol(symbol);
    const from = this.step_;
    return this.execute((name, step) => step > from && name === symbol);
  }

  /** Stops at `symbol` on every later continue(). */
  breakAt(symbol: string): this {
    this.checkSymbol(symbol);
    this.breakpoints.add(symbol);
    return this;
  }

  snapshot(): RunSnapshot {
    return { step: this.step_, routine: this.stoppedAt, outcome: this.state };
  }

  /** Goes back (or forward) to a snapshot's point. */
  restore(s: RunSnapshot): this {
    if (typeof s !== 'object' || s === null || typeof s.step !== 'number' || !Number.isInteger(s.step) || s.step < 0) {
      throw new LabError('WRONG_TYPE', `restore takes a snapshot from run.snapshot(); got ${describeValue(s)}`);
    }
    // A snapshot of a finished run is its end: run to it rather than pause at its last routine.
    if (s.outcome === 'booted' || s.outcome === 'crashed') return this.run();
    if (s.step === 0) {
      this.machine = null; this.state = 'not-started'; this.step_ = 0; this.stoppedAt = null; this.halt = null;
      this.trace = new TraceRecorder();
      return this;
    }
    return this.execute((_name, step) => step >= s.step);
  }

  /** What the run shows now: outcome, consoles, stack, fault, counters, trace. */
  result(): RunResult {
    return buildResult(this.config, this.state, this.stoppedAt, this.step_, this.machine, this.trace, this.halt);
  }

  /** The address space as the hardware sees it now (memory, CR3, region names, Xen page types). */
  addressSpace(): AddressSpace {
    if (this.machine === null) {
      throw new LabError('INVALID_STATE', 'the run has not started: call step(), runTo(symbol) or run() first');
    }
    return addressSpaceOf(this.machine);
  }

  /** Walks `va` through the current page tables (a supervisor read unless told otherwise). */
  walk(va: bigint | string, access: Access | AccessKind = 'read'): WalkResult {
    return walkAddressSpace(this.addressSpace(), va, access);
  }

  /** The current address space as ptdump-style runs. */
  pageTables(): PageTableDump {
    return dumpAddressSpace(this.addressSpace());
  }

  /** What changed in the page tables between two points of this run; leaves the run at `b`. */
  pageTableDiff(a: RunSnapshot, b: RunSnapshot): PageTableDiff {
    const before = this.restore(a).pageTables();
    return diffPageTables(before, this.restore(b).pageTables());
  }

  /**
   * What comes after the boot under Xen: the first switch to a user address space (pgd_alloc,
   * xen_activate_mm, switch_mm's load_cr3). Only for a Xen run that booted; returns the result.
   * Replaying the run (step, runTo, restore) forgets it.
   */
  firstMmSwitch(): RunResult {
    const m = this.machine;
    if (m === null || this.state !== 'booted' || m.platform.xen === null) {
      throw new LabError('INVALID_STATE', `firstMmSwitch needs a Xen run that booted; this one is ${this.state} on ${this.config.platform}`);
    }
    try {
      first_mm_switch(m.kernel, m.platform.xen.guest);
    } catch (e) {
      if (!(e instanceof GuestHalted)) throw e;
      this.state = 'crashed';
      this.halt = e;
    }
    this.step_ = m.kernel.steps;
    return this.result();
  }

  /**
   * The trap table Xen holds for the guest's vCPU 0 now (pv_vcpu.trap_ctxt, as do_set_trap_table
   * filled it): one entry per vector with a handler, with the handler's symbol in the kernel's
   * symbol table and its address as 16 hex digits. Empty before the guest's first set_trap_table.
   * A bare-metal run has no Xen: NOT_XEN.
   */
  xenTrapTable(): XenTrapEntry[] {
    if (this.config.platform !== 'xen') {
      throw new LabError('NOT_XEN', `xenTrapTable() asks Xen for the guest's trap table; this run is on ${this.config.platform}: use platform 'xen'`);
    }
    const xen = this.machine?.platform.xen ?? null;
    if (xen === null) return [];
    const symbols = this.machine!.kernel.variant.symbols;
    const out: XenTrapEntry[] = [];
    xen.vcpu.trapCtxt.forEach((t, vector) => {
      if (t.address === 0) return;
      const sym = symbols.lookup(t.address);
      out.push({ vector, symbol: sym === null ? '?' : sym.offset === 0 ? sym.symbol : sym.text, address: formatVirtualAddress(t.address) });
    });
    return out;
  }

  /** The machine as it stands (null before the first step). */
  get current(): Machine | null {
    return this.machine;
  }

  private checkSymbol(symbol: unknown): void {
    if (typeof symbol !== 'string') {
      throw new LabError('WRONG_TYPE', `symbol must be a routine name like 'init_mem_mapping'; got ${describeValue(symbol)}`);
    }
    if (!kernelVariant(this.config.variant).symbols.has(symbol)) {
      throw new LabError('UNKNOWN_SYMBOL', `no routine ${JSON.stringify(symbol)} in ${this.config.variant}; e.g. xen_start_kernel, setup_arch, init_mem_mapping, xen_write_cr3, paging_init`);
    }
  }

  private execute(stopAt: (name: string, step: number) => boolean): this {
    const trace = new TraceRecorder();
    const machine = createMachine(this.config, trace, this.platforms);
    machine.kernel.onRoutineEnter = (name, step) => { if (stopAt(name, step)) throw new Paused(name, step); };
    this.machine = machine;
    this.trace = trace;
    this.halt = null;
    this.stoppedAt = null;
    try {
      machine.platform.start(machine.kernel);
      this.state = 'booted';
    } catch (e) {
      if (e instanceof Paused) {
        this.state = 'paused';
        this.stoppedAt = e.routine;
      } else if (e instanceof GuestHalted) {
        this.state = 'crashed';
        this.halt = e;
      } else {
        throw e;
      }
    }
    this.step_ = machine.kernel.steps;
    machine.kernel.onRoutineEnter = null;
    return this;
  }
}
