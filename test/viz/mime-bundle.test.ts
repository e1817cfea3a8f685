import { describe, expect, it } from 'vitest';
import { PLOTLY_MIME, consoleView, mimeBundle, plotlyChartHtml, plotlyLoaderHtml, ptPopulationFigure, type PlotlyFigure } from '../../lib/viz';
import { walk } from '../../lib/x86/walk';
import { knownRun } from './fixtures';
import { tinySpace } from './walk-fixtures';
import { expectLabError } from '../support/lab-error';

const BANNER = /plotly\.js \(cartesian - minified\) v\d/g;
const hostile: PlotlyFigure = {
  data: [{ type: 'bar', name: '</script><script>alert(1)</script>', x: ['a'], y: [1] }],
  layout: { title: { text: '<!-- </script> \u2028' }, xaxis: {}, yaxis: {} },
};

describe('mimeBundle of a figure', () => {
  const fig = ptPopulationFigure(knownRun());

  it('carries plotly JSON, HTML and a text summary in one bundle', () => {
    const b = mimeBundle(fig);
    expect(Object.keys(b).sort()).toEqual([PLOTLY_MIME, 'text/html', 'text/plain']);
    expect(b[PLOTLY_MIME]).toEqual({ data: fig.data, layout: fig.layout, config: { responsive: true, displaylogo: false } });
    expect(b['text/plain']).toBe('Figure: Page-table pages: 8170e6bed465 / xen (4 traces: L4 (PML4), L3 (PDPT), L2 (PD), L1 (PT))');
    expect(b['text/html']).toMatch(/^<div class="pvops-plot" data-pvops-plot="pvops-plot-[0-9a-f]{8}"/);
  });

  it('inlines plotly.js only when asked, and then exactly once', () => {
    expect(mimeBundle(fig)['text/html'].match(BANNER)).toBeNull();
    const inlined = mimeBundle(fig, { inlinePlotly: true })['text/html'];
    expect(inlined.match(BANNER)).toHaveLength(1);
    expect(inlined.length).toBeGreaterThan(1_000_000);
    expect(inlined.indexOf('pvops-plotly-loader')).toBeLessThan(inlined.indexOf('class="pvops-plot"'));
  });

  it('keeps hostile text inside its script and its fallback text', () => {
    const html = mimeBundle(hostile)['text/html'];
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toContain('<!--');
    expect(html).toContain('\\u003c/script>\\u003cscript>alert(1)');
    expect(html).toContain('\\u2028');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)');
  });

  it('names a chart by its content: the same figure, the same name; another figure, another', () => {
    const id = (h: string) => /data-pvops-plot="([^"]+)"/.exec(h)![1];
    expect(id(plotlyChartHtml(fig))).toBe(id(plotlyChartHtml(ptPopulationFigure(knownRun()))));
    expect(id(plotlyChartHtml(fig))).not.toBe(id(plotlyChartHtml(hostile)));
  });
});

describe('the plotly.js loader', () => {
  const loader = plotlyLoaderHtml();

  it('is one script whose only </script> is its own end', () => {
    expect(loader.match(/<\/script/gi)).toHaveLength(1);
    expect(loader.endsWith('})();</script>')).toBe(true);
  });

  it('hides define around the bundle and restores it after', () => {
    const hide = loader.indexOf('window.define = undefined;');
    const bundle = loader.search(BANNER);
    const restore = loader.indexOf('window.define = savedDefine;');
    expect(hide).toBeGreaterThan(0);
    expect(bundle).toBeGreaterThan(hide);
    expect(restore).toBeGreaterThan(bundle);
    expect(loader).toContain('(function (define, module, exports) {');
  });
});

describe('mimeBundle of other things', () => {
  it('gives an HTML view its HTML and text', () => {
    const v = consoleView(['(XEN) hello']);
    expect(mimeBundle(v)).toEqual({ 'text/html': v.html, 'text/plain': v.text });
  });

  it('renders a run, a walk result and counters richly', () => {
    expect(mimeBundle(knownRun())['text/html']).toContain('class="pvops-run"');
    const s = tinySpace();
    expect(mimeBundle(walk(s.mem, { cr3: s.cr3 }, 'ffffea000005b2d0', { kind: 'read', user: false }))['text/html']).toContain('class="pvops-walk"');
    expect(mimeBundle(knownRun().trace.counters)['text/plain']).toContain('page faults: 2');
  });

  it('refuses anything else, saying what it can show', () => {
    expectLabError(() => mimeBundle('hello'), 'WRONG_TYPE');
    expect(() => mimeBundle({ a: 1 })).toThrow(/x must be a plotly figure \{ data, layout \}, an HTML view/);
  });
});
