/**
 * The notebook series, as `npm run publish` builds it: every notebook executed headless by the
 * tslab kernel with no error output, the crash notebook showing the seed's Xen lines, the fix
 * notebook showing a boot, and the published site opened offline in headless Chromium with every
 * chart drawn and nothing in the browser console.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/notebook';
import { SEED_XEN_LINES } from '../support/seed';
import { launchChromium, offline, watchedPage } from '../viz/support/browser';

const SITE = join(ROOT, 'test-output', 'site');
const SERIES = readdirSync(join(ROOT, 'notebooks')).filter((f) => /^0[1-9]-.*\.ipynb$/.test(f)).sort();

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown>; ename?: string; evalue?: string }
const text = (t: unknown): string => (Array.isArray(t) ? t.join('') : typeof t === 'string' ? t : '');

function outputs(nb: string): Output[] {
  const cells = JSON.parse(readFileSync(join(SITE, 'notebooks', nb), 'utf8')).cells as { outputs?: Output[] }[];
  return cells.flatMap((c) => c.outputs ?? []);
}
function allText(nb: string): string {
  return outputs(nb).map((o) => text(o.text) + text(o.data?.['text/plain']) + text(o.data?.['text/html'])).join('\n');
}

describe('the notebook series, executed and published', () => {
  let browser: Browser;
  let publishSeconds = 0;

  beforeAll(async () => {
    mkdirSync(SITE, { recursive: true });
    const t0 = Date.now();
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'publish.cjs')], {
      cwd: ROOT, env: { ...process.env, PVOPS_SITE_DIR: 'test-output/site' }, stdio: ['ignore', 'inherit', 'inherit'],
    });
    publishSeconds = (Date.now() - t0) / 1000;
    console.log(`notebook series executed and published in ${publishSeconds.toFixed(1)} s`);
    browser = await launchChromium();
  }, 900_000);
  afterAll(async () => { await browser?.close(); });

  it('has the seven notebooks of the story, and every one ran with no error output', () => {
    expect(SERIES).toHaveLength(7);
    for (const nb of SERIES) {
      const bad = outputs(nb).filter((o) => o.output_type === 'error' || o.name === 'stderr');
      expect(bad.map((o) => `${nb}: ${o.ename ?? ''} ${o.evalue ?? ''} ${text(o.text)}`)).toEqual([]);
    }
  });

  it("the crash notebook shows the seed's Xen lines", () => {
    const t = allText(SERIES.find((n) => n.startsWith('04-')) as string);
    for (const line of SEED_XEN_LINES) expect(t).toContain(line);
    expect(t).toContain('xen_get_user_pgd+0x5a');
  });

  it('the fix notebook shows the boot going on', () => {
    const t = allText(SERIES.find((n) => n.startsWith('05-')) as string);
    expect(t).toContain('at the end (booted): write_cr3 = xen_write_cr3');
    expect(t).toMatch(/5b5c1af104ab\s+xen\s+booted/);
  });

  it('the going-back notebook shows the ordering bug: no #PF entry at the fault, the vmemmap entry written only in paging_init', () => {
    const t = allText(SERIES.find((n) => n.startsWith('07-')) as string);
    expect(t).toContain('no entry for vector 14');
    expect(t).toMatch(/8170e6bed465: 0 writes to the vmemmap's L4 entry/);
    expect(t).toMatch(/5b5c1af104ab: step \d+, \w+ via mmu_update/);
    expect(t).toContain('the write comes after the last of them: true');
  });

  it('the published site opens offline with every chart drawn and no console errors', async () => {
    expect(existsSync(join(SITE, 'index.html'))).toBe(true);
    const index = readFileSync(join(SITE, 'index.html'), 'utf8');
    for (const nb of SERIES) expect(index).toContain(nb.replace('.ipynb', '.html'));
    for (const nb of SERIES) {
      const charts = outputs(nb).filter((o) => o.data?.['application/vnd.plotly.v1+json'] !== undefined).length;
      const w = await watchedPage(browser, offline);
      await w.page.goto(pathToFileURL(join(SITE, nb.replace('.ipynb', '.html'))).href);
      await w.page.waitForFunction(`document.querySelectorAll('.pvops-plot .main-svg').length >= ${charts}`, undefined, { timeout: 30_000 });
      const drawn = await w.page.evaluate(`document.querySelectorAll('.pvops-plot .main-svg').length`);
      expect(drawn).toBeGreaterThanOrEqual(charts);
      expect(w.errors).toEqual([]);
      if (nb.startsWith('04-')) await w.page.screenshot({ path: join(SITE, 'crash-notebook.png'), fullPage: false });
      await w.page.close();
    }
  }, 300_000);
});
