/**
 * The notebook series, as `npm run publish` builds it (published once here; every check reads that
 * output): every notebook executed headless by the tslab kernel with no error output, the crash
 * notebook showing the report's Xen lines, the fix notebook showing a boot, and the published site
 * opened offline in headless Chromium the way readers meet it: with JavaScript on (every chart
 * drawn, no console errors), with JavaScript off (every chart an image), at 420 px (nothing wider
 * than the screen), each page with a title, a description and links, none over 1 MB. Screenshots of
 * every page at 1300 and 420 px and with JavaScript off go to test-output/site-shots/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/notebook';
import { SEED_XEN_LINES } from '../support/seed';
import { launchChromium, offline, watchedPage } from '../viz/support/browser';

const SITE = join(ROOT, 'test-output', 'site');
const SHOTS = join(ROOT, 'test-output', 'site-shots');
const SERIES = readdirSync(join(ROOT, 'notebooks')).filter((f) => /^0\d-.*\.ipynb$/.test(f) && f !== '00-smoke.ipynb').sort();
const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown>; ename?: string; evalue?: string }
interface Cell { cell_type: string; metadata?: { tags?: string[] }; execution_count?: number | null; outputs?: Output[] }
const text = (t: unknown): string => (Array.isArray(t) ? t.join('') : typeof t === 'string' ? t : '');

const cells = (nb: string): Cell[] => JSON.parse(readFileSync(join(SITE, 'notebooks', nb), 'utf8')).cells as Cell[];
const outputs = (nb: string): Output[] => cells(nb).flatMap((c) => c.outputs ?? []);
const allText = (nb: string): string => outputs(nb).map((o) => text(o.text) + text(o.data?.['text/plain']) + text(o.data?.['text/html'])).join('\n');
/** the charts a reader sees on a notebook's page: plotly outputs outside set-up cells */
const readerCharts = (nb: string): number => cells(nb).filter((c) => !(c.metadata?.tags ?? []).includes('setup'))
  .flatMap((c) => c.outputs ?? []).filter((o) => o.data?.[PLOTLY_MIME] !== undefined).length;
/** the code cells a reader can open on a notebook's page: every code cell but the set-up ones */
const readerCode = (nb: string): number => cells(nb).filter((c) => c.cell_type === 'code' && !(c.metadata?.tags ?? []).includes('setup')).length;
const html = (nb: string): string => nb.replace('.ipynb', '.html');
const PAGES = (): { file: string; charts: number }[] => [
  { file: 'index.html', charts: 1 }, ...SERIES.map((nb) => ({ file: html(nb), charts: readerCharts(nb) })),
];
const CHARTS_DRAWN = `Array.from(document.querySelectorAll('.pvops-plot')).filter(function (e) { return e.querySelector('.main-svg') !== null; }).length`;

describe('the notebook series, executed and published', () => {
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SITE, { recursive: true });
    mkdirSync(SHOTS, { recursive: true });
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'publish.cjs')], {
      cwd: ROOT, env: { ...process.env, PVOPS_SITE_DIR: 'test-output/site' }, stdio: ['ignore', 'inherit', 'inherit'],
    });
    browser = await launchChromium();
  }, 1_500_000);
  afterAll(async () => { await browser?.close(); });

  it('has the notebooks of the story, and every one ran with no error output', () => {
    expect(SERIES).toEqual([
      '00-the-bug-on-one-page.ipynb', '01-paging-from-the-report-address.ipynb', '02-what-8170e6bed465-changed.ipynb',
      '03-xen-pv-page-tables.ipynb', '04-reproducing-the-crash.ipynb', '05-the-fix.ipynb', '06-explorations.ipynb',
      '07-xsa-148-and-182.ipynb', '08-going-back-in-time.ipynb', '09-glossary.ipynb',
    ]);
    for (const nb of SERIES) {
      const bad = outputs(nb).filter((o) => o.output_type === 'error' || o.name === 'stderr');
      expect(bad.map((o) => `${nb}: ${o.ename ?? ''} ${o.evalue ?? ''} ${text(o.text)}`)).toEqual([]);
    }
  });

  it("the crash notebook shows the report's Xen lines", () => {
    const t = allText(SERIES.find((n) => n.startsWith('04-')) as string);
    for (const line of SEED_XEN_LINES) expect(t).toContain(line);
    expect(t).toContain('xen_get_user_pgd+0x5a');
  });

  it('the fix notebook shows the boot going on', () => {
    const t = allText(SERIES.find((n) => n.startsWith('05-')) as string);
    expect(t).toContain('at the end (booted): write_cr3 = xen_write_cr3');
    expect(t).toMatch(/5b5c1af104ab\s+xen\s+booted/);
  });

  it('the XSA page shows both holes open on 4.2.0 and shut by their fixes', () => {
    const t = allText('07-xsa-148-and-182.ipynb');
    expect(t).toContain('XSA-148 on Xen 4.2.0 as released: accepted');
    expect(t).toContain('XSA-148 on Xen 4.2.0 with the fix: refused (-EINVAL)');
    expect(t).toContain('XSA-182 on Xen 4.2.0 as released: accepted');
    expect(t).toContain('XSA-182 on Xen 4.2.0 with the fix: refused (-EINVAL)');
  });

  it('the going-back notebook shows the ordering bug: no #PF entry at the fault, the vmemmap entry written only in paging_init', () => {
    const t = allText('08-going-back-in-time.ipynb');
    expect(t).toContain('no entry for vector 14');
    expect(t).toMatch(/8170e6bed465: 0 writes to the vmemmap's L4 entry/);
    expect(t).toMatch(/5b5c1af104ab: step \d+, \w+ via mmu_update/);
    expect(t).toContain('the write comes after the last of them: true');
  });

  it('keeps, in the executed notebooks, a static image beside every chart and a number on every code cell', () => {
    let charts = 0;
    for (const nb of SERIES) {
      for (const o of outputs(nb).filter((x) => x.data?.[PLOTLY_MIME] !== undefined)) {
        charts++;
        const png = o.data?.['image/png'];
        expect(typeof png === 'string' && png.length > 1000, `${nb}: a chart without image/png`).toBe(true);
        expect(text(o.data?.['text/html'])).toContain('<img class="pvops-plot-image" src="data:image/png;base64,');
      }
      const code = cells(nb).filter((c) => c.cell_type === 'code');
      expect(code.map((c) => c.execution_count)).toEqual(code.map((_, i) => i + 1));
    }
    expect(charts).toBeGreaterThan(0);
  });

  it('writes every page under 1 MB, plotly.js once in assets/, loaded only by pages with charts', () => {
    expect(existsSync(join(SITE, 'assets', 'plotly.min.js'))).toBe(true);
    const index = readFileSync(join(SITE, 'index.html'), 'utf8');
    for (const nb of SERIES) expect(index).toContain(`href="${html(nb)}"`);
    for (const { file, charts } of PAGES()) {
      const page = readFileSync(join(SITE, file), 'utf8');
      expect(statSync(join(SITE, file)).size, file).toBeLessThan(1_000_000);
      expect(page.match(/plotly\.js \(cartesian - minified\) v\d/g), `${file} inlines plotly.js`).toBeNull();
      expect(page.includes('<script src="assets/plotly.min.js"></script>'), file).toBe(charts > 0);
      expect(page.match(/class="pvops-plot"/g)?.length ?? 0, file).toBe(charts);
    }
  });

  it('gives every page a title, a description and previous / index / next links', () => {
    const pages = PAGES();
    pages.forEach(({ file }, i) => {
      const page = readFileSync(join(SITE, file), 'utf8');
      const title = /<title>([^<]*)<\/title>/.exec(page)?.[1] ?? '';
      expect(title.length, file).toBeGreaterThan(10);
      expect(title).not.toMatch(/\.ipynb|^\d\d-[a-z-]+$/);
      const description = /<meta name="description" content="([^"]*)">/.exec(page)?.[1] ?? '';
      expect(description.length, file).toBeGreaterThan(40);
      if (i > 0) expect(page, file).toContain('href="index.html"');
      if (i > 1) expect(page, file).toContain(`rel="prev" href="${pages[i - 1].file}"`);
      if (i > 0 && i + 1 < pages.length) expect(page, file).toContain(`rel="next" href="${pages[i + 1].file}"`);
    });
  });

  it('opens every page offline with JavaScript on: every chart drawn, no console errors, reader mode, no "seed"', async () => {
    const seed: string[] = [];
    for (const { file, charts } of PAGES()) {
      const w = await watchedPage(browser, offline);
      await w.page.setViewportSize({ width: 1300, height: 900 });
      await w.page.goto(pathToFileURL(join(SITE, file)).href);
      await w.page.waitForFunction(`${CHARTS_DRAWN} >= ${charts}`, undefined, { timeout: 60_000 });
      expect(await w.page.evaluate(CHARTS_DRAWN), file).toBe(charts);
      expect(w.errors, file).toEqual([]);
      const visible = await w.page.evaluate('document.title + "\\n" + document.body.innerText') as string;
      for (const line of visible.split('\n')) if (/\bseed\b/i.test(line)) seed.push(`${file}: ${line.slice(0, 120)}`);
      expect(visible).not.toMatch(/^\[\d+\/\d+\] .*: \d+(\.\d+)? s$/m); // no progress lines
      expect(visible).not.toContain("from 'tslab'"); // no set-up cells
      expect(visible).not.toContain('In [ ]');
      const shownCode = file === 'index.html' ? 0 : readerCode(file.replace('.html', '.ipynb'));
      if (shownCode > 0) {
        expect(await w.page.evaluate(`document.querySelectorAll('details.pvops-code').length`), file).toBe(shownCode);
        expect(await w.page.evaluate(`document.querySelectorAll('details.pvops-code[open]').length`), file).toBe(0);
      }
      await w.page.screenshot({ path: join(SHOTS, `${file}-1300.png`), fullPage: true });
      await w.page.close();
    }
    // readers never see the word: "the report" or "the commit message" instead
    expect(seed).toEqual([]);
  }, 600_000);

  it('fits every page into 420 px: no chart and nothing else wider than the screen', async () => {
    for (const { file, charts } of PAGES()) {
      const w = await watchedPage(browser, offline);
      await w.page.setViewportSize({ width: 420, height: 900 });
      await w.page.goto(pathToFileURL(join(SITE, file)).href);
      await w.page.waitForFunction(`${CHARTS_DRAWN} >= ${charts}`, undefined, { timeout: 60_000 });
      expect(await w.page.evaluate('document.documentElement.scrollWidth'), file).toBeLessThanOrEqual(420);
      const wide = await w.page.evaluate(`Array.from(document.querySelectorAll('.pvops-plot')).filter(function (e) { return e.getBoundingClientRect().right > 420.5; }).length`);
      expect(wide, file).toBe(0);
      await w.page.screenshot({ path: join(SHOTS, `${file}-420.png`), fullPage: true });
      await w.page.close();
    }
  }, 600_000);

  it('shows every chart as an image with JavaScript off', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1300, height: 900 } });
    for (const { file, charts } of PAGES()) {
      const page = await context.newPage();
      await page.route('**/*', (route) => (offline(route.request().url()) ? route.continue() : route.abort()));
      await page.goto(pathToFileURL(join(SITE, file)).href);
      const images = await page.locator('.pvops-plot img.pvops-plot-image').evaluateAll(
        (els) => els.map((e) => [(e as unknown as { naturalWidth: number }).naturalWidth, (e as unknown as { naturalHeight: number }).naturalHeight]));
      expect(images.length, file).toBe(charts);
      for (const [wd, ht] of images) { expect(wd).toBeGreaterThan(100); expect(ht).toBeGreaterThan(100); }
      await page.screenshot({ path: join(SHOTS, `${file}-nojs.png`), fullPage: true });
      await page.close();
    }
    await context.close();
  }, 300_000);
});
