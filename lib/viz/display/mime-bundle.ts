/**
 * The MIME bundle of a displayable object: what one display_data carries.
 *
 * - a plotly figure: application/vnd.plotly.v1+json (JupyterLab with jupyterlab-plotly, VS Code,
 *   nteract), text/html (a div and a script, preceded by the plotly.js loader when this output is
 *   the one that inlines it: classic Notebook, JupyterLab without the extension, nbconvert HTML)
 *   and text/plain (a one-line summary for terminals);
 * - an HTML view: text/html and text/plain;
 * - a run result, a walk result or counters: their rich view's text/html and text/plain.
 */
import { LabError, describeValue } from '../../errors';
import type { Counters } from '../../trace';
import { figureSummary, isFigure, type PlotlyFigure } from '../figure';
import { pageWalkView, type WalkResultView } from '../html/page-walk';
import { countersView, isCounters, runSummaryView } from '../html/run-summary';
import { isHtmlView, type HtmlView } from '../html/view';
import { isRunLike } from '../run-data';
import type { RunView } from '../types';
import { plotlyChartHtml, plotlyLoaderHtml } from './plotly-html';
import type { StaticImage } from './static-image';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

export interface MimeBundle {
  'text/plain': string;
  'text/html': string;
  /** a static picture of a chart (base64), for viewers that draw no plotly */
  'image/png'?: string;
  [PLOTLY_MIME]?: { data: unknown[]; layout: unknown; config: Record<string, unknown> };
}

export interface BundleOptions {
  /** put the plotly.js loader in front of the chart (figures only) */
  inlinePlotly?: boolean;
  /** a static PNG of the figure (renderStaticImage): sent as image/png and shown in the HTML until plotly draws */
  image?: StaticImage | null;
  /** said in text/plain when a figure has no image (why not) */
  imageNote?: string;
}

const isWalkResult = (x: unknown): x is WalkResultView =>
  typeof x === 'object' && x !== null && typeof (x as WalkResultView).ok === 'boolean' && Array.isArray((x as WalkResultView).steps);

/** The kind of a displayable object, or null. */
export function showableKind(x: unknown): 'figure' | 'html-view' | 'run' | 'walk' | 'counters' | null {
  if (isFigure(x)) return 'figure';
  if (isHtmlView(x)) return 'html-view';
  if (isRunLike(x)) return 'run';
  if (isWalkResult(x)) return 'walk';
  if (isCounters(x)) return 'counters';
  return null;
}

function figureBundle(fig: PlotlyFigure, inline: boolean, image: StaticImage | null, note: string): MimeBundle {
  const bundle: MimeBundle = {
    [PLOTLY_MIME]: { data: fig.data, layout: fig.layout, config: { responsive: true, displaylogo: false } },
    'text/html': (inline ? plotlyLoaderHtml() : '') + plotlyChartHtml(fig, image),
    'text/plain': figureSummary(fig) + (image === null && note !== '' ? `\n(no static image: ${note})` : ''),
  };
  if (image !== null) bundle['image/png'] = image.png;
  return bundle;
}

const viewBundle = (v: HtmlView): MimeBundle => ({ 'text/html': v.html, 'text/plain': v.text });

/** The bundle for `x`; a LabError for anything show() cannot display. */
export function mimeBundle(x: unknown, options: BundleOptions = {}): MimeBundle {
  switch (showableKind(x)) {
    case 'figure': return figureBundle(x as PlotlyFigure, options.inlinePlotly === true, options.image ?? null, options.imageNote ?? '');
    case 'html-view': return viewBundle(x as HtmlView);
    case 'run': return viewBundle(runSummaryView(x as RunView));
    case 'walk': return viewBundle(pageWalkView({ result: x as WalkResultView }));
    case 'counters': return viewBundle(countersView(x as Counters));
    default:
      throw new LabError('WRONG_TYPE',
        `x must be a plotly figure { data, layout }, an HTML view (pageWalkView, pageTableExplorer, consoleView, ...), ` +
        `a run result, a walk result or counters; got ${describeValue(x)}`);
  }
}
