/**
 * A memory-size sweep: page-table pages and hypercalls against guest memory, both on log axes,
 * one line per variant and platform. A crashed run is drawn with a cross. Zero counts cannot sit
 * on a log axis: a series with no hypercalls (bare metal) is named in a note instead.
 */
import { LabError, describeValue } from '../../errors';
import { COLOURS, axis, baseLayout, type PlotlyAnnotation, type PlotlyFigure, type PlotlyTrace } from '../figure';
import { expectRun, isCrashed, isRunLike, runPlatform, runVariant, total } from '../run-data';
import type { RunView } from '../types';

/** One run of the sweep and the guest memory it had (by default, its config's memoryBytes). */
export interface SweepPoint {
  memoryMiB?: number;
  run: RunView;
}

/** The sweep's points: runs (lab results carry their memory size) or { memoryMiB, run }. */
export function memorySweepFigure(points: readonly (SweepPoint | RunView)[]): PlotlyFigure {
  if (!Array.isArray(points) || points.length === 0) {
    throw new LabError('WRONG_TYPE', `points must be a non-empty array of runs or { memoryMiB, run }; got ${describeValue(points)}`);
  }
  const series = new Map<string, { memoryMiB: number; run: RunView }[]>();
  points.forEach((p, i) => {
    const bare = isRunLike(p);
    const run = bare ? p : expectRun(`points[${i}].run`, (p as SweepPoint | null)?.run);
    const given = bare ? undefined : (p as SweepPoint).memoryMiB;
    const bytes = run.config?.memoryBytes;
    const memoryMiB = given ?? (typeof bytes === 'number' ? bytes / 2 ** 20 : undefined);
    if (typeof memoryMiB !== 'number' || !(memoryMiB > 0) || !Number.isFinite(memoryMiB)) {
      throw new LabError('VALUE_OUT_OF_RANGE',
        `points[${i}] needs a guest memory size: memoryMiB must be a positive number of MiB (or the run's config.memoryBytes); got ${describeValue(memoryMiB)}`);
    }
    const key = `${runVariant(run)} / ${runPlatform(run)}`;
    const list = series.get(key) ?? [];
    list.push({ memoryMiB, run });
    series.set(key, list);
  });

  const data: PlotlyTrace[] = [];
  const noHypercalls: string[] = [];
  let i = 0;
  for (const [name, list] of series) {
    list.sort((a, b) => a.memoryMiB - b.memoryMiB);
    const colour = COLOURS[i % COLOURS.length];
    const x = list.map((p) => p.memoryMiB);
    const symbols = list.map((p) => (isCrashed(p.run.outcome) ? 'x' : 'circle'));
    const pages = list.map((p) => ptPages(p.run));
    const calls = list.map((p) => total(p.run.trace.counters.hypercalls));
    const fate = (p: { run: RunView }) => (isCrashed(p.run.outcome) ? ', crashed' : '');
    data.push({
      type: 'scatter', mode: 'lines+markers', name, legendgroup: name, x, y: pages, xaxis: 'x', yaxis: 'y',
      text: list.map((p, k) => `${name}, ${p.memoryMiB} MiB guest: ${pages[k]} page-table pages${fate(p)}`),
      hovertemplate: '%{text}<extra></extra>', line: { color: colour }, marker: { color: colour, symbol: symbols, size: 8 },
    });
    if (calls.every((n) => n === 0)) {
      noHypercalls.push(name);
    } else {
      data.push({
        type: 'scatter', mode: 'lines+markers', name, legendgroup: name, showlegend: false, x,
        y: calls.map((n) => (n > 0 ? n : null)), xaxis: 'x2', yaxis: 'y2',
        text: list.map((p, k) => `${name}, ${p.memoryMiB} MiB guest: ${calls[k]} hypercalls${fate(p)}`),
        hovertemplate: '%{text}<extra></extra>', line: { color: colour }, marker: { color: colour, symbol: symbols, size: 8 },
      });
    }
    i++;
  }
  const annotations: PlotlyAnnotation[] = [];
  if (noHypercalls.length > 0) {
    annotations.push({
      text: `no hypercalls (not drawn on a log axis): ${noHypercalls.join('; ')}`, x: 0.77, y: 1.02, xref: 'paper', yref: 'paper',
      showarrow: false, yanchor: 'bottom', font: { size: 10, color: '#555' },
    });
  }
  return {
    data,
    layout: {
      ...baseLayout('Memory-size sweep: page-table pages and hypercalls against guest memory'),
      xaxis: axis('guest memory (MiB, log scale)', { type: 'log', domain: [0, 0.46] }),
      yaxis: axis('page-table pages (4 KiB each, log scale)', { type: 'log' }),
      xaxis2: axis('guest memory (MiB, log scale)', { type: 'log', domain: [0.54, 1], anchor: 'y2' }),
      yaxis2: axis('hypercalls (count, log scale)', { type: 'log', anchor: 'x2' }),
      annotations,
    },
  };
}

function ptPages(run: RunView): number {
  const p = run.trace.counters.ptPages;
  return p.l4 + p.l3 + p.l2 + p.l1;
}
