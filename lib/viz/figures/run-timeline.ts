/**
 * The timeline of one run (in the manner of QIRA): the routines entered, step by step, along the x
 * axis at their call depth, and above them marks for CR3 loads, trap-table changes, hypercalls
 * (counted per 1/60 of the run), page faults and the crash; the boot phases shade the background,
 * each named, so that a long stretch of deep calls (init_mem_mapping filling page tables) reads as
 * the phase it is. Each mark's hover text names its step, which a reader can pass to `run.at(step)`
 * to see the state there.
 */
import type { TraceEvent } from '../../trace';
import { COLOURS, axis, baseLayout, type PlotlyFigure, type PlotlyTrace } from '../figure';
import { expectRun, phaseSpans, runLabel, type PhaseSpan } from '../run-data';
import { LANE_PX, phaseAnnotations, phaseShapes } from './phase-shading';
import type { RunView } from '../types';

/** A run whose trace can give back its routine entries (a lab RunResult's TraceRecorder does). */
export type TimelineRun = RunView & { trace: RunView['trace'] & { routines?: { events(): readonly TraceEvent[] } } };

export interface RunTimelineOptions {
  /** at most this many routine entries are drawn (the deepest calls are left out first; default 2500: more
   *  points than a 1300 px chart can separate only make the page heavier) */
  maxRoutinePoints?: number;
}

const ROWS = ['CR3 load', 'trap table', 'hypercalls', 'page fault', 'crash'] as const;

export function runTimelineFigure(run: TimelineRun, options: RunTimelineOptions = {}): PlotlyFigure {
  expectRun('run', run);
  const max = options.maxRoutinePoints ?? 2500;
  const routineEvents = run.trace.routines !== undefined
    ? run.trace.routines.events()
    : run.trace.events.filter((e) => e.type === 'routine-enter' || e.type === 'routine-leave');
  const enters = routineEvents.filter((e): e is TraceEvent & { type: 'routine-enter' } => e.type === 'routine-enter');
  const enterSeqs = enters.map((e) => e.seq);
  /** the step an event happened in: the routines entered before it */
  const stepOf = (seq: number): number => {
    let lo = 0;
    let hi = enterSeqs.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (enterSeqs[mid] < seq) lo = mid + 1; else hi = mid; }
    return lo;
  };
  // The deepest depth whose entries (with all shallower ones) fit in `max` points.
  const byDepth = new Map<number, number>();
  for (const e of enters) byDepth.set(e.depth, (byDepth.get(e.depth) ?? 0) + 1);
  let keepDepth = 0;
  let kept = 0;
  for (const d of [...byDepth.keys()].sort((a, b) => a - b)) {
    if (kept + (byDepth.get(d) as number) > max) break;
    kept += byDepth.get(d) as number;
    keepDepth = d;
  }
  const rx: number[] = [];
  const ry: number[] = [];
  const rt: string[] = [];
  enters.forEach((e, i) => {
    if (e.depth > keepDepth) return;
    rx.push(i + 1);
    ry.push(e.depth);
    rt.push(`step ${i + 1}: ${e.name}`);
  });
  const data: PlotlyTrace[] = [{
    type: 'scatter', mode: 'markers', name: `routine entries${keepDepth < Math.max(0, ...byDepth.keys()) ? ` (depth ≤ ${keepDepth})` : ''}`,
    x: rx, y: ry, text: rt, hovertemplate: '%{text}<extra></extra>', xaxis: 'x', yaxis: 'y',
    marker: { size: 4, color: '#8a94a6' },
  }];
  const mark = (row: typeof ROWS[number], colour: string, symbol: string, points: { step: number; text: string; size?: number }[]): void => {
    if (points.length === 0) return;
    data.push({
      type: 'scatter', mode: 'markers', name: row, x: points.map((p) => p.step), y: points.map(() => ROWS.indexOf(row)),
      text: points.map((p) => p.text), hovertemplate: '%{text}<extra></extra>', xaxis: 'x', yaxis: 'y2',
      customdata: points.map((p) => p.step),
      marker: { size: points.map((p) => p.size ?? 10), color: colour, symbol, line: { width: 1, color: '#1b1f24' } },
    });
  };
  const cr3: { step: number; text: string }[] = [];
  const traps: { step: number; text: string }[] = [];
  const faults: { step: number; text: string }[] = [];
  const crashes: { step: number; text: string }[] = [];
  // hypercalls counted per bin of 1/60 of the run (at least one step), each bin a mark at its first call
  const binWidth = Math.max(1, Math.ceil(enters.length / 60));
  const bins = new Map<number, { first: number; last: number; names: Map<string, number>; n: number }>();
  for (const e of run.trace.events) {
    const step = stepOf(e.seq);
    switch (e.type) {
      case 'cr3-load': cr3.push({ step, text: `step ${step}: CR3 ← ${e.value} by ${e.by}` }); break;
      case 'trap-table': traps.push({ step, text: `step ${step}: set_trap_table by ${e.by}; Xen holds vectors ${e.vectors.join(', ') || 'none'}` }); break;
      case 'page-fault': faults.push({ step, text: `step ${step}: #PF at ${e.address}, error code ${e.errorCode.toString(16).padStart(4, '0')}, ${e.handler}` }); break;
      case 'domain-crash': crashes.push({ step, text: `step ${step}: domain ${e.domid} crashed: ${e.reason}` }); break;
      case 'hypercall': {
        const key = Math.floor(step / binWidth);
        const b = bins.get(key);
        if (b !== undefined) { b.last = step; b.n++; b.names.set(e.name, (b.names.get(e.name) ?? 0) + 1); }
        else bins.set(key, { first: step, last: step, n: 1, names: new Map([[e.name, 1]]) });
        break;
      }
      default: break;
    }
  }
  mark('CR3 load', COLOURS[0], 'diamond', cr3);
  mark('trap table', COLOURS[2], 'square', traps);
  mark('hypercalls', COLOURS[4], 'circle', [...bins.values()].map((b) => ({
    step: b.first,
    size: 5 + Math.min(6, Math.log2(b.n)), // at most 11 px: sixty marks side by side stay apart at 900 px
    text: `step${b.first === b.last ? ` ${b.first}` : `s ${b.first}-${b.last}`}: ${b.n} hypercall${b.n === 1 ? '' : 's'} (${[...b.names].map(([n, c]) => `${n} ×${c}`).join(', ')})`,
  })));
  mark('page fault', COLOURS[1], 'x', faults);
  mark('crash', '#b00020', 'star', crashes);
  // the boot phases, in steps: consecutive spans of one phase merged
  const phases: PhaseSpan[] = [];
  for (const p of phaseSpans(run.trace)) {
    const span = { name: p.name, start: stepOf(p.start), end: Math.max(stepOf(p.start) + 1, stepOf(p.end)) };
    const last = phases[phases.length - 1];
    if (last !== undefined && last.name === span.name) last.end = span.end;
    else phases.push(span);
  }
  // only the phases wide enough to hold their name are named (the early ones last a few steps each)
  const total = phases.length === 0 ? 1 : phases[phases.length - 1].end - phases[0].start;
  const labels = phaseAnnotations(phases.filter((p) => p.end - p.start >= 0.1 * total));
  const base = baseLayout(`Timeline of one run: ${runLabel(run)}`);
  return {
    data,
    layout: {
      ...base,
      margin: { ...(base.margin as Record<string, number>), t: 70 + labels.lanes * LANE_PX },
      shapes: phaseShapes(phases),
      annotations: labels.annotations,
      height: 520 + labels.lanes * LANE_PX,
      xaxis: axis('step (routines entered)', { rangemode: 'tozero' }),
      yaxis: axis('call depth', { domain: [0, 0.62], autorange: 'reversed' }),
      yaxis2: axis('', { domain: [0.7, 1], tickvals: ROWS.map((_, i) => i), ticktext: [...ROWS], range: [-0.5, ROWS.length - 0.5] }),
    },
  };
}
