/**
 * Replay: the model is deterministic, so the state of a run at any step is what a fresh boot with
 * the same configuration reaches when stopped there. A run's moves replay its one machine from its
 * nearest checkpoint (timeline.ts); `replay` here boots a machine of its own from nothing, for what
 * must not touch the run's (explainFault's look at an earlier fault, a view after firstMmSwitch,
 * and the tests' ground truth). Nothing here keeps state between calls.
 */
import { TraceRecorder } from '../../trace/recorder';
import { GuestHalted } from '../../x86/cpu';
import { Paused } from '../../linux/kernel';
import type { NormalizedConfig } from '../config';
import { createMachine, type Machine, type PlatformFactory } from '../machine';

export type Outcome = 'not-started' | 'paused' | 'booted' | 'crashed';

/** Where a replay stops: at a routine's entry (`stopAt` says true), or at the end of the boot. */
export type StopRule = (name: string, step: number) => boolean;

/** The state a replay reached. Nothing of it is shared with any other replay. */
export interface ReplayState {
  machine: Machine;
  trace: TraceRecorder;
  outcome: Outcome;
  /** the routine a paused replay stopped at */
  stoppedAt: string | null;
  halt: GuestHalted | null;
  /** routines entered */
  step: number;
}

/** Stops a replay at the entry of the routine entered at step `target` (the end if the boot ends first). */
export const stopAtStep = (target: number): StopRule => (_name, step) => step >= target;

/** Runs to the end of the boot. */
export const toTheEnd: StopRule = () => false;

/**
 * Boots `config` from its start until `stop` says so or the boot ends. `trace` receives the
 * replay's events (a TimeTravel watch passes its own recorder); `onMachine` sees the machine
 * before the kernel's first routine (after the platform is built: on Xen, after the domain builder).
 */
export function replay(
  config: NormalizedConfig, platforms: PlatformFactory, stop: StopRule,
  trace: TraceRecorder = new TraceRecorder(), onMachine?: (m: Machine) => void,
): ReplayState {
  const machine = createMachine(config, trace, platforms);
  if (onMachine !== undefined) onMachine(machine);
  machine.kernel.onRoutineEnter = (name, step) => { if (stop(name, step)) throw new Paused(name, step); };
  try {
    return { machine, trace, ...startPlatform(machine), step: machine.kernel.steps };
  } finally {
    machine.kernel.onRoutineEnter = null;
  }
}

/**
 * Starts the machine's platform (the kernel's entry) and says how the boot stopped: it ended, a
 * stop rule paused it (the routine it paused at), or the guest halted (the halt). Any other error
 * is thrown on.
 */
export function startPlatform(machine: Machine): { outcome: Outcome; stoppedAt: string | null; halt: GuestHalted | null } {
  try {
    machine.platform.start(machine.kernel);
    return { outcome: 'booted', stoppedAt: null, halt: null };
  } catch (e) {
    if (e instanceof Paused) return { outcome: 'paused', stoppedAt: e.routine, halt: null };
    if (e instanceof GuestHalted) return { outcome: 'crashed', stoppedAt: null, halt: e };
    throw e;
  }
}
