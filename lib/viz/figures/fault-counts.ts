/**
 * Page faults side by side for several runs (say three variants on two platforms): on the left
 * by boot phase, on the right by who handled them. One bar colour per run, grouped.
 */
import type { FaultHandler } from '../../trace';
import { COLOURS, axis, baseLayout, type PlotlyAnnotation, type PlotlyFigure, type PlotlyTrace } from '../figure';
import { logAxisFields, shortCount } from './ticks';
import { expectRuns, isCrashed, phaseEntries, runLabel } from '../run-data';
import type { RunView } from '../types';

/** The handlers in the order shown, with what each one means. */
export const FAULT_HANDLER_LABELS: Record<FaultHandler, string> = {
  'early-pf': 'early #PF handler (bare metal)',
  kernel: 'kernel #PF handler',
  bounced: 'bounced by Xen to the guest',
  fixup: 'fixed up inside Xen',
  unhandled: 'unhandled (crash)',
};
const HANDLERS = Object.keys(FAULT_HANDLER_LABELS) as FaultHandler[];

export function faultCountsFigure(runs: readonly RunView[]): PlotlyFigure {
  const checked = expectRuns('runs', runs);
  const phases = phasesWithFaults(checked);
  const handlers = HANDLERS.filter((h) => checked.some((r) => r.trace.counters.pageFaults.byHandler[h] > 0));
  const data: PlotlyTrace[] = [];
  // a run that had no fault anywhere shown gets no (empty) legend entry: it is named in a note
  const silent: string[] = [];
  checked.forEach((run, i) => {
    if (run.trace.counters.pageFaults.handled + run.trace.counters.pageFaults.unhandled === 0) { silent.push(runLabel(run)); return; }
    const colour = COLOURS[i % COLOURS.length];
    const name = `${runLabel(run)}${isCrashed(run.outcome) ? ' (crashed)' : ''}`;
    const byPhase = new Map(phaseEntries(run.trace.countersByPhase).map(([p, c]) => [p, c.pageFaults.byHandler]));
    const phaseY = phases.map((p) => sumHandlers(byPhase.get(p)));
    data.push({
      type: 'bar', name, legendgroup: `run${i}`, x: phases, y: phaseY,
      hovertext: phases.map((p, k) => `${name}: ${phaseY[k]} page fault${phaseY[k] === 1 ? '' : 's'} in phase ${p}`),
      ...countLabels(phaseY), hovertemplate: '%{hovertext}<extra></extra>', xaxis: 'x', yaxis: 'y', marker: { color: colour },
    });
    const handlerY = handlers.map((h) => run.trace.counters.pageFaults.byHandler[h]);
    data.push({
      type: 'bar', name, legendgroup: `run${i}`, showlegend: false, x: handlers.map((h) => FAULT_HANDLER_LABELS[h]), y: handlerY,
      hovertext: handlers.map((h, k) => `${name}: ${handlerY[k]} page fault${handlerY[k] === 1 ? '' : 's'} ${FAULT_HANDLER_LABELS[h]}`),
      ...countLabels(handlerY), hovertemplate: '%{hovertext}<extra></extra>', xaxis: 'x2', yaxis: 'y2',
      marker: { color: colour },
    });
  });
  const annotations: PlotlyAnnotation[] = [];
  if (phases.length === 0) {
    annotations.push({ text: 'no page faults in any run', x: 0.5, y: 0.5, xref: 'paper', yref: 'paper', showarrow: false });
  } else if (silent.length > 0) {
    annotations.push({
      text: `no page faults: ${silent.join('; ')}`, x: 1, y: 1.09, xref: 'paper', yref: 'paper', xanchor: 'right', yanchor: 'bottom',
      showarrow: false, font: { size: 10, color: '#555' },
    });
  }
  return {
    data,
    layout: {
      ...baseLayout('Page faults by boot phase and by handler'),
      height: countScale(data, 'y').log || countScale(data, 'y2').log ? 680 : 560,
      margin: { t: 80, r: 20, b: 40 + 22 * Math.ceil(data.length / 2), l: 70 },
      legend: { orientation: 'h', yref: 'container', y: 0.005, yanchor: 'bottom', x: 0 },
      barmode: 'group',
      // two panels one above the other, so each keeps the page's width (and stays readable at 420 px)
      xaxis: axis('boot phase (those with faults)', { type: 'category', anchor: 'y', automargin: true, tickangle: -30 }),
      yaxis: axis(`page faults${countScale(data, 'y').log ? ' (log scale)' : ''}`, { domain: [0.74, 1], ...countScale(data, 'y').fields }),
      xaxis2: axis('handled by', { anchor: 'y2', type: 'category', automargin: true, tickangle: -30 }),
      yaxis2: axis(`page faults${countScale(data, 'y2').log ? ' (log scale)' : ''}`, { anchor: 'x2', domain: [0.12, 0.4], ...countScale(data, 'y2').fields }),
      annotations,
    },
  };
}

/** Each bar's count written above it (the hover says what it counts). */
function countLabels(y: number[]): Record<string, unknown> {
  return { text: y.map((n) => (n > 0 ? shortCount(n) : '')), textposition: 'outside', cliponaxis: false, textfont: { size: 11 } };
}

/**
 * The y axis of a panel: linear with whole ticks for a few faults; a log scale when the counts span
 * orders of magnitude, so a single crash stays visible next to thousands of fix-ups.
 */
export function countScale(data: PlotlyTrace[], yaxis: string): { log: boolean; fields: Record<string, unknown> } {
  let max = 0;
  let min = Infinity;
  for (const t of data) if (t.yaxis === yaxis) for (const v of t.y) if (typeof v === 'number' && v > 0) { max = Math.max(max, v); min = Math.min(min, v); }
  if (max === 0) return { log: false, fields: { rangemode: 'tozero' } };
  if (max / min >= 20) return { log: true, fields: logAxisFields(min, max) };
  return { log: false, fields: { rangemode: 'tozero', range: [0, max * 1.2], ...(max <= 8 ? { dtick: 1 } : {}) } };
}

function sumHandlers(byHandler: Record<FaultHandler, number> | undefined): number {
  if (byHandler === undefined) return 0;
  let n = 0;
  for (const h of HANDLERS) n += byHandler[h] ?? 0;
  return n;
}

/** Phases in first-seen order over the runs, keeping those where some run faulted. */
function phasesWithFaults(runs: readonly RunView[]): string[] {
  const order: string[] = [];
  const faulted = new Set<string>();
  for (const run of runs) {
    for (const [phase, c] of phaseEntries(run.trace.countersByPhase)) {
      if (!order.includes(phase)) order.push(phase);
      if (sumHandlers(c.pageFaults.byHandler) > 0) faulted.add(phase);
    }
  }
  return order.filter((p) => faulted.has(p));
}
