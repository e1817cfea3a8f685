import { describe, expect, it } from 'vitest';
import { crashPoint, expectRun, isCrashed, outcomeText, phaseEntries, phaseSpans, runLabel, traceEnd } from '../../lib/viz/run-data';
import { bareMetalRun, knownRun, knownTrace } from './fixtures';
import { expectLabError } from '../support/lab-error';

describe('reading runs and traces', () => {
  it('splits the known trace into its phases by seq, ending at the recorder clock', () => {
    expect(traceEnd(knownTrace())).toBe(19);
    expect(phaseSpans(knownTrace())).toEqual([
      { name: 'boot', start: 0, end: 6 }, { name: 'map', start: 6, end: 16 }, { name: 'crash', start: 16, end: 19 },
    ]);
  });

  it('ends at the last event + 1 when the trace has no clock, and opens with the phase of events before any phase event', () => {
    const t = knownTrace(false);
    const view = { events: t.events.slice(1), counters: t.counters, countersByPhase: t.countersByPhase };
    expect(traceEnd(view)).toBe(16);
    expect(phaseSpans(view)[0]).toEqual({ name: 'boot', start: 0, end: 6 });
  });

  it('finds the crash at the domain-crash event (named by the fault before it), else at the first unhandled fault, else none', () => {
    expect(crashPoint(knownTrace())).toEqual({ seq: 18, phase: 'crash', what: 'domain 7 crashed: unhandled page fault at ffffea000005b2d0 (ec=0000)' });
    const t0 = knownTrace();
    const crashOnly = { ...t0, events: t0.events.filter((e) => e.type !== 'page-fault') };
    expect(crashPoint(crashOnly)!.what).toBe('domain 7 crashed: unhandled page fault');
    const t = knownTrace();
    const noCrashEvent = { ...t, events: t.events.filter((e) => e.type !== 'domain-crash') };
    expect(crashPoint(noCrashEvent)).toEqual({ seq: 17, phase: 'crash', what: 'unhandled page fault at ffffea000005b2d0 (ec=0000)' });
    expect(crashPoint(knownTrace(false))).toBeNull();
  });

  it('labels runs and words outcomes, telling crashes from boots', () => {
    expect(runLabel(knownRun())).toBe('8170e6bed465 / xen');
    expect(runLabel(knownRun({ label: 'mine' }))).toBe('mine');
    // the lab's RunResult names them in its config
    const labShaped = { ...knownRun(), variant: undefined, platform: undefined, config: { variant: 'v3.8', platform: 'bare-metal', memoryBytes: 2 ** 30 } };
    expect(runLabel(labShaped)).toBe('v3.8 / bare-metal');
    expect(expectRun('run', labShaped)).toBe(labShaped);
    expect(outcomeText({ kind: 'crashed', reason: 'page fault' })).toBe('crashed: page fault');
    expect(isCrashed({ kind: 'crashed' })).toBe(true);
    expect(isCrashed('booted')).toBe(false);
  });

  it('reads per-phase counters from a Map or a plain object alike', () => {
    const t = knownTrace();
    const fromMap = phaseEntries(t.countersByPhase).map(([p, c]) => [p, c.ptPages.l1]);
    const fromRecord = phaseEntries(Object.fromEntries(t.countersByPhase)).map(([p, c]) => [p, c.ptPages.l1]);
    expect(fromMap).toEqual([['start', 0], ['boot', 0], ['map', 2], ['crash', 0]]);
    expect(fromRecord).toEqual(fromMap);
  });

  it('refuses a run without a trace, naming the argument', () => {
    expectLabError(() => expectRun('run', { variant: 'v3.8', platform: 'xen', outcome: 'booted' }), 'WRONG_TYPE');
    expect(() => expectRun('run', { variant: 'v3.8', platform: 'xen', outcome: 'booted', trace: {} })).toThrow(/run\.trace must be a trace/);
    expect(() => expectRun('runs[2]', 42)).toThrow(/runs\[2\] must be a run .*got 42 \(number\)/);
    expect(expectRun('run', bareMetalRun()).platform).toBe('bare-metal');
  });
});
