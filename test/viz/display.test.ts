import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consoleView, displayRoute, loadPlotly, ptPopulationFigure, show } from '../../lib/viz';
import { findKernelWriter, type DisplayMessage, type ModuleCache } from '../../lib/viz/display/kernel-writer';
import { markPlotlyInlined, plotlyInlined } from '../../lib/viz/display/plotly-state';
import { knownRun } from './fixtures';
import { expectLabError } from '../support/lab-error';

const BANNER = /plotly\.js \(cartesian - minified\) v\d/g;

/** A stand-in for the kernel: tslab's public module and its jupyter.js in a module cache. */
function fakeKernel(dir = '/k/node_modules/tslab/dist') {
  const sent: { message: DisplayMessage; update: boolean }[] = [];
  const htmlCalls: string[] = [];
  const tslab = { display: { html: (s: string) => { htmlCalls.push(s); } } };
  const writer = (message: DisplayMessage, update: boolean) => { sent.push({ message, update }); };
  const jupyter: { lastWriteDisplayData: unknown } = { lastWriteDisplayData: writer };
  const cache: ModuleCache = { [`${dir}/public.js`]: { exports: tslab }, [`${dir}/jupyter.js`]: { exports: jupyter } };
  return { tslab, jupyter, cache, sent, htmlCalls, dir };
}

describe('findKernelWriter', () => {
  it('finds the jupyter.js next to the tslab module the notebook passed in', () => {
    const k = fakeKernel();
    const other = fakeKernel('/global/lib/node_modules/tslab/dist');
    const w = findKernelWriter(k.tslab, { ...other.cache, ...k.cache });
    w!({ data: { 'text/plain': 'x' }, metadata: {}, transient: {} }, false);
    expect(k.sent).toHaveLength(1);
    expect(other.sent).toHaveLength(0);
  });

  it('falls back to any loaded tslab/dist/jupyter.js with a writer, and to null without one', () => {
    const k = fakeKernel();
    expect(findKernelWriter({ display: {} }, k.cache)).not.toBeNull();
    k.jupyter.lastWriteDisplayData = null; // tslab before its first execute request
    expect(findKernelWriter(k.tslab, k.cache)).toBeNull();
    expect(findKernelWriter(k.tslab, {})).toBeNull();
  });
});

describe('show', () => {
  const cache = createRequire(join(process.cwd(), 'index.js')).cache as ModuleCache;
  let k: ReturnType<typeof fakeKernel>;
  beforeEach(() => {
    markPlotlyInlined(false);
    k = fakeKernel('/fake-kernel/node_modules/tslab/dist');
    Object.assign(cache, k.cache);
  });
  afterEach(() => {
    for (const key of Object.keys(k.cache)) delete cache[key];
    markPlotlyInlined(false);
  });

  it('sends one display_data with every MIME type, inlining plotly.js in the first chart only', () => {
    const fig = ptPopulationFigure(knownRun());
    show(k.tslab, fig);
    show(k.tslab, fig);
    expect(k.sent).toHaveLength(2);
    expect(k.sent.map((s) => s.update)).toEqual([false, false]);
    // Chromium is installed here: the chart carries a static PNG, also shown in the HTML until plotly draws
    expect(Object.keys(k.sent[0].message.data).sort()).toEqual(['application/vnd.plotly.v1+json', 'image/png', 'text/html', 'text/plain']);
    const png = Buffer.from(k.sent[0].message.data['image/png'] as string, 'base64');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(900); // IHDR width: the image is drawn 900 px wide
    expect(k.sent[0].message.data['text/html']).toContain(`<img class="pvops-plot-image" src="data:image/png;base64,${k.sent[0].message.data['image/png']}"`);
    expect((k.sent[0].message.data['text/html'] as string).match(BANNER)).toHaveLength(1);
    expect((k.sent[1].message.data['text/html'] as string).match(BANNER)).toBeNull();
    expect(k.htmlCalls).toEqual([]);
    expect(displayRoute(k.tslab)).toBe('kernel');
  }, 120_000);

  it('sends a chart without an image, saying why, when static images are off (or Chromium is missing)', () => {
    const saved = process.env.PVOPS_STATIC_IMAGES;
    process.env.PVOPS_STATIC_IMAGES = '0';
    try {
      show(k.tslab, ptPopulationFigure(knownRun()));
    } finally {
      if (saved === undefined) delete process.env.PVOPS_STATIC_IMAGES; else process.env.PVOPS_STATIC_IMAGES = saved;
    }
    expect(k.sent[0].message.data['image/png']).toBeUndefined();
    expect(k.sent[0].message.data['text/plain']).toMatch(/\n\(no static image: static images are turned off \(PVOPS_STATIC_IMAGES=0\)\)$/);
    expect(k.sent[0].message.data['text/html']).toContain('it needs JavaScript');
  });

  it('inlines on request, never on request, and always from loadPlotly', () => {
    const fig = ptPopulationFigure(knownRun());
    show(k.tslab, fig, { inlinePlotly: 'never' });
    expect(plotlyInlined()).toBe(false);
    loadPlotly(k.tslab);
    expect(plotlyInlined()).toBe(true);
    show(k.tslab, fig);
    show(k.tslab, fig, { inlinePlotly: 'always' });
    loadPlotly(k.tslab);
    const copies = k.sent.map((s) => ((s.message.data['text/html'] as string).match(BANNER) ?? []).length);
    expect(copies).toEqual([0, 1, 0, 1, 1]);
    expect(k.sent[1].message.data['text/plain']).toMatch(/^plotly\.js \d+\.\d+\.\d+ inlined \(1\.\d MB, once for this notebook\)$/);
  });

  it('shows an HTML view as HTML and text, without plotly.js', () => {
    const v = consoleView(['(XEN) hello']);
    show(k.tslab, v);
    expect(k.sent[0].message.data).toEqual({ 'text/html': v.html, 'text/plain': v.text });
    expect(plotlyInlined()).toBe(false);
  });

  it('falls back to tslab.display.html when the kernel writer is not reachable', () => {
    k.jupyter.lastWriteDisplayData = null;
    const lone = { display: { html: (s: string) => { k.htmlCalls.push(s); } } };
    show(lone, ptPopulationFigure(knownRun()));
    expect(k.htmlCalls).toHaveLength(1);
    expect(k.htmlCalls[0].match(BANNER)).toHaveLength(1);
    expect(displayRoute(lone)).toBe('fallback');
  });

  it('refuses a missing tslab, a bad option and an undisplayable value', () => {
    expect(() => show(undefined as never, consoleView([]))).toThrow(/tslab must be the kernel's tslab module/);
    expectLabError(() => show(k.tslab, consoleView([]), { inlinePlotly: 'yes' as never }), 'WRONG_TYPE');
    expect(() => show(k.tslab, 42)).toThrow(/x must be a plotly figure/);
    expect(k.sent).toHaveLength(0);
  });
});
