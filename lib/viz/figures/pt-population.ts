/**
 * Page-table population over the boot: page-table pages per level (L4, L3, L2, L1), cumulative,
 * against the trace's seq (the run's clock), with the phases shaded, the page-table entries
 * written per phase on a second axis and the crash point marked.
 *
 * The trace holds an event per page-table page allocated or freed, but only counts for entry
 * writes (they happen millions of times), so entries are shown as "written by the end of each
 * phase", not as entries present at each step.
 */
import { axis, baseLayout, type PlotlyFigure, type PlotlyTrace } from '../figure';
import { crashPoint, expectRun, phaseEntries, phaseSpans, runLabel, traceEnd } from '../run-data';
import type { RunView } from '../types';
import { LANE_PX, phaseAnnotations, phaseShapes } from './phase-shading';

const LEVEL_NAMES: Record<number, string> = { 4: 'L4 (PML4)', 3: 'L3 (PDPT)', 2: 'L2 (PD)', 1: 'L1 (PT)' };

export function ptPopulationFigure(run: RunView): PlotlyFigure {
  expectRun('run', run);
  const trace = run.trace;
  const end = traceEnd(trace);
  const data: PlotlyTrace[] = [];
  for (const level of [4, 3, 2, 1] as const) {
    const x: number[] = [0];
    const y: number[] = [0];
    const text: string[] = [`${LEVEL_NAMES[level]}: 0 pages at the start`];
    let count = 0;
    for (const e of trace.events) {
      if ((e.type !== 'pt-page-alloc' && e.type !== 'pt-page-free') || e.level !== level) continue;
      count += e.type === 'pt-page-alloc' ? 1 : -1;
      x.push(e.seq);
      y.push(count);
      text.push(`${LEVEL_NAMES[level]}: ${count} page-table page${count === 1 ? '' : 's'} after step ${e.seq}` +
        ` (${e.type === 'pt-page-alloc' ? 'allocated' : 'freed'} pfn 0x${e.pfn.toString(16)} by ${e.by}, phase ${e.phase})`);
    }
    x.push(end);
    y.push(count);
    text.push(`${LEVEL_NAMES[level]}: ${count} page-table page${count === 1 ? '' : 's'} at the end (step ${end})`);
    data.push({
      type: 'scatter', mode: 'lines', name: LEVEL_NAMES[level], x, y, text,
      line: { shape: 'hv', width: 2 }, hovertemplate: '%{text}<extra></extra>',
    });
  }

  const spans = phaseSpans(trace);
  const written = entriesWrittenByPhase(run, spans.map((s) => ({ name: s.name, end: s.end })));
  if (written.x.length > 0) {
    data.push({
      type: 'scatter', mode: 'lines+markers', name: 'entries written (cumulative, at phase ends)',
      x: written.x, y: written.y, text: written.text, yaxis: 'y2',
      line: { dash: 'dot', width: 1, color: '#888' }, marker: { size: 6, color: '#888' },
      hovertemplate: '%{text}<extra></extra>',
    });
  }

  const shapes = phaseShapes(spans);
  const labels = phaseAnnotations(spans);
  const annotations = labels.annotations;
  const crash = crashPoint(trace);
  if (crash !== null) {
    shapes.push({
      type: 'line', xref: 'x', yref: 'paper', x0: crash.seq, x1: crash.seq, y0: 0, y1: 1,
      line: { color: '#d62728', width: 2, dash: 'dash' },
    });
    annotations.push({
      text: `crash: ${crash.what}`, x: crash.seq, y: 0.82, xref: 'x', yref: 'paper', showarrow: true,
      arrowcolor: '#d62728', ax: -40, ay: -20, xanchor: 'right', font: { color: '#d62728', size: 11 },
      bgcolor: 'rgba(255,255,255,0.8)',
    });
  }

  return {
    data,
    layout: {
      ...baseLayout(`Page-table pages over the boot: ${runLabel(run)}`),
      // the title at the very top, the phase labels' lanes below it
      title: { text: `Page-table pages over the boot: ${runLabel(run)}`, y: 0.98, yanchor: 'top' },
      margin: { t: 60 + LANE_PX * labels.lanes, r: 70, b: 60, l: 70 },
      xaxis: axis('boot step (trace sequence number: events and counted operations)', { rangemode: 'tozero' }),
      yaxis: axis('page-table pages (4 KiB each)', { rangemode: 'tozero' }),
      yaxis2: axis('page-table entries written', { overlaying: 'y', side: 'right', rangemode: 'tozero', showgrid: false }),
      shapes,
      annotations,
    },
  };
}

/** Cumulative PTE writes at the end of each phase's last span, in the order of the run. */
function entriesWrittenByPhase(run: RunView, spans: { name: string; end: number }[]): { x: number[]; y: number[]; text: string[] } {
  const lastEnd = new Map<string, number>();
  for (const s of spans) lastEnd.set(s.name, s.end);
  const points: { at: number; phase: string; w: number; detail: string }[] = [];
  for (const [phase, c] of phaseEntries(run.trace.countersByPhase)) {
    const w = c.pteWrites.l4 + c.pteWrites.l3 + c.pteWrites.l2 + c.pteWrites.l1;
    const at = lastEnd.get(phase);
    if (w === 0 || at === undefined) continue;
    points.push({ at, phase, w, detail: `L4 ${c.pteWrites.l4}, L3 ${c.pteWrites.l3}, L2 ${c.pteWrites.l2}, L1 ${c.pteWrites.l1}` });
  }
  points.sort((a, b) => a.at - b.at);
  const out = { x: [] as number[], y: [] as number[], text: [] as string[] };
  let sum = 0;
  for (const p of points) {
    sum += p.w;
    out.x.push(p.at);
    out.y.push(sum);
    out.text.push(`${sum} page-table entries written by the end of phase ${p.phase} (${p.w} in it: ${p.detail})`);
  }
  return out;
}
