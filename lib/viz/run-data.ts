/**
 * Reading runs and traces: labels, outcomes, phase spans, the crash point, per-phase counters.
 * Every public viz function checks its input through `expectRun`/`expectTrace` first, so bad
 * input is refused with a LabError naming the argument before anything is built.
 */
import { LabError, describeValue } from '../errors';
import type { Counters, TraceEvent } from '../trace';
import type { CountersByPhase, OutcomeView, RunView, TraceView } from './types';

/** The run's kernel variant, from the top or from its config. */
export function runVariant(run: RunView): string {
  return run.variant ?? run.config?.variant ?? '?';
}

/** The run's platform, from the top or from its config. */
export function runPlatform(run: RunView): string {
  return run.platform ?? run.config?.platform ?? '?';
}

/** The legend name of a run: its label, or "variant / platform". */
export function runLabel(run: RunView): string {
  return run.label ?? `${runVariant(run)} / ${runPlatform(run)}`;
}

/** The outcome in words. */
export function outcomeText(outcome: OutcomeView): string {
  if (typeof outcome === 'string') return outcome;
  const head = outcome.kind ?? outcome.status ?? 'outcome';
  const detail = outcome.summary ?? outcome.reason;
  return detail === undefined ? head : `${head}: ${detail}`;
}

/** True when the outcome says the run crashed (or failed, died, halted). */
export function isCrashed(outcome: OutcomeView): boolean {
  return /crash|fail|dead|died|halt|panic/i.test(typeof outcome === 'string' ? outcome : `${outcome.kind ?? ''} ${outcome.status ?? ''}`);
}

/** The per-phase counters as [phase, counters] pairs, in the order phases began. */
export function phaseEntries(byPhase: CountersByPhase): [string, Counters][] {
  if (byPhase instanceof Map) return Array.from((byPhase as ReadonlyMap<string, Counters>).entries());
  return Object.keys(byPhase).map((k) => [k, (byPhase as Record<string, Counters>)[k]]);
}

/** The seq one past the run's last step. */
export function traceEnd(trace: TraceView): number {
  if (typeof trace.now === 'number') return trace.now;
  const last = trace.events[trace.events.length - 1];
  return last === undefined ? 0 : last.seq + 1;
}

/** A stretch of the run spent in one phase: [start, end) in seq. */
export interface PhaseSpan {
  name: string;
  start: number;
  end: number;
}

/** The phases in the order they ran, from the trace's phase events (a phase may appear twice). */
export function phaseSpans(trace: TraceView): PhaseSpan[] {
  const end = traceEnd(trace);
  const spans: PhaseSpan[] = [];
  const first = trace.events[0];
  let current: PhaseSpan | null = first !== undefined && first.type !== 'phase'
    ? { name: first.phase, start: 0, end } : null;
  for (const e of trace.events) {
    if (e.type !== 'phase') continue;
    if (current !== null) {
      current.end = e.seq;
      if (current.end > current.start) spans.push(current);
    }
    current = { name: e.name, start: e.seq, end };
  }
  if (current !== null && current.end > current.start) spans.push(current);
  return spans;
}

/** Where a run crashed: the domain-crash event, else the first unhandled page fault. */
export interface CrashPoint {
  seq: number;
  phase: string;
  /** one line saying what happened */
  what: string;
}

export function crashPoint(trace: TraceView): CrashPoint | null {
  let fault: TraceEvent | undefined;
  const faultText = (f: TraceEvent & { type: 'page-fault' }) =>
    `unhandled page fault at ${f.address} (ec=${f.errorCode.toString(16).toUpperCase().padStart(4, '0')})`;
  for (const e of trace.events) {
    if (e.type === 'domain-crash') {
      // the fault that led to it says more than the crash's own reason
      const why = fault !== undefined && fault.type === 'page-fault' ? faultText(fault) : e.reason;
      return { seq: e.seq, phase: e.phase, what: `domain ${e.domid} crashed: ${why}` };
    }
    if (fault === undefined && e.type === 'page-fault' && e.handler === 'unhandled') fault = e;
  }
  if (fault !== undefined && fault.type === 'page-fault') return { seq: fault.seq, phase: fault.phase, what: faultText(fault) };
  return null;
}

/** The sum of a record of counts. */
export function total(counts: Readonly<Record<string, number>>): number {
  let sum = 0;
  for (const k of Object.keys(counts)) sum += counts[k];
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Input checks

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** True when `x` names a variant and a platform (at the top or in `config`) and has an outcome and a trace. */
export function isRunLike(x: unknown): x is RunView {
  if (!isObject(x) || x.outcome === undefined || !isObject(x.trace)) return false;
  const config = isObject(x.config) ? x.config : {};
  return typeof (x.variant ?? config.variant) === 'string' && typeof (x.platform ?? config.platform) === 'string';
}

/** Refuses anything that is not a trace with events, counters and per-phase counters. */
export function expectTrace(name: string, value: unknown): TraceView {
  if (!isObject(value) || !Array.isArray(value.events) || !isObject(value.counters) || !isObject(value.countersByPhase)) {
    throw new LabError('WRONG_TYPE',
      `${name} must be a trace { events, counters, countersByPhase } (a TraceRecorder fits); got ${describeValue(value)}`);
  }
  return value as unknown as TraceView;
}

/** Refuses anything that is not a run { variant, platform, outcome, trace }. */
export function expectRun(name: string, value: unknown): RunView {
  if (!isRunLike(value)) {
    throw new LabError('WRONG_TYPE',
      `${name} must be a run { variant, platform, outcome, trace } or a lab result { config: { variant, platform }, outcome, trace }; got ${describeValue(value)}`);
  }
  expectTrace(`${name}.trace`, value.trace);
  return value as unknown as RunView;
}

/** Refuses anything but a non-empty array of runs. */
export function expectRuns(name: string, value: unknown): RunView[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new LabError('WRONG_TYPE', `${name} must be a non-empty array of runs; got ${describeValue(value)}`);
  }
  return value.map((r, i) => expectRun(`${name}[${i}]`, r));
}
