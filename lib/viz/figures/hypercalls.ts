/**
 * The hypercalls of one run: on top by hypercall name, below the MMUEXT operations (the commands
 * inside mmuext_op calls) by command. One horizontal bar per name, its count written beside it,
 * the phases that made them in the hover text. Counts span orders of magnitude (thousands of pins,
 * two base-pointer loads), so a panel whose counts do goes on a log scale and every bar stays
 * visible; the base-pointer commands the fix is about are drawn in red.
 */
import type { Counters } from '../../trace';
import { axis, baseLayout, type PlotlyAnnotation, type PlotlyFigure, type PlotlyTrace } from '../figure';
import { expectRun, phaseEntries, runLabel, runPlatform, total } from '../run-data';
import type { RunView } from '../types';
import { logAxisFields, shortCount } from './ticks';

/** MMUEXT commands that load a page-table base: what a CR3 load becomes under Xen. */
const BASEPTR = /^MMUEXT_NEW(_USER)?_BASEPTR$/;

export function hypercallsFigure(run: RunView): PlotlyFigure {
  expectRun('run', run);
  const entries = phaseEntries(run.trace.countersByPhase);
  const calls = panel(entries, (c) => c.hypercalls, 'x', 'y', (name) => `${name} hypercall`);
  const ops = panel(entries, (c) => c.mmuextOps, 'x2', 'y2', (name) => `MMUEXT op ${name}`);
  const data = [calls.trace, ops.trace].filter((t): t is PlotlyTrace => t !== null);
  const annotations: PlotlyAnnotation[] = [];
  if (data.length === 0) {
    annotations.push({
      text: `no hypercalls in this run (platform: ${runPlatform(run)})`, x: 0.5, y: 0.5, xref: 'paper', yref: 'paper', showarrow: false,
      font: { size: 14 },
    });
  }
  // the panels share the height in proportion to their number of bars
  const nCalls = calls.trace === null ? 0 : calls.trace.y.length;
  const nOps = ops.trace === null ? 0 : ops.trace.y.length;
  const split = nOps === 0 ? 0 : nCalls === 0 ? 1 : Math.min(0.7, Math.max(0.3, nOps / (nCalls + nOps)));
  const layout = {
    ...baseLayout(`Hypercalls: ${runLabel(run)}`),
    height: 160 + 26 * (nCalls + nOps),
    margin: { t: 50, r: 50, b: 50, l: 10 },
    showlegend: false,
    xaxis: axis(calls.log ? 'hypercalls (count, log scale)' : 'hypercalls (count)', { anchor: 'y', ...calls.fields }),
    yaxis: axis('', { type: 'category', domain: [nOps === 0 ? 0 : split + 0.16, 1], autorange: 'reversed' }),
    xaxis2: axis(ops.log ? 'MMUEXT operations (count, log scale)' : 'MMUEXT operations (count)', { anchor: 'y2', ...ops.fields }),
    yaxis2: axis('', { type: 'category', anchor: 'x2', domain: [0, Math.max(0, split - 0.02)], autorange: 'reversed' }),
    annotations,
  };
  return { data, layout };
}

/** One panel: a bar per name (most frequent first), the per-phase split in the hover. */
function panel(
  entries: [string, Counters][], pick: (c: Counters) => Record<string, number>, xaxis: string, yaxis: string, noun: (name: string) => string,
): { trace: PlotlyTrace | null; log: boolean; fields: Record<string, unknown> } {
  const totals = new Map<string, number>();
  const byPhase = new Map<string, string[]>();
  for (const [phase, c] of entries) {
    const counts = pick(c);
    if (total(counts) === 0) continue;
    for (const k of Object.keys(counts)) {
      if (counts[k] === 0) continue;
      totals.set(k, (totals.get(k) ?? 0) + counts[k]);
      byPhase.set(k, [...(byPhase.get(k) ?? []), `${counts[k]} in ${phase}`]);
    }
  }
  const names = Array.from(totals.keys()).sort((a, b) => (totals.get(b) as number) - (totals.get(a) as number));
  if (names.length === 0) return { trace: null, log: false, fields: {} };
  const x = names.map((n) => totals.get(n) as number);
  const min = Math.min(...x);
  const max = Math.max(...x);
  const log = max / min >= 20;
  return {
    log,
    fields: log ? logAxisFields(min, max) : { rangemode: 'tozero', range: [0, max * 1.25] },
    trace: {
      type: 'bar', orientation: 'h', name: yaxis === 'y' ? 'hypercalls' : 'MMUEXT operations', x, y: names, xaxis, yaxis,
      text: x.map(shortCount), textposition: 'outside', cliponaxis: false,
      hovertext: names.map((n, i) => `${x[i]} × ${noun(n)}: ${(byPhase.get(n) as string[]).join(', ')}`),
      hovertemplate: '%{hovertext}<extra></extra>',
      marker: { color: names.map((n) => (BASEPTR.test(n) ? '#d62728' : yaxis === 'y' ? '#636efa' : '#00a37a')) },
    },
  };
}
