/**
 * A static PNG of a plotly figure, rendered synchronously inside the notebook kernel, so that one
 * display_data carries the chart as an image beside its plotly JSON and HTML (GitHub, nbviewer,
 * JupyterLab without the plotly extension and pages with JavaScript off show the image).
 *
 * show() is synchronous and a render needs a browser, so the kernel keeps one worker thread that
 * drives headless Chromium (playwright-core) with the local plotly.js loaded in a blank page. The
 * first figure starts it (a few seconds); each figure after that is one Plotly.toImage call. The
 * kernel thread posts the figure to the worker and blocks on Atomics.wait until the worker has put
 * the PNG into shared memory (or the time limit passes). No Chromium, no playwright-core, or
 * PVOPS_STATIC_IMAGES=0: no image, and the bundle keeps its text/plain fallback.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PLOTLY_PACKAGE } from './plotly-source';

/** The size of the static image in CSS pixels (the figure's own height, if it sets one). */
export const IMAGE_WIDTH = 900;
const MAX_BYTES = 16 << 20;
/** How long one render may block the kernel (the first one includes starting Chromium). */
const FIRST_TIMEOUT_MS = 120_000;
const TIMEOUT_MS = 30_000;

export interface StaticImage {
  /** base64 PNG (no data: prefix) */
  png: string;
  width: number;
  height: number;
}

/** Why the last render gave no image ('' after a success). */
let lastProblem = '';
export function staticImageProblem(): string {
  return lastProblem;
}

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The browser to render with: $PVOPS_CHROMIUM, else a system Chromium or Chrome, else null. */
export function chromiumPath(): string | null {
  const env = process.env.PVOPS_CHROMIUM;
  if (env !== undefined && env !== '') return existsSync(env) ? env : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** True unless PVOPS_STATIC_IMAGES is 0/false/off. */
export function staticImagesEnabled(): boolean {
  return !/^(0|false|off|no)$/i.test(process.env.PVOPS_STATIC_IMAGES ?? '');
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { chromium } = require(workerData.playwright);
const ctrl = new Int32Array(workerData.shared, 0, 4);
const bytes = new Uint8Array(workerData.shared, 16);
let page = null;
let failed = null;
const ready = (async () => {
  const browser = await chromium.launch({ executablePath: workerData.chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'] });
  page = await browser.newPage();
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ path: workerData.plotly });
})().catch((e) => { failed = String(e && e.message || e).split('\\n')[0]; });
function answer(id, status, text) {
  const buf = Buffer.from(text, 'utf8');
  const n = Math.min(buf.length, bytes.length);
  bytes.set(buf.subarray(0, n));
  Atomics.store(ctrl, 1, n);
  Atomics.store(ctrl, 2, id);
  Atomics.store(ctrl, 0, status);
  Atomics.notify(ctrl, 0);
}
let chain = Promise.resolve();
parentPort.on('message', (spec) => {
  chain = chain.then(async () => {
    await ready;
    if (failed !== null) return answer(spec.id, 2, failed);
    try {
      const url = await page.evaluate((s) => window.Plotly.toImage({ data: s.data, layout: s.layout },
        { format: 'png', width: s.width, height: s.height, scale: 1 }), spec);
      answer(spec.id, 1, url.slice(url.indexOf(',') + 1));
    } catch (e) { answer(spec.id, 2, String(e && e.message || e).split('\\n')[0]); }
  });
});
`;

interface Renderer { worker: Worker; shared: SharedArrayBuffer; used: boolean; next: number }
const KEY = Symbol.for('pvops-lab.viz.staticRenderer');
type Holder = { [KEY]?: Renderer | null };

function resolveFrom(name: string): string | null {
  const from = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
  try { return createRequire(from).resolve(name); } catch { return null; }
}

function renderer(): Renderer | null {
  const holder = globalThis as Holder;
  if (holder[KEY] !== undefined) return holder[KEY] ?? null;
  const chromium = chromiumPath();
  const playwright = resolveFrom('playwright-core');
  const plotly = resolveFrom(PLOTLY_PACKAGE);
  if (chromium === null || playwright === null || plotly === null) {
    lastProblem = chromium === null
      ? 'no Chromium found (set PVOPS_CHROMIUM to a Chromium or Chrome executable)'
      : `the npm package ${playwright === null ? 'playwright-core' : PLOTLY_PACKAGE} is not installed`;
    holder[KEY] = null;
    return null;
  }
  const shared = new SharedArrayBuffer(16 + MAX_BYTES);
  const worker = new Worker(WORKER, { eval: true, workerData: { shared, chromium, playwright: dirname(playwright), plotly } });
  worker.unref();
  worker.on('error', () => { holder[KEY] = null; });
  holder[KEY] = { worker, shared, used: false, next: 1 };
  return holder[KEY] ?? null;
}

/**
 * The figure as a PNG, or null (then staticImageProblem() says why). Blocks the calling thread
 * while Chromium renders.
 */
export function renderStaticImage(fig: { data: unknown[]; layout: Record<string, unknown> }): StaticImage | null {
  if (!staticImagesEnabled()) { lastProblem = 'static images are turned off (PVOPS_STATIC_IMAGES=0)'; return null; }
  const r = renderer();
  if (r === null) return null;
  const height = typeof fig.layout.height === 'number' ? fig.layout.height : 440;
  const width = IMAGE_WIDTH;
  const ctrl = new Int32Array(r.shared, 0, 4);
  const id = r.next++;
  Atomics.store(ctrl, 0, 0);
  // the layout's own size would override the image size; the image is drawn at IMAGE_WIDTH
  const layout = { ...fig.layout, width, height, autosize: false };
  r.worker.postMessage({ id, data: fig.data, layout, width, height });
  const deadline = Date.now() + (r.used ? TIMEOUT_MS : FIRST_TIMEOUT_MS);
  r.used = true;
  // an answer to an earlier request that timed out may arrive first: skip it
  while (Atomics.load(ctrl, 0) === 0 || Atomics.load(ctrl, 2) !== id) {
    if (Atomics.load(ctrl, 0) !== 0) Atomics.store(ctrl, 0, 0);
    const left = deadline - Date.now();
    if (left <= 0 || Atomics.wait(ctrl, 0, 0, left) === 'timed-out') {
      lastProblem = 'Chromium did not render the image in time';
      return null;
    }
  }
  const n = Atomics.load(ctrl, 1);
  const text = Buffer.from(new Uint8Array(r.shared, 16, n)).toString('utf8');
  if (Atomics.load(ctrl, 0) !== 1) {
    lastProblem = `Chromium could not render the image: ${text}`;
    (globalThis as Holder)[KEY] = null;
    void r.worker.terminate();
    return null;
  }
  lastProblem = '';
  return { png: text, width, height };
}
