/**
 * The reader's copy of a notebook (scripts/site/reader.cjs), without running any notebook: set-up
 * cells hidden, code collapsed behind "show code" (open with --with-code), cells numbered in the
 * order they ran, the plotly.js loader and progress lines dropped, title and description read off
 * the first heading and paragraph.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/notebook';

interface Nb { cells: { cell_type: string; source: string; metadata: Record<string, unknown>; execution_count?: number | null; outputs?: Record<string, unknown>[] }[] }
const reader = createRequire(join(ROOT, 'index.js'))(join(ROOT, 'scripts', 'site', 'reader.cjs')) as {
  readerNotebook: (nb: Nb, withCode: boolean) => Nb;
  chartCount: (nb: Nb) => number;
  titleAndDescription: (nb: Nb) => { title: string; description: string };
};

const LOADER = '<div class="pvops-plotly-loader">plotly.js inlined</div><script>/* plotly */</script>';
const CHART = '<div class="pvops-plot" data-pvops-plot="pvops-plot-1"></div><script>draw()</script>';
const notebook = (): Nb => ({
  cells: [
    { cell_type: 'markdown', metadata: {}, source: '# 4 · Reproducing the crash (`8170e6bed465`)\n\nBoot the kernel under **Xen** and read\nwhat the hypervisor prints.\n\n## Next' },
    { cell_type: 'code', metadata: { tags: ['setup'] }, source: "import * as tslab from 'tslab';\nloadPlotly(tslab);", execution_count: null,
      outputs: [{ output_type: 'display_data', data: { 'text/html': LOADER, 'text/plain': 'plotly.js inlined' } }] },
    { cell_type: 'code', metadata: {}, source: 'const a = 1 < 2;\n\nsweep();', execution_count: null, outputs: [
      { output_type: 'stream', name: 'stdout', text: '[1/3] v3.8 on xen, 256M: 0.19 s\nkept line\n[2/3] v3.8 on xen, 1G: 1.50 s\n' },
      { output_type: 'display_data', data: { 'application/vnd.plotly.v1+json': {}, 'text/html': LOADER + CHART, 'image/png': 'AAAA' } },
    ] },
    { cell_type: 'code', metadata: {}, source: 'run.result()', execution_count: null, outputs: [
      { output_type: 'execute_result', execution_count: null, data: { 'text/plain': 'x' } },
    ] },
  ],
});

describe('the reader\'s copy of a notebook', () => {
  const nb = reader.readerNotebook(notebook(), false);

  it('hides set-up cells and the plotly.js loader, and keeps everything else in order', () => {
    expect(nb.cells.map((c) => c.cell_type)).toEqual(['markdown', 'raw', 'code', 'raw', 'code']);
    expect(JSON.stringify(nb)).not.toContain("from 'tslab'");
    expect(JSON.stringify(nb)).not.toContain('pvops-plotly-loader');
    expect(reader.chartCount(nb)).toBe(1);
  });

  it('collapses each code cell behind "show code" with its number, escaped, blank lines kept', () => {
    expect(nb.cells[1].metadata).toEqual({ raw_mimetype: 'text/html' });
    expect(nb.cells[1].source).toBe('<details class="pvops-code"><summary>show code <span class="pvops-count">[2]</span></summary>' +
      '<pre class="pvops-source">const a = 1 &lt; 2;&#10;&#10;sweep();</pre></details>');
    expect(nb.cells[2].source).toBe('');
    expect(nb.cells[2].execution_count).toBe(2);
    expect(nb.cells[4].outputs![0].execution_count).toBe(3);
  });

  it('opens the code with --with-code', () => {
    expect(reader.readerNotebook(notebook(), true).cells[1].source).toMatch(/^<details class="pvops-code" open>/);
  });

  it('drops progress lines but keeps the rest of the stream, and keeps the chart\'s image', () => {
    const [stream, chart] = nb.cells[2].outputs!;
    expect(stream.text).toBe('kept line\n');
    expect((chart.data as Record<string, string>)['text/html']).toBe(CHART);
    expect((chart.data as Record<string, string>)['image/png']).toBe('AAAA');
  });

  it('takes the title from the first heading and the description from the first paragraph, as plain text', () => {
    expect(reader.titleAndDescription(notebook())).toEqual({
      title: '4 · Reproducing the crash (8170e6bed465)',
      description: 'Boot the kernel under Xen and read what the hypervisor prints.',
    });
  });
});
