/**
 * A run's one machine and the checkpoints it keeps, so that going back (or forward) costs one
 * restore of the nearest checkpoint at or before the target plus a replay from there, not a replay
 * of the whole boot.
 *
 * Where a run can carry on from: the boot path's top routines are resumable (lib/linux/kernel.ts
 * `callResumable`: xen_start_kernel or startup_64 and x86_64_start_kernel, x86_64_start_reservations,
 * start_kernel, setup_arch, init_mem_mapping, init_range_memory_mapping, init_memory_mapping,
 * kernel_physical_mapping_init, phys_pud_init (one GiB a step), xen_pagetable_init or
 * native_pagetable_init, paging_init, sparse_init (one 128 MiB section a step)): their step and
 * locals live in the heap. Between two
 * steps, when every routine on the kernel's stack is one of them, the whole state of the run is in
 * its object graph, and a checkpoint is a saved copy of that graph (graph-state.ts). A restored run
 * re-enters the resumable routines at their saved steps. The first checkpoint is step 0, the
 * platform just built (on Xen: after the domain builder), so no move after the first builds it again.
 *
 * When: at such a point beyond the furthest step any move has reached (so going back and forth
 * pays no capture), once `ms` milliseconds of boot have run since the last checkpoint (default:
 * 25 ms, or one and a half times what the cheaper of the last two captures cost if more, so that
 * checkpoints take about two fifths of the boot after step 0 at most), or every `steps` routine
 * entries when set (tests). At most `max` are kept (default 16): past that, every second one is
 * dropped (never the first) and the spacing doubles.
 *
 * Memory: a checkpoint shares every 256 KiB chunk of buffer that is unchanged since the checkpoint
 * before it, so the first holds the platform's memory once (for a 64 GiB Xen boot about 0.25 GB)
 * and later ones mostly the page-table pages and frame-table counts written in between; plus a
 * shallow copy of the run's objects each (tens of thousands). bench/timetravel.ts measured a
 * 64 GiB Xen boot's set at 0.40 to 0.52 GB, a 4 GiB one's at about 0.05 GB.
 *
 * Cost of a move: restoring a checkpoint (every saved chunk compared with the live one and copied
 * back where it differs, plus the objects' properties) plus the replay from it to the target; the
 * capture of new checkpoints on the way, only beyond the furthest step reached. bench/timetravel.ts
 * measures it against the boot.
 */
import { Paused } from '../../linux/kernel';
import type { NormalizedConfig } from '../config';
import { createMachine, type Machine, type PlatformFactory } from '../machine';
import { captureGraph, restoreGraph, type GraphState } from './graph-state';
import { ProbedTraceRecorder, type TraceProbe } from './probed-trace';
import { startPlatform, type ReplayState, type StopRule } from './replay';

/** How often a run keeps a checkpoint. */
export interface CheckpointPolicy {
  /** a checkpoint every this many routine entries (deterministic; for tests) */
  steps?: number;
  /** a checkpoint once this many milliseconds of boot have run since the last (default 25) */
  ms?: number;
  /** the most checkpoints kept (default 16, at least 2) */
  max?: number;
  /**
   * keep none, not even step 0: every move builds the platform and boots from nothing, as runs did
   * before checkpoints (a run that only goes forward once: reproduce, sweeps)
   */
  off?: boolean;
}

interface Checkpoint {
  /** routines entered when it was taken (a checkpoint serves targets after this step) */
  step: number;
  state: GraphState;
}

const now = (): number => Date.now();

export class Timeline {
  private live: { machine: Machine; trace: ProbedTraceRecorder } | null = null;
  private checkpoints: Checkpoint[] = [];
  private skip = new Set<object>();
  private stepsApart: number | null;
  private msApart: number;
  private readonly max: number;
  private readonly off: boolean;
  private lastCaptureMs = 0;
  private prevCaptureMs = 0;
  /** during a move: when the last checkpoint was passed or taken, and the one before the current point */
  private mark = 0;
  private base: Checkpoint | null = null;
  private next = 0;
  /** the furthest step any move has reached: checkpoints are taken beyond it only */
  private reached = 0;

  constructor(private readonly config: NormalizedConfig, private readonly platforms: PlatformFactory, policy: CheckpointPolicy = {}) {
    this.stepsApart = policy.steps ?? null;
    this.msApart = policy.ms ?? 25;
    this.max = Math.max(2, policy.max ?? 16);
    this.off = policy.off === true;
  }

  /** The steps of the checkpoints kept, in order (step 0 is the platform just built). */
  get checkpointSteps(): number[] {
    return this.checkpoints.map((c) => c.step);
  }

  /** Bytes of buffer copies the checkpoints hold (chunks shared between them counted once). */
  get checkpointBytes(): number {
    const seen = new Set<ArrayBuffer>();
    let n = 0;
    for (const c of this.checkpoints) for (const chunks of c.state.buffers.values()) for (const b of chunks) if (!seen.has(b)) { seen.add(b); n += b.byteLength; }
    return n;
  }

  /** Forgets the machine and the checkpoints (the next move builds the platform again). */
  clear(): void {
    this.live = null;
    this.checkpoints = [];
    this.reached = 0;
  }

  /**
   * Moves the run's machine to the first routine entry after step `after` at which `stop` says
   * stop, or to the end of the boot: restores the latest checkpoint at or before `after`, then
   * replays from it. `probe` watches the replay (it then starts from step 0, so it sees all of it;
   * `onStart` sees the machine before the replay, after the platform is built).
   */
  move(stop: StopRule, after: number, probe: TraceProbe | null = null, onStart?: (m: Machine) => void): ReplayState {
    const start = probe === null ? after : 0;
    let cp: Checkpoint;
    if (this.off) {
      const trace = new ProbedTraceRecorder();
      this.live = { machine: createMachine(this.config, trace, this.platforms), trace };
      cp = { step: 0, state: { saved: [], buffers: new Map(), bytes: 0 } };
      this.checkpoints = [];
    } else if (this.live === null) {
      const trace = new ProbedTraceRecorder();
      const machine = createMachine(this.config, trace, this.platforms);
      this.live = { machine, trace };
      this.skip = new Set<object>([machine.kernel.variant, machine.kernel.image, machine.kernel.page, this.config]);
      cp = { step: 0, state: this.capture(null) };
      this.checkpoints = [cp];
    } else {
      let i = 0;
      while (i + 1 < this.checkpoints.length && this.checkpoints[i + 1].step <= start) i++;
      cp = this.checkpoints[i];
      restoreGraph(cp.state);
    }
    const { machine, trace } = this.live;
    const k = machine.kernel;
    k.resumeDepth = k.resumable.length > 0 ? 0 : -1;
    this.base = cp;
    this.next = this.off ? 0 : this.checkpoints.indexOf(cp) + 1;
    this.mark = now();
    if (onStart !== undefined) onStart(machine);
    trace.probe = probe;
    k.onRoutineEnter = (name, step) => { if (stop(name, step)) throw new Paused(name, step); };
    k.onResumePoint = this.off ? null : () => this.atResumePoint();
    let stopped: ReturnType<typeof startPlatform>;
    try {
      stopped = startPlatform(machine);
    } catch (e) {
      // an internal error: the machine's state is unknown, start afresh next time
      this.clear();
      throw e;
    } finally {
      k.onRoutineEnter = null;
      k.onResumePoint = null;
      k.resumeDepth = -1;
      trace.probe = null;
      this.reached = Math.max(this.reached, k.steps);
    }
    return { machine, trace, ...stopped, step: k.steps };
  }

  /** A point the run can carry on from: keep a checkpoint here if it is time to. */
  private atResumePoint(): void {
    const live = this.live as { machine: Machine; trace: ProbedTraceRecorder };
    const step = live.machine.kernel.steps;
    // checkpoints this replay has passed become the base
    while (this.next < this.checkpoints.length && this.checkpoints[this.next].step <= step) {
      this.base = this.checkpoints[this.next++];
      this.mark = now();
    }
    const base = this.base as Checkpoint;
    if (step <= base.step || step <= this.reached) return;
    const nextCp = this.checkpoints[this.next];
    if (this.stepsApart !== null) {
      if (step - base.step < this.stepsApart || (nextCp !== undefined && nextCp.step - step < this.stepsApart)) return;
    } else if (now() - this.mark < Math.max(this.msApart, 1.5 * this.lastCaptureMs)) {
      return;
    }
    const probe = live.trace.probe;
    live.trace.probe = null; // the watch is not part of the run's state
    const t0 = now();
    const cp: Checkpoint = { step, state: this.capture(base.state) };
    const took = now() - t0;
    // the cheaper of the last two captures: one slowed by a busy machine does not spread the rest
    this.lastCaptureMs = this.prevCaptureMs === 0 ? took : Math.min(took, this.prevCaptureMs);
    this.prevCaptureMs = took;
    live.trace.probe = probe;
    this.checkpoints.splice(this.next, 0, cp);
    this.next++;
    this.base = cp;
    if (this.checkpoints.length > this.max) this.thin();
    this.mark = now();
  }

  /** Drops every second checkpoint but the first and the newest taken, and doubles the spacing. */
  private thin(): void {
    const keep = this.checkpoints.filter((c, i) => i % 2 === 0 || c === this.base);
    this.checkpoints = keep;
    this.next = this.checkpoints.indexOf(this.base as Checkpoint) + 1;
    if (this.stepsApart !== null) this.stepsApart *= 2; else this.msApart *= 2;
  }

  private capture(prev: GraphState | null): GraphState {
    const { machine, trace } = this.live as { machine: Machine; trace: ProbedTraceRecorder };
    return captureGraph([machine, trace], this.skip, prev);
  }
}
