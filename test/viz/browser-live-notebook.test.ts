/**
 * The gallery in a live classic Jupyter Notebook 6 (which loads RequireJS): the test starts a
 * server on loopback, opens a copy of the notebook (so autosave cannot touch the committed one),
 * runs all cells the way Cell › Run All does, and finds every chart drawn by plotly.js.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/notebook';
import { chartsDrawn, launchChromium, watchedPage } from './support/browser';
import { ensureDist } from './support/build';
import { VIZ_OUTPUT } from './support/export';
import { startNotebookServer, type NotebookServer } from './support/notebook-server';

// test-output/ sits beside notebooks/, so the copy's '../dist' is the same dist/.
const COPY = 'test-output/90-viz-gallery.live.ipynb';
const CHARTS = 4;

describe('the gallery in a live classic Jupyter Notebook', () => {
  let server: NotebookServer;
  let browser: Browser;

  beforeAll(async () => {
    ensureDist();
    copyFileSync(join(ROOT, 'notebooks/90-viz-gallery.ipynb'), join(ROOT, COPY));
    server = await startNotebookServer();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(join(ROOT, COPY), { force: true });
  });

  it('runs all cells and draws every chart, the walks and the explorer', async () => {
    const origin = new URL(server.url).origin;
    const { page, errors } = await watchedPage(browser, (url) => url.startsWith(origin) || url.startsWith('data:'));
    await page.goto(`${server.url}/notebooks/${COPY}?token=${server.token}`);
    // Page-side code as strings: this file is type-checked without the DOM library.
    await page.waitForFunction('window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()',
      null, { timeout: 30_000 });
    expect(await page.evaluate('typeof (window.define && window.define.amd)')).toBe('object'); // RequireJS: what define-hiding is for
    await page.evaluate('Jupyter.notebook.set_autosave_interval(0); Jupyter.notebook.execute_all_cells()');
    await page.waitForFunction(chartsDrawn(CHARTS, '.output_area'), null, { timeout: 60_000 });
    // the last cell's output: a run result shown by show(tslab, result)
    await page.waitForSelector('.output_area .pvops-run', { timeout: 60_000 });
    expect(await page.locator('.output_area .pvops-plot .plot-container').count()).toBe(CHARTS);
    expect(await page.locator('.output_area .pvops-walk').count()).toBe(2);
    expect(await page.locator('.output_area .pvops-explorer').count()).toBe(1);
    expect(await page.locator('.output_area .pvops-plotly-loader').count()).toBe(1);
    expect(await page.evaluate('typeof window.define')).toBe('function');
    const stderr = await page.locator('.output_stderr, .output_error').count();
    expect(stderr).toBe(0);
    await page.locator('.output_area .pvops-plot').first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(VIZ_OUTPUT, 'live-notebook.png') });
    expect(errors).toEqual([]);
  }, 100_000);
});
