/**
 * The gallery notebook, executed headless by the tslab kernel, exported to HTML by nbconvert and
 * opened offline in headless Chromium: every chart drawn by plotly.js (its SVG), the page walks,
 * the explorer and the console present, and nothing in the browser console.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeNotebook, OUTPUT_DIR, type NotebookRun } from '../support/notebook';
import { chartsDrawn, launchChromium, offline, watchedPage } from './support/browser';
import { ensureDist } from './support/build';
import { VIZ_OUTPUT, exportHtml, plotlyCopies } from './support/export';

const CHARTS = 4;
const DRAWN = chartsDrawn(CHARTS);

describe('notebooks/90-viz-gallery.ipynb: executed, exported to HTML, opened offline', () => {
  let run: NotebookRun;
  let html: string;
  let browser: Browser;

  beforeAll(async () => {
    ensureDist();
    run = executeNotebook('notebooks/90-viz-gallery.ipynb', 120);
    html = exportHtml(join(OUTPUT_DIR, '90-viz-gallery.ipynb'));
    browser = await launchChromium();
  }, 110_000);
  afterAll(async () => { await browser?.close(); });

  it('runs without errors and shows through the kernel route: one output per show(), several MIME types each', () => {
    expect(run.errors).toEqual([]);
    const all = run.cells.map((c) => c.text).join('\n');
    expect(all).toContain('display route: kernel');
    // the sweep reports each boot as it goes (printProgress), the last one "done"
    expect(all).toMatch(/\[1\/18\] v3\.8 on xen, 128M: [\d.]+ s, \d+ entries; \d+% of the work, about \d+ s left/);
    expect(all).toMatch(/\[18\/18\] 5b5c1af104ab on bare-metal, 512M: .*100% of the work, done/);
    const charts = run.cells.filter((c) => c.mimeTypes.includes('application/vnd.plotly.v1+json'));
    expect(charts).toHaveLength(CHARTS);
    for (const c of charts) {
      // one display per chart; the memory sweep's cell prints its progress first
      expect(c.outputTypes).toEqual(c.text.includes('% of the work') ? ['stream', 'display_data'] : ['display_data']);
      // Chromium is installed here: every chart carries its static PNG in the same output
      expect([...c.mimeTypes].sort()).toEqual(['application/vnd.plotly.v1+json', 'image/png', 'text/html', 'text/plain']);
    }
    const views = run.cells.filter((c) => c.text.includes('class="pvops-walk"') || c.text.includes('class="pvops-explorer"'));
    expect(views.map((c) => [...c.mimeTypes].sort())).toEqual([['text/html', 'text/plain'], ['text/html', 'text/plain'], ['text/html', 'text/plain']]);
  });

  it('carries plotly.js once, in the loadPlotly cell, in the notebook and in its HTML export', () => {
    const executed = readFileSync(join(OUTPUT_DIR, '90-viz-gallery.ipynb'), 'utf8');
    expect(plotlyCopies(executed)).toBe(1);
    expect(plotlyCopies(readFileSync(html, 'utf8'))).toBe(1);
    expect(run.cells[0].text).toContain('pvops-plotly-loader');
  });

  it('draws every chart, the page walks, the explorer and the console, with no browser errors (require.js loaded)', async () => {
    const { page, errors, blocked } = await watchedPage(browser, offline);
    await page.goto(pathToFileURL(html).href);
    await page.waitForFunction(DRAWN, null, { timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    expect(await page.evaluate('typeof window.define')).toBe('function'); // RequireJS was there, and kept
    expect(await page.locator('.pvops-plot').count()).toBe(CHARTS);
    expect(await page.locator('.pvops-plot .plot-container').count()).toBe(CHARTS);
    expect(await page.locator('.pvops-plot .pvops-plot-fallback').count()).toBe(0);
    expect(await page.locator('.pvops-plot .xtitle').first().textContent()).toContain('page-table entries written so far');
    expect(await page.locator('.pvops-walk').count()).toBe(2);
    await expect(page.locator('.pvops-walk-fault').first().textContent()).resolves.toContain('error code 0000');
    const explorer = page.locator('.pvops-explorer');
    expect(await explorer.count()).toBe(1);
    const directMap = explorer.locator('details.pvops-pt[data-level="4"]', { hasText: 'direct map of all physical memory' });
    expect(await directMap.count()).toBe(1);
    await directMap.locator('> summary').click();
    expect(await directMap.getAttribute('open')).toBe('');
    expect(await directMap.locator('details.pvops-pt[data-level="3"]').first().isVisible()).toBe(true);
    expect(await page.locator('.pvops-terminal .pvops-seed').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(VIZ_OUTPUT, 'gallery.png'), fullPage: true });
    await page.locator('.pvops-plot').first().screenshot({ path: join(VIZ_OUTPUT, 'gallery-first-chart.png') });
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
  });

  it('draws the charts too when require.js is absent (the template loads it from a CDN when online)', async () => {
    const { page, errors } = await watchedPage(browser, offline);
    await page.route(/require(\.min)?\.js/, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }));
    await page.goto(pathToFileURL(html).href);
    await page.waitForFunction(DRAWN, null, { timeout: 30_000 });
    expect(await page.evaluate('typeof window.define')).toBe('undefined');
    expect(errors).toEqual([]);
  });
});
