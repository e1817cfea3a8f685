/**
 * Page-table population over the boot: page-table pages per level (L4, L3, L2, L1), cumulative,
 * against the page-table entries the boot has written so far (the work of building the tables, the
 * reader's clock, rather than the trace's sequence numbers), with the phases shaded and named and
 * the crash marked. Pages go on a log scale (one L4 page next to hundreds of L1 pages); a level
 * with no page allocated in the run is named in a note instead of a flat line at zero.
 *
 * The trace counts entry writes without an event each; every event and routine record takes one
 * step of the trace's clock and every entry write one, so the entries written before an event are
 * its seq minus the events and routine records before it.
 */
import { LabError } from '../../errors';
import type { TraceEvent } from '../../trace';
import { axis, baseLayout, type PlotlyFigure, type PlotlyTrace } from '../figure';
import { crashPoint, expectRun, phaseSpans, runLabel, traceEnd, type PhaseSpan } from '../run-data';
import type { RunView, TraceView } from '../types';
import { LANE_PX, phaseAnnotations, phaseShapes } from './phase-shading';
import { logAxisFields } from './ticks';

const LEVEL_NAMES: Record<number, string> = { 4: 'L4 (PML4)', 3: 'L3 (PDPT)', 2: 'L2 (PD)', 1: 'L1 (PT)' };

function allEvents(trace: TraceView): readonly TraceEvent[] {
  const t = trace as TraceView & { allEvents?: () => TraceEvent[] };
  return typeof t.allEvents === 'function' ? t.allEvents() : trace.events;
}

/** seq → page-table entries written before it. */
export function entriesClock(trace: TraceView): (seq: number) => number {
  const seqs = allEvents(trace).map((e) => e.seq);
  seqs.sort((a, b) => a - b);
  return (seq: number) => {
    let lo = 0;
    let hi = seqs.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (seqs[mid] < seq) lo = mid + 1; else hi = mid; }
    return seq - lo;
  };
}

export function ptPopulationFigure(run: RunView): PlotlyFigure {
  expectRun('run', run);
  const trace = run.trace;
  const clock = entriesClock(trace);
  const end = clock(traceEnd(trace));
  if (!(end >= 0)) throw new LabError('INVALID_STATE', 'the trace\'s clock runs backwards');
  const data: PlotlyTrace[] = [];
  const none: string[] = [];
  for (const level of [4, 3, 2, 1] as const) {
    const x: number[] = [0];
    const y: number[] = [0];
    const text: string[] = [`${LEVEL_NAMES[level]}: 0 pages at the start`];
    let count = 0;
    for (const e of trace.events) {
      if ((e.type !== 'pt-page-alloc' && e.type !== 'pt-page-free') || e.level !== level) continue;
      count += e.type === 'pt-page-alloc' ? 1 : -1;
      x.push(clock(e.seq));
      y.push(count);
      text.push(`${LEVEL_NAMES[level]}: ${count} page-table page${count === 1 ? '' : 's'} after ${clock(e.seq)} entries written` +
        ` (${e.type === 'pt-page-alloc' ? 'allocated' : 'freed'} pfn 0x${e.pfn.toString(16)} by ${e.by}, phase ${e.phase})`);
    }
    if (x.length === 1) { none.push(LEVEL_NAMES[level]); continue; }
    x.push(end);
    y.push(count);
    text.push(`${LEVEL_NAMES[level]}: ${count} page-table page${count === 1 ? '' : 's'} at the end (${end} entries written)`);
    data.push({
      type: 'scatter', mode: 'lines', name: LEVEL_NAMES[level], x, y: y.map((v) => (v > 0 ? v : null)), text,
      line: { shape: 'hv', width: 2 }, hovertemplate: '%{text}<extra></extra>', connectgaps: false,
    });
  }

  const spans: PhaseSpan[] = phaseSpans(trace).map((sp) => ({ name: sp.name, start: clock(sp.start), end: clock(sp.end) }))
    .filter((sp) => sp.end > sp.start);
  const shapes = phaseShapes(spans);
  const labels = phaseAnnotations(spans);
  const annotations = labels.annotations;
  const crash = crashPoint(trace);
  if (crash !== null) {
    const at = clock(crash.seq);
    shapes.push({
      type: 'line', xref: 'x', yref: 'paper', x0: at, x1: at, y0: 0, y1: 1,
      line: { color: '#d62728', width: 2, dash: 'dash' },
    });
    annotations.push({
      text: `crash:<br>${crash.what.replace(': ', ':<br>')}`, x: at, y: 0.5, xref: 'x', yref: 'paper', showarrow: true,
      arrowcolor: '#d62728', ax: -30, ay: 0, xanchor: 'right', font: { color: '#d62728', size: 11 },
      bgcolor: 'rgba(255,255,255,0.9)', align: 'right',
    });
  }
  const ys = data.flatMap((t) => t.y).filter((v): v is number => typeof v === 'number' && v > 0);
  // a level with no page is named under the x axis, not drawn as a flat line at zero
  const note = none.length === 0 ? '' : `<br><span style="font-size:11px;color:#555">(no ${none.join(', ')} page allocated by this run)</span>`;
  const title = `Page-table pages: ${runLabel(run)}`;
  return {
    data,
    layout: {
      ...baseLayout(title),
      // the title at the very top, the phase labels' lanes below it
      title: { text: title, y: 0.98, yanchor: 'top' },
      margin: { t: 60 + LANE_PX * labels.lanes, r: 20, b: 110, l: 70 },
      legend: { orientation: 'h', yref: 'container', y: 0.005, yanchor: 'bottom', x: 0 },
      height: 480,
      xaxis: axis(`page-table entries written so far${note}`, { rangemode: 'tozero', range: [0, end * 1.01] }),
      yaxis: axis('page-table pages (4 KiB each, log scale)', ys.length > 0 ? logAxisFields(Math.min(...ys), Math.max(...ys), false) : { rangemode: 'tozero' }),
      shapes,
      annotations,
    },
  };
}
