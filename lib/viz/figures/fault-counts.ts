/**
 * Page faults side by side for several runs (say three variants on two platforms): on the left
 * by boot phase, on the right by who handled them. One bar colour per run, grouped.
 */
import type { FaultHandler } from '../../trace';
import { COLOURS, axis, baseLayout, type PlotlyAnnotation, type PlotlyFigure, type PlotlyTrace } from '../figure';
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
  checked.forEach((run, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const name = `${runLabel(run)}${isCrashed(run.outcome) ? ' (crashed)' : ''}`;
    const byPhase = new Map(phaseEntries(run.trace.countersByPhase).map(([p, c]) => [p, c.pageFaults.byHandler]));
    const phaseY = phases.map((p) => sumHandlers(byPhase.get(p)));
    data.push({
      type: 'bar', name, legendgroup: `run${i}`, x: phases, y: phaseY,
      text: phases.map((p, k) => `${name}: ${phaseY[k]} page fault${phaseY[k] === 1 ? '' : 's'} in phase ${p}`),
      textposition: 'none', hovertemplate: '%{text}<extra></extra>', xaxis: 'x', yaxis: 'y', marker: { color: colour },
    });
    const handlerY = handlers.map((h) => run.trace.counters.pageFaults.byHandler[h]);
    data.push({
      type: 'bar', name, legendgroup: `run${i}`, showlegend: false, x: handlers.map((h) => FAULT_HANDLER_LABELS[h]), y: handlerY,
      text: handlers.map((h, k) => `${name}: ${handlerY[k]} page fault${handlerY[k] === 1 ? '' : 's'} ${FAULT_HANDLER_LABELS[h]}`),
      textposition: 'none', hovertemplate: '%{text}<extra></extra>', xaxis: 'x2', yaxis: 'y2',
      marker: { color: colour },
    });
  });
  const annotations: PlotlyAnnotation[] = [];
  if (phases.length === 0) {
    annotations.push({ text: 'no page faults in any run', x: 0.22, y: 0.5, xref: 'paper', yref: 'paper', showarrow: false });
  }
  return {
    data,
    layout: {
      ...baseLayout('Page faults by boot phase and by handler'),
      barmode: 'group',
      xaxis: axis('boot phase (phases without faults left out)', { domain: [0, 0.46], type: 'category' }),
      yaxis: axis('page faults (count)', { rangemode: 'tozero', ...wholeTicks(data, 'y') }),
      xaxis2: axis('handled by', { domain: [0.54, 1], anchor: 'y2', type: 'category' }),
      yaxis2: axis('page faults (count)', { anchor: 'x2', rangemode: 'tozero', ...wholeTicks(data, 'y2') }),
      annotations,
    },
  };
}

/** Counts are whole: with few of them, tick every 1 rather than at 0.2, 0.4 ... */
function wholeTicks(data: PlotlyTrace[], yaxis: string): Record<string, number> {
  let max = 0;
  for (const t of data) if (t.yaxis === yaxis) for (const v of t.y) max = Math.max(max, v ?? 0);
  return max <= 8 ? { dtick: 1 } : {};
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
