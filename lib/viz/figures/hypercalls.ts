/**
 * Hypercalls of one run per boot phase, stacked: on the left by hypercall name, on the right the
 * MMUEXT operations (the commands inside mmuext_op calls) by command.
 */
import type { Counters } from '../../trace';
import { COLOURS, axis, baseLayout, type PlotlyAnnotation, type PlotlyFigure, type PlotlyTrace } from '../figure';
import { expectRun, phaseEntries, runLabel, runPlatform, total } from '../run-data';
import type { RunView } from '../types';

export function hypercallsFigure(run: RunView): PlotlyFigure {
  expectRun('run', run);
  const entries = phaseEntries(run.trace.countersByPhase)
    .filter(([, c]) => total(c.hypercalls) > 0 || total(c.mmuextOps) > 0);
  const phases = entries.map(([p]) => p);
  const data: PlotlyTrace[] = [
    ...stacked(entries, (c) => c.hypercalls, 'x', 'y', (name, n, p) => `${n} ${name} hypercall${n === 1 ? '' : 's'} in phase ${p}`, 0),
  ];
  const opsStart = data.length;
  data.push(...stacked(entries, (c) => c.mmuextOps, 'x2', 'y2',
    (name, n, p) => `${n} MMUEXT op${n === 1 ? '' : 's'} ${name} in phase ${p}`, opsStart));
  const annotations: PlotlyAnnotation[] = [];
  if (phases.length === 0) {
    annotations.push({
      text: `no hypercalls in this run (platform: ${runPlatform(run)})`, x: 0.5, y: 0.5, xref: 'paper', yref: 'paper', showarrow: false,
      font: { size: 14 },
    });
  }
  return {
    data,
    layout: {
      ...baseLayout(`Hypercalls per boot phase: ${runLabel(run)}`),
      barmode: 'stack',
      xaxis: axis('boot phase', { domain: [0, 0.46], type: 'category' }),
      yaxis: axis('hypercalls (count, by name)', { rangemode: 'tozero' }),
      xaxis2: axis('boot phase', { domain: [0.54, 1], anchor: 'y2', type: 'category' }),
      yaxis2: axis('MMUEXT operations (count, by command)', { anchor: 'x2', rangemode: 'tozero' }),
      annotations,
    },
  };
}

/** One bar trace per key found in any phase, keys in first-seen order. */
function stacked(
  entries: [string, Counters][], pick: (c: Counters) => Record<string, number>, xaxis: string, yaxis: string,
  hover: (name: string, n: number, phase: string) => string, colourOffset: number,
): PlotlyTrace[] {
  const keys: string[] = [];
  for (const [, c] of entries) for (const k of Object.keys(pick(c))) if (!keys.includes(k)) keys.push(k);
  const phases = entries.map(([p]) => p);
  return keys.map((key, i) => {
    const y = entries.map(([, c]) => pick(c)[key] ?? 0);
    return {
      type: 'bar', name: key, x: phases, y, xaxis, yaxis,
      text: y.map((n, k) => hover(key, n, phases[k])), textposition: 'none',
      hovertemplate: '%{text}<extra></extra>', marker: { color: COLOURS[(colourOffset + i) % COLOURS.length] },
    };
  });
}
