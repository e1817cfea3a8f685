/**
 * One run of the lab: a kernel variant booting on a platform, which you can step routine by
 * routine, run to a symbol, stop at breakpoints, snapshot and restore. The model is deterministic,
 * so moving through a run is replay: every move restores the nearest checkpoint the run kept at or
 * before the target (time-travel/timeline.ts; step 0, the platform just built, is always one) and
 * replays the boot from there to the requested step, and the state at the stop is the state the
 * run really had.
 */
import { LabError, describeValue } from '../errors';
import { TraceRecorder } from '../trace/recorder';
import { GuestHalted } from '../x86/cpu';
import { kernelVariant } from '../linux/variants';
import { first_mm_switch } from '../linux/xen/activate-mm';
import { normalizeConfig, type BootConfig, type NormalizedConfig } from './config';
import type { Machine, PlatformFactory } from './machine';
import { replay, stopAtStep, toTheEnd, type Outcome, type ReplayState, type StopRule } from './time-travel/replay';
import { Timeline, type CheckpointPolicy } from './time-travel/timeline';
import { cloneGraph } from './time-travel/graph-state';
import { detachMachine } from './time-travel/detach';
import type { RoutineLog } from '../trace/routine-log';
import { checkSnapshot, configFingerprint, SNAPSHOT_KIND, type RunSnapshot } from './time-travel/snapshot';
import { lastEntryOf, routinesByStep } from './time-travel/step-index';
import { RunAtStep } from './time-travel/view';
import { checkEntryArgs, entryHistory, type EntryWrite } from './time-travel/entry-history';
import { trapTableHistory, trapTableOf, type TrapTableChange, type TrapTableEntry } from './time-travel/trap-table';
import { explainFault, type FaultExplanation } from './time-travel/fault-explanation';
import { buildResult, type RunResult } from './result';
import { addressSpaceOf, diffPageTables, dumpAddressSpace, walkAddressSpace, type AddressSpace, type PageTableDiff } from './address-space';
import type { PageTableDump } from '../x86/ptdump';
import type { Access, AccessKind, WalkResult } from '../x86/walk';

/** One entry of the trap table Xen holds for a vCPU. */
export type XenTrapEntry = TrapTableEntry;

export type { Outcome } from './time-travel/replay';
export type { RunSnapshot } from './time-travel/snapshot';
export type { CheckpointPolicy } from './time-travel/timeline';

export class Run {
  readonly config: NormalizedConfig;
  readonly breakpoints = new Set<string>();
  private machine: Machine | null = null;
  private trace = new TraceRecorder();
  private state: Outcome = 'not-started';
  private stoppedAt: string | null = null;
  private halt: GuestHalted | null = null;
  private step_ = 0;
  /** the furthest point any move reached: its step, whether the boot ended there, its routine log (a copy) */
  private furthest: { step: number; ended: 'booted' | 'crashed' | null; log: { routines: RoutineLog }; names: string[] | null } =
    { step: 0, ended: null, log: { routines: new TraceRecorder().routines }, names: null };
  /** the run's one machine and its checkpoints */
  private timeline: Timeline;

  constructor(config: BootConfig, private readonly platforms: PlatformFactory) {
    this.config = normalizeConfig(config);
    this.timeline = new Timeline(this.config, platforms);
  }

  /**
   * How often the run keeps a checkpoint to come back to (see time-travel/timeline.ts): every
   * `steps` routine entries, or once `ms` milliseconds of boot have run since the last (the
   * default, 25 ms), at most `max` kept (default 16); `off: true` keeps none (every move boots
   * from nothing: for a run that only goes forward once). Forgets the checkpoints kept so far.
   */
  checkpointEvery(policy: CheckpointPolicy): this {
    const check = (name: string, v: unknown, min: number): void => {
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min)) {
        throw new LabError('VALUE_OUT_OF_RANGE', `${name} must be an integer >= ${min}; got ${describeValue(v)}`);
      }
    };
    if (typeof policy !== 'object' || policy === null) throw new LabError('WRONG_TYPE', `policy must be an object like { steps: 1000 }; got ${describeValue(policy)}`);
    check('steps', policy.steps, 1);
    check('ms', policy.ms, 0);
    check('max', policy.max, 2);
    if (policy.off !== undefined && typeof policy.off !== 'boolean') throw new LabError('WRONG_TYPE', `off must be true or false; got ${describeValue(policy.off)}`);
    this.reset();
    this.timeline = new Timeline(this.config, this.platforms, policy);
    return this;
  }

  /** The steps at which the run holds a checkpoint now, and the bytes their copies take. */
  get checkpoints(): { steps: number[]; bytes: number } {
    return { steps: this.timeline.checkpointSteps, bytes: this.timeline.checkpointBytes };
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
    return this.execute(() => false, Infinity);
  }

  /** Runs until a breakpoint's routine is entered, or to the end. */
  continue(): this {
    const from = this.step_;
    return this.execute((name, step) => step > from && this.breakpoints.has(name), from);
  }

  /** Runs `count` more routine entries (default 1). */
  step(count = 1): this {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
      throw new LabError('VALUE_OUT_OF_RANGE', `count must be a positive integer; got ${describeValue(count)}`);
    }
    const target = this.step_ + count;
    return this.execute((_name, step) => step >= target, target - 1);
  }

  /** Runs until routine `symbol` is entered (after the current step), or to the end. */
  runTo(symbol: string): this {
    this.checkSymbol(symbol);
    const from = this.step_;
    return this.execute((name, step) => step > from && name === symbol, from);
  }

  /** Stops at `symbol` on every later continue(). */
  breakAt(symbol: string): this {
    this.checkSymbol(symbol);
    this.breakpoints.add(symbol);
    return this;
  }

  /** This point of the run, to come back to with restore(). */
  snapshot(): RunSnapshot {
    return { kind: SNAPSHOT_KIND, step: this.step_, routine: this.stoppedAt, outcome: this.state, config: configFingerprint(this.config) };
  }

  /**
   * Goes back (or forward) to a snapshot's point. BAD_SNAPSHOT, with the run unchanged, for a
   * snapshot of another run (another configuration), one beyond the furthest step this run has
   * reached, or anything that is not a snapshot. Cost: as stepBack (one restore and one replay).
   */
  restore(s: RunSnapshot): this {
    const snap = checkSnapshot(s, this.extent());
    if (snap.outcome === 'booted' || snap.outcome === 'crashed') {
      if (this.furthest.ended !== null) return this.execute(toTheEnd, Infinity);
      // This run has not been seen to end: run to the end, and keep it only if it is the snapshot's.
      const here = { state: this.state, step: this.step_ };
      const r = this.timeline.move(toTheEnd, Infinity);
      if (r.step !== snap.step || r.outcome !== snap.outcome) {
        this.noteFurthest(r);
        // back to where the run was, as if nothing had happened
        if (here.state === 'paused') this.commit(this.timeline.move(stopAtStep(here.step), here.step - 1));
        else if (here.state === 'not-started') this.reset();
        throw new LabError('BAD_SNAPSHOT', `the snapshot says this run ${snap.outcome} at step ${snap.step}; it ${r.outcome} at step ${r.step}`);
      }
      return this.commit(r);
    }
    if (snap.step === 0) return this.reset();
    return this.execute(stopAtStep(snap.step), snap.step - 1);
  }

  /**
   * Goes back `n` steps (default 1): the run is where it was n routine entries earlier (step
   * count, routine, call chain, memory, Xen state, consoles, trace); at step 0 it is not started.
   * NO_EARLIER_STEP, run unchanged, from step 0 or past it. Cost: one restore of the nearest
   * checkpoint at or before the target and a replay from it to the target (time-travel/timeline.ts;
   * bench/timetravel.ts measured a step back from the end at 0.04 to 0.13 times the boot for
   * 8170e6bed465 and 5b5c1af104ab under Xen with 4 and 64 GiB, where it was 0.9 to 1.0 times
   * before checkpoints; on a busier machine once 0.48, as captures then cost more and
   * checkpoints lie further apart).
   */
  stepBack(n = 1): this {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new LabError('VALUE_OUT_OF_RANGE', `n must be a positive integer; got ${describeValue(n)}`);
    }
    if (n > this.step_) {
      throw new LabError('NO_EARLIER_STEP', `the run is at step ${this.step_}: it can go back at most ${this.step_} step${this.step_ === 1 ? '' : 's'}; got ${n}`);
    }
    return this.step_ === n ? this.reset() : this.moveBackTo(this.step_ - n);
  }

  /**
   * Goes back to the most recent entry of routine `symbol` before the current point (the entry of
   * the routine a paused run stopped at is the current point, not before it). NO_EARLIER_STEP,
   * run unchanged, when there is none. Cost: one restore and one replay, as stepBack.
   */
  runBackTo(symbol: string): this {
    this.checkSymbol(symbol);
    const last = this.state === 'paused' ? this.step_ - 1 : this.step_;
    const at = lastEntryOf(routinesByStep(this.trace), symbol, last);
    if (at === 0) {
      throw new LabError('NO_EARLIER_STEP', `${symbol} was not entered before the current point (step ${this.step_})`);
    }
    return this.moveBackTo(at);
  }

  /**
   * A read-only view of the run at `step` (0 to the furthest step reached): walk, page tables,
   * trap table, result; the run does not move. Cost: the run's machine goes to that step (one
   * restore and replay, as stepBack), is copied for the view (time-travel/detach.ts), and comes
   * back (another restore and replay).
   */
  at(step: number): RunAtStep {
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > this.furthest.step) {
      throw new LabError('VALUE_OUT_OF_RANGE', `step must be an integer from 0 to ${this.furthest.step} (the furthest step this run has reached); got ${describeValue(step)}`);
    }
    if (step === 0) return new RunAtStep(this.config, null);
    if (this.step_ > this.furthest.step) {
      // firstMmSwitch moved the run where no replay comes back to: look with a machine of its own
      return new RunAtStep(this.config, replay(this.config, this.platforms, stopAtStep(step)));
    }
    const r = this.timeline.move(stopAtStep(step), step - 1);
    const view: ReplayState = { ...r, machine: detachMachine(r.machine), trace: cloneGraph(r.trace) };
    this.noteFurthest(r);
    this.comeBack();
    return new RunAtStep(this.config, view);
  }

  /**
   * Every write to the page-table entry that translates `va` at `level` (4 = PML4E .. 1 = PTE) in
   * the tables of the current CR3, from the start of the run to now: step, routine, call chain, how
   * (a direct store, mmu_update, update_va_mapping, ptwr emulation, the domain builder,
   * early_make_pgtable, the processor's accessed/dirty flags), the entry's machine address, and its
   * value before and after. Cost: one replay of the run from step 0 (the platform as built is the
   * first checkpoint, so the domain builder does not run again) up to now with a watch on that
   * machine address, which leaves the run where it was (a 64 GiB boot writes some 16 million
   * entries, and none of them is recorded unless it is the watched one; bench/timetravel.ts
   * measured 0.23 to 0.56 times the boot with 4 and 64 GiB, 1.3 to 1.6 before checkpoints). The
   * run does not move.
   */
  entryHistory(va: bigint | string, level: number): EntryWrite[] {
    const a = checkEntryArgs(va, level);
    if (this.machine === null) throw new LabError('INVALID_STATE', 'the run has not started: call step(), runTo(symbol) or run() first');
    this.checkReplayable('entryHistory');
    return entryHistory((stop, probe, onStart) => {
      const r = this.timeline.move(stop, 0, probe, onStart);
      this.halt = r.halt;
    }, { machine: this.machine, outcome: this.state, step: this.step_ }, a.va48, a.level);
  }

  /** Each set_trap_table the guest made so far, with its step, routine and the vectors Xen held after it. */
  trapTableHistory(): TrapTableChange[] {
    if (this.config.platform !== 'xen') throw new LabError('NOT_XEN', 'set_trap_table is a Xen hypercall; this run is on bare metal');
    return trapTableHistory(this.trace);
  }

  /**
   * The last page fault of the run so far, explained: the hardware walk with the failing level and
   * bit; under Xen, Xen's side of the walk, its trap table then and why the fault was or was not
   * bounced; on bare metal, the IDT entry and the early handler's decision. NO_FAULT when the run
   * has not faulted. Cost: none at a crash; else one replay to the fault. The run does not move.
   */
  explainFault(): FaultExplanation {
    if (this.state !== 'crashed') this.checkReplayable('explainFault');
    return explainFault(this.config, this.platforms, { machine: this.machine, outcome: this.state, step: this.step_, trace: this.trace });
  }

  /** What the run shows now: outcome, consoles, stack, fault, counters, trace (a copy: moving the run later does not change it). */
  result(): RunResult {
    return buildResult(this.config, this.state, this.stoppedAt, this.step_, this.machine, this.machine === null ? this.trace : cloneGraph(this.trace), this.halt);
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
   * Moving the run (step, runTo, restore) forgets it.
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
    return this.machine === null ? [] : trapTableOf(this.machine);
  }

  /** The machine as it stands (null before the first step); the run's one machine, which every move changes in place. */
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

  /** What restore checks a snapshot against. */
  private extent(): Parameters<typeof checkSnapshot>[1] {
    const f = this.furthest;
    return {
      fingerprint: configFingerprint(this.config),
      furthest: f.step,
      ended: f.ended,
      routineAt: (step) => {
        if (f.names === null) f.names = routinesByStep(f.log);
        return f.names[step];
      },
    };
  }

  /** Steps past the furthest replayable point were made by firstMmSwitch, which no replay repeats. */
  private checkReplayable(what: string, target = this.step_): void {
    if (target > this.furthest.step) {
      throw new LabError('INVALID_STATE', `${what} replays the boot, which ends at step ${this.furthest.step}; step ${target} was reached by firstMmSwitch(), which a replay does not repeat`);
    }
  }

  private moveBackTo(step: number): this {
    this.checkReplayable('going back', step);
    return this.execute(stopAtStep(step), step - 1);
  }

  /** Brings the run's machine back to the run's own point after a look elsewhere (at). */
  private comeBack(): void {
    if (this.state === 'not-started') return;
    const r = this.state === 'paused' ? this.timeline.move(stopAtStep(this.step_), this.step_ - 1) : this.timeline.move(toTheEnd, Infinity);
    this.halt = r.halt;
  }

  private reset(): this {
    this.machine = null; this.state = 'not-started'; this.step_ = 0; this.stoppedAt = null; this.halt = null;
    this.trace = new TraceRecorder();
    return this;
  }

  /**
   * Moves the run's machine to the first routine entry after step `after` at which `stop` says
   * stop (or to the end): from the nearest checkpoint at or before `after` (timeline.ts).
   */
  private execute(stop: StopRule, after: number): this {
    // Arguments are checked by now.
    return this.commit(this.timeline.move(stop, after));
  }

  /** Makes a move's state the run's. */
  private commit(r: ReplayState): this {
    this.machine = r.machine;
    this.trace = r.trace;
    this.halt = r.halt;
    this.stoppedAt = r.stoppedAt;
    this.state = r.outcome;
    this.step_ = r.step;
    this.noteFurthest(r);
    return this;
  }

  /** Remembers a point beyond the furthest reached so far (its routine log copied: the machine moves on). */
  private noteFurthest(r: ReplayState): void {
    if (r.step > this.furthest.step || (r.outcome !== 'paused' && this.furthest.ended === null && r.step >= this.furthest.step)) {
      this.furthest = { step: r.step, ended: r.outcome === 'paused' ? null : r.outcome as 'booted' | 'crashed', log: { routines: cloneGraph(r.trace.routines) }, names: null };
    }
  }
}
