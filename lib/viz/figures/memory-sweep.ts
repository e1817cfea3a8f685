/**
 * A memory-size sweep: page-table pages and hypercalls against guest memory, both on log axes,
 * one line per variant and platform, the two panels one above the other. The x ticks are the
 * memory sizes swept (256 M … 16 G), the y ticks whole powers of ten. A crashed run is drawn with
 * a large cross on top of the others. Zero counts cannot sit on a log axis: a series with no
 * hypercalls (bare metal) is named in a note, and with no hypercalls at all there is no second panel.
 */
import { LabError, describeValue } from '../../errors';
import { COLOURS, axis, baseLayout, type PlotlyAnnotation, type PlotlyFigure, type PlotlyTrace } from '../figure';
import { logAxisFields, mibLabel } from './ticks';
import { expectRun, isCrashed, isRunLike, runPlatform, runVariant, total } from '../run-data';
import type { RunView } from '../types';

/** Lines that coincide (three kernels under Xen) stay apart by their dash. */
const DASHES = ['solid', 'dash', 'dot', 'dashdot'];

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
      hovertemplate: '%{text}<extra></extra>', line: { color: colour, dash: DASHES[i % DASHES.length], width: 2 }, marker: { color: colour, symbol: symbols, size: symbols.map((m) => (m === 'x' ? 13 : 8)) },
    });
    if (calls.every((n) => n === 0)) {
      noHypercalls.push(name);
    } else {
      data.push({
        type: 'scatter', mode: 'lines+markers', name, legendgroup: name, showlegend: false, x,
        y: calls.map((n) => (n > 0 ? n : null)), xaxis: 'x2', yaxis: 'y2',
        text: list.map((p, k) => `${name}, ${p.memoryMiB} MiB guest: ${calls[k]} hypercalls${fate(p)}`),
        hovertemplate: '%{text}<extra></extra>', line: { color: colour, dash: DASHES[i % DASHES.length], width: 2 }, marker: { color: colour, symbol: symbols, size: symbols.map((m) => (m === 'x' ? 13 : 8)) },
      });
    }
    i++;
  }
  // crashed series last, so their crosses sit on top of lines that coincide
  const crashedLast = (t: PlotlyTrace) => ((t.marker as { symbol: string[] }).symbol.includes('x') ? 1 : 0);
  data.sort((a, b) => crashedLast(a) - crashedLast(b));
  const hasCalls = data.some((t) => t.yaxis === 'y2');
  const annotations: PlotlyAnnotation[] = [];
  if (noHypercalls.length > 0 && hasCalls) {
    annotations.push({
      text: `no hypercalls (bare metal): ${noHypercalls.join('; ')}`, x: 0, y: 0.42, xref: 'paper', yref: 'paper',
      showarrow: false, xanchor: 'left', yanchor: 'bottom', font: { size: 10, color: '#555' },
    });
  }
  const sizes = Array.from(new Set(data.flatMap((t) => t.x as number[]))).sort((a, b) => a - b);
  const xTicks = { tickvals: sizes, ticktext: sizes.map(mibLabel) };
  const range = (axisName: string) => {
    const ys = data.filter((t) => t.yaxis === axisName).flatMap((t) => t.y).filter((v): v is number => typeof v === 'number' && v > 0);
    return ys.length === 0 ? {} : logAxisFields(Math.min(...ys), Math.max(...ys), false);
  };
  const xRange = [Math.log10(sizes[0]) - 0.12, Math.log10(sizes[sizes.length - 1]) + 0.12];
  return {
    data,
    layout: {
      ...baseLayout(hasCalls ? 'Page tables and hypercalls vs guest memory' : 'Page-table pages vs guest memory'),
      height: hasCalls ? 620 : 400,
      legend: { orientation: 'h', yref: 'container', y: 0.005, yanchor: 'bottom', x: 0 },
      margin: { t: 50, r: 20, b: 110, l: 70 },
      xaxis: axis('guest memory (log scale)', { type: 'log', anchor: 'y', range: xRange, ...xTicks }),
      yaxis: axis('page-table pages (4 KiB each, log scale)', { domain: hasCalls ? [0.58, 1] : [0, 1], ...range('y') }),
      ...(hasCalls ? {
        xaxis2: axis('guest memory (log scale)', { type: 'log', anchor: 'y2', range: xRange, ...xTicks }),
        yaxis2: axis('hypercalls (count, log scale)', { anchor: 'x2', domain: [0, 0.4], ...range('y2') }),
      } : {}),
      annotations,
    },
  };
}

function ptPages(run: RunView): number {
  const p = run.trace.counters.ptPages;
  return p.l4 + p.l3 + p.l2 + p.l1;
}
