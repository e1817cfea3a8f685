/**
 * The plain plotly figure the builders return: `{ data, layout }`, typed only as far as the
 * builders and their tests need (no plotly types dependency). It is JSON: no bigint, no functions.
 */
export interface PlotlyAxis {
  title?: { text: string };
  type?: 'linear' | 'log' | 'category' | 'multicategory';
  domain?: [number, number];
  anchor?: string;
  side?: 'left' | 'right';
  overlaying?: string;
  rangemode?: 'tozero' | 'normal' | 'nonnegative';
  [key: string]: unknown;
}

export interface PlotlyTrace {
  type: 'scatter' | 'bar';
  name: string;
  x: (number | string)[];
  y: (number | string | null)[];
  /** one hover line per point, shown through hovertemplate "%{text}" */
  text?: string[];
  hovertemplate?: string;
  xaxis?: string;
  yaxis?: string;
  [key: string]: unknown;
}

export interface PlotlyShape {
  type: 'rect' | 'line';
  xref: string;
  yref: string;
  x0: number | string;
  x1: number | string;
  y0: number;
  y1: number;
  [key: string]: unknown;
}

export interface PlotlyAnnotation {
  text: string;
  x: number | string;
  y: number;
  xref: string;
  yref: string;
  showarrow: boolean;
  [key: string]: unknown;
}

export interface PlotlyLayout {
  title: { text: string; [key: string]: unknown };
  xaxis: PlotlyAxis;
  yaxis: PlotlyAxis;
  xaxis2?: PlotlyAxis;
  yaxis2?: PlotlyAxis;
  shapes?: PlotlyShape[];
  annotations?: PlotlyAnnotation[];
  barmode?: 'group' | 'stack';
  height?: number;
  [key: string]: unknown;
}

export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: PlotlyLayout;
}

/** Plotly's default colour sequence, set explicitly so a series keeps its colour across panels. */
export const COLOURS = ['#636efa', '#ef553b', '#00cc96', '#ab63fa', '#ffa15a', '#19d3f3', '#ff6692', '#b6e880', '#ff97ff', '#fecb52'];

/** An axis with a title. */
export function axis(title: string, extra: Partial<PlotlyAxis> = {}): PlotlyAxis {
  return { title: { text: title }, automargin: true, ...extra };
}

/** The layout fields every figure shares. */
export function baseLayout(title: string): Pick<PlotlyLayout, 'title'> & Record<string, unknown> {
  return {
    title: { text: title },
    height: 440,
    margin: { t: 70, r: 30, b: 60, l: 70 },
    hovermode: 'closest',
    legend: { orientation: 'h', y: -0.2 },
    font: { family: 'system-ui, -apple-system, Segoe UI, sans-serif', size: 12 },
  };
}

/** True when `x` looks like a plotly figure: `{ data: [...], layout: {...} }`. */
export function isFigure(x: unknown): x is PlotlyFigure {
  return typeof x === 'object' && x !== null && Array.isArray((x as PlotlyFigure).data)
    && typeof (x as PlotlyFigure).layout === 'object' && (x as PlotlyFigure).layout !== null;
}

/** A one-line text summary of a figure (the text/plain of its display). */
export function figureSummary(fig: PlotlyFigure): string {
  const names = fig.data.filter((t) => t.showlegend !== false).map((t) => t.name);
  // plotly titles may carry <br> and <span> markup: plain text here
  const title = (fig.layout.title?.text ?? 'untitled').replace(/<br\s*\/?>/gi, ' ').replace(/<[^>]*>/g, '');
  const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? `, … (${names.length - 8} more)` : '');
  return `Figure: ${title} (${fig.data.length} trace${fig.data.length === 1 ? '' : 's'}${shown === '' ? '' : `: ${shown}`})`;
}
