/**
 * Display glue for the tslab kernel: show(tslab, x) sends ONE display_data carrying every MIME
 * type of x's bundle, through the kernel's own writer (see kernel-writer.ts), or, when that is
 * not reachable, tslab.display.html with the HTML alone.
 *
 * The notebook passes the kernel's `tslab` object (`import * as tslab from 'tslab'`); compiled
 * library code never calls require('tslab'), which could load a second instance that throws
 * "Not ready".
 *
 * plotly.js is inlined once per kernel process: by the first show() of a figure, or explicitly by
 * loadPlotly(tslab), which always inlines (put it in the notebook's first cell; see
 * plotly-state.ts for why re-running cells makes that the safer pattern).
 */
import { LabError, describeValue } from '../../errors';
import { findKernelWriter } from './kernel-writer';
import { mimeBundle, showableKind, type MimeBundle } from './mime-bundle';
import { plotlyLoaderHtml } from './plotly-html';
import { plotlySource } from './plotly-source';
import { markPlotlyInlined, plotlyInlined } from './plotly-state';
import { renderStaticImage, staticImageProblem } from './static-image';
import type { PlotlyFigure } from '../figure';

/** What show() needs of the kernel's tslab module. */
export interface TslabLike {
  display: { html(s: string): void };
}

export interface ShowOptions {
  /** 'auto' (default): inline plotly.js if this kernel has not yet; 'always'; 'never' */
  inlinePlotly?: 'auto' | 'always' | 'never';
  /** a static PNG beside a chart (default true; see static-image.ts: it needs Chromium) */
  image?: boolean;
}

function expectTslab(tslab: unknown): TslabLike {
  const d = (tslab as TslabLike | null)?.display;
  if (typeof tslab !== 'object' || tslab === null || typeof d !== 'object' || d === null || typeof d.html !== 'function') {
    throw new LabError('WRONG_TYPE',
      `tslab must be the kernel's tslab module (import * as tslab from 'tslab'), with display.html; got ${describeValue(tslab)}`);
  }
  return tslab as TslabLike;
}

/** Sends a bundle as one display_data; returns the route taken. */
function emit(tslab: TslabLike, bundle: MimeBundle): 'kernel' | 'fallback' {
  const writer = findKernelWriter(tslab);
  if (writer !== null) {
    writer({ data: { ...bundle }, metadata: {}, transient: {} }, false);
    return 'kernel';
  }
  tslab.display.html(bundle['text/html']);
  return 'fallback';
}

/** Displays a figure, an HTML view, a run result, a walk result or counters in a tslab cell. */
export function show(tslab: TslabLike, x: unknown, options: ShowOptions = {}): void {
  const t = expectTslab(tslab);
  const mode = options.inlinePlotly ?? 'auto';
  if (mode !== 'auto' && mode !== 'always' && mode !== 'never') {
    throw new LabError('WRONG_TYPE', `options.inlinePlotly must be 'auto', 'always' or 'never'; got ${describeValue(mode)}`);
  }
  const figure = showableKind(x) === 'figure';
  const inline = figure && (mode === 'always' || (mode === 'auto' && !plotlyInlined()));
  const image = figure && options.image !== false ? renderStaticImage(x as PlotlyFigure) : null;
  const imageNote = figure && image === null && options.image !== false ? staticImageProblem() : '';
  emit(t, mimeBundle(x, { inlinePlotly: inline, image, imageNote }));
  if (inline) markPlotlyInlined();
}

/** The same as show(): the name some prefer. */
export const display = show;

/** Sends plotly.js to the notebook (always, even if sent before): the first-cell helper. */
export function loadPlotly(tslab: TslabLike): void {
  const t = expectTslab(tslab);
  const { version, code } = plotlySource();
  emit(t, {
    'text/html': plotlyLoaderHtml(),
    'text/plain': `plotly.js ${version} inlined (${(code.length / 1e6).toFixed(1)} MB, once for this notebook)`,
  });
  markPlotlyInlined();
}

/** How show() reaches the notebook from this kernel: 'kernel' (one multi-MIME output) or 'fallback' (HTML only). */
export function displayRoute(tslab: TslabLike): 'kernel' | 'fallback' {
  return findKernelWriter(expectTslab(tslab)) === null ? 'fallback' : 'kernel';
}
