/**
 * The trace recorder of a run that can go back: an ordinary TraceRecorder that, while a probe is
 * set (entryHistory's watch), calls it at every report point before recording. The run's machine
 * keeps one recorder for its whole life (Xen's host and the hypercall page hold it), so a watch is
 * a probe set on it for one replay rather than a recorder of its own.
 */
import type { PtLevel, TraceEventBody } from '../../trace/events';
import { TraceRecorder } from '../../trace/recorder';

/** What a probe sees: a routine's entry or exit, or any other report (an event or a count). */
export interface TraceProbe {
  check(where: 'enter' | 'leave' | 'here', event: TraceEventBody | null): void;
}

export class ProbedTraceRecorder extends TraceRecorder {
  probe: TraceProbe | null = null;

  override routine(enter: boolean, name: string, depth: number): void {
    if (this.probe !== null) this.probe.check(enter ? 'enter' : 'leave', null);
    super.routine(enter, name, depth);
  }

  override emit(body: TraceEventBody): void {
    if (this.probe !== null) this.probe.check('here', body);
    super.emit(body);
  }

  override hypercall(name: string, op: string | null, result: number, domid: number): void {
    if (this.probe !== null) this.probe.check('here', { type: 'hypercall', name, op, result, domid });
    super.hypercall(name, op, result, domid);
  }

  override countPteWrite(level: PtLevel): void {
    if (this.probe !== null) this.probe.check('here', null);
    super.countPteWrite(level);
  }

  override countPteWrites(level: PtLevel, n: number): void {
    if (this.probe !== null) this.probe.check('here', null);
    super.countPteWrites(level, n);
  }

  override countMmuextOp(cmd: string): void {
    if (this.probe !== null) this.probe.check('here', null);
    super.countMmuextOp(cmd);
  }
}
