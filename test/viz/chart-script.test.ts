/**
 * The chart's <script> run in a Node vm with a stand-in page: it draws at once when Plotly is
 * there, queues itself for the loader when not, and finds its own <div> among same-named ones.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { plotlyChartHtml, ptPopulationFigure } from '../../lib/viz';
import { knownRun } from './fixtures';

const html = plotlyChartHtml(ptPopulationFigure(knownRun()));
const script = /<script type="text\/javascript">([\s\S]*)<\/script>$/.exec(html)![1];

interface FakeEl { attrs: Record<string, string>; innerHTML: string; getAttribute(n: string): string | null; setAttribute(n: string, v: string): void; querySelector(): null }
const el = (): FakeEl => ({
  attrs: {}, innerHTML: 'fallback',
  getAttribute(n) { return this.attrs[n] ?? null; },
  setAttribute(n, v) { this.attrs[n] = v; },
  querySelector() { return null; },
});

function page(elements: FakeEl[], plotly?: { newPlot: (...a: unknown[]) => void }) {
  const window: Record<string, unknown> = plotly === undefined ? {} : { Plotly: plotly };
  const document = { querySelectorAll: () => elements };
  const timers: (() => void)[] = [];
  return { window, document, setTimeout: (f: () => void) => { timers.push(f); }, timers };
}

describe('the chart script', () => {
  it('draws at once into its div when window.Plotly exists', () => {
    const calls: unknown[][] = [];
    const div = el();
    const ctx = page([div], { newPlot: (...a) => calls.push(a) });
    runInNewContext(script, ctx);
    expect(calls).toHaveLength(1);
    expect(calls[0][0]).toBe(div);
    expect((calls[0][1] as { name: string }[]).map((t) => t.name)[0]).toBe('L4 (PML4)');
    expect(div.attrs['data-pvops-drawn']).toBe('1');
  });

  it('queues itself until the loader runs it, and skips divs already drawn', () => {
    const drawn = el();
    drawn.setAttribute('data-pvops-drawn', '1');
    const fresh = el();
    const ctx = page([drawn, fresh]);
    runInNewContext(script, ctx);
    const queue = ctx.window.__pvopsLabPlotlyQueue as (() => void)[];
    expect(queue).toHaveLength(1);
    expect(fresh.attrs['data-pvops-drawn']).toBe('pending');
    const calls: unknown[] = [];
    ctx.window.Plotly = { newPlot: (target: unknown) => calls.push(target) };
    queue[0]();
    expect(calls).toEqual([fresh]);
  });

  it('leaves a note in the fallback when plotly.js never arrives', () => {
    const div = el();
    const note = { textContent: '' };
    div.querySelector = (() => note) as never;
    const ctx = page([div]);
    runInNewContext(script, ctx);
    ctx.timers[0]();
    expect(note.textContent).toContain('plotly.js is not loaded on this page');
  });
});
