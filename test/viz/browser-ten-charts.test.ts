/**
 * Size: a notebook with ten charts and no loadPlotly cell must carry plotly.js once (the first
 * show() of the kernel inlines it), in the notebook and in its HTML export, and the export must
 * draw all ten offline. The export's size is written to test-output/viz/ten-charts-size.txt.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { executeNotebook, OUTPUT_DIR, ROOT, type NotebookRun } from '../support/notebook';
import { plotlySource } from '../../lib/viz/display/plotly-source';
import { chartsDrawn, launchChromium, offline, watchedPage } from './support/browser';
import { ensureDist } from './support/build';
import { VIZ_OUTPUT, exportHtml, plotlyCopies } from './support/export';

const SOURCE = `#%% md
Ten charts, no loadPlotly cell: the first show() inlines plotly.js.
#%% code
import * as tslab from 'tslab';
import { show, boot, ptPopulationFigure, faultCountsFigure, hypercallsFigure } from '${join(ROOT, 'dist')}';
const runs = ['xen', 'bare-metal'].flatMap((platform) => ['v3.8', '8170e6bed465', '5b5c1af104ab']
  .map((variant) => boot({ variant, platform, memory: '128M' } as any).run().result()));
#%% code
for (const r of runs) show(tslab, ptPopulationFigure(r));
#%% code
show(tslab, faultCountsFigure(runs));
#%% code
for (const r of runs.filter((x) => x.config.platform === 'xen')) show(tslab, hypercallsFigure(r));
`;

describe('a notebook with ten charts', () => {
  let run: NotebookRun;
  let executed: string;
  let html: string;
  let browser: Browser;

  beforeAll(async () => {
    ensureDist();
    mkdirSync(VIZ_OUTPUT, { recursive: true });
    const src = join(VIZ_OUTPUT, 'ten-charts.txt');
    writeFileSync(src, SOURCE);
    execFileSync('python3', [join(ROOT, 'scripts/nbgen.py'), src, join(VIZ_OUTPUT, 'ten-charts.ipynb')]);
    run = executeNotebook('test-output/viz/ten-charts.ipynb', 120);
    executed = join(OUTPUT_DIR, 'ten-charts.ipynb');
    html = exportHtml(executed);
    browser = await launchChromium();
  }, 110_000);
  afterAll(async () => { await browser?.close(); });

  it('carries one copy of plotly.js, in the first chart, and weighs about one copy', () => {
    expect(run.errors).toEqual([]);
    const outputs = run.cells.flatMap((c) => c.mimeTypes).filter((m) => m === 'application/vnd.plotly.v1+json');
    expect(outputs).toHaveLength(10);
    expect(plotlyCopies(readFileSync(executed, 'utf8'))).toBe(1);
    const exported = readFileSync(html, 'utf8');
    expect(plotlyCopies(exported)).toBe(1);
    expect(exported.indexOf('pvops-plotly-loader')).toBeLessThan(exported.indexOf('class="pvops-plot"'));
    const bytes = statSync(html).size;
    const bundle = plotlySource().code.length;
    writeFileSync(join(VIZ_OUTPUT, 'ten-charts-size.txt'),
      `HTML export of a notebook with ten charts: ${bytes} bytes (${(bytes / 1e6).toFixed(2)} MB); ` +
      `plotly.js bundle ${bundle} bytes; notebook ${statSync(executed).size} bytes\n`);
    expect(bytes).toBeLessThan(bundle * 2);
  });

  it('draws all ten charts offline with no browser errors', async () => {
    const { page, errors } = await watchedPage(browser, offline);
    await page.goto(pathToFileURL(html).href);
    await page.waitForFunction(chartsDrawn(10), null, { timeout: 30_000 });
    expect(await page.locator('.pvops-plot .plot-container').count()).toBe(10);
    expect(errors).toEqual([]);
  });
});
