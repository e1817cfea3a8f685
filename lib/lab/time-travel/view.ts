/**
 * A read-only view of a run at one step: the state a replay to that step reached, kept apart from
 * the run (moving the run does not change it, and it does not move the run).
 */
import { TraceRecorder } from '../../trace/recorder';
import type { PageTableDump } from '../../x86/ptdump';
import type { Access, AccessKind, WalkResult } from '../../x86/walk';
import { LabError } from '../../errors';
import { addressSpaceOf, dumpAddressSpace, walkAddressSpace, type AddressSpace } from '../address-space';
import type { NormalizedConfig } from '../config';
import { buildResult, type RunResult } from '../result';
import type { Outcome, ReplayState } from './replay';
import { trapTableOf, type TrapTableEntry } from './trap-table';

export class RunAtStep {
  /** the step the view shows (routines entered) */
  readonly step: number;
  /** the routine entered at that step (null at step 0) */
  readonly routine: string | null;
  readonly outcome: Outcome;
  /** the routines on the kernel's stack, outermost first */
  readonly callChain: string[];

  constructor(private readonly config: NormalizedConfig, private readonly state: ReplayState | null) {
    this.step = state === null ? 0 : state.step;
    this.routine = state === null ? null : state.stoppedAt;
    this.outcome = state === null ? 'not-started' : state.outcome;
    this.callChain = state === null ? [] : state.machine.kernel.stack.callChain;
  }

  /** The address space at this step (INVALID_STATE at step 0, before the machine exists). */
  addressSpace(): AddressSpace {
    if (this.state === null) throw new LabError('INVALID_STATE', 'at step 0 the run has not started: there is no address space yet');
    return addressSpaceOf(this.state.machine);
  }

  /**
   * Walks `va` in the tables in force at this step. A walk that succeeds sets accessed flags in the
   * view's own copy of memory, as the hardware would; the run itself is untouched.
   */
  walk(va: bigint | string, access: Access | AccessKind = 'read'): WalkResult {
    return walkAddressSpace(this.addressSpace(), va, access);
  }

  pageTables(): PageTableDump {
    return dumpAddressSpace(this.addressSpace());
  }

  /** Xen's trap table for vCPU 0 at this step (NOT_XEN on bare metal). */
  trapTable(): TrapTableEntry[] {
    if (this.state === null) {
      if (this.config.platform !== 'xen') throw new LabError('NOT_XEN', 'the trap table is Xen\'s; this run is on bare metal');
      return [];
    }
    return trapTableOf(this.state.machine);
  }

  /** The run's result as it stood at this step. */
  result(): RunResult {
    const s = this.state;
    if (s === null) return buildResult(this.config, 'not-started', null, 0, null, new TraceRecorder(), null);
    return buildResult(this.config, s.outcome, s.stoppedAt, s.step, s.machine, s.trace, s.halt);
  }
}
