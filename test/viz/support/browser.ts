/**
 * Headless Chromium (Debian's) through playwright-core, with every request outside an allowed
 * set aborted and the console's errors collected.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface WatchedPage {
  page: Page;
  /** console messages of type error, and uncaught page errors */
  errors: string[];
  /** requests that were aborted */
  blocked: string[];
}

/** A page whose requests go through only when `allow(url)` says so. */
export async function watchedPage(browser: Browser, allow: (url: string) => boolean): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const blocked: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (allow(url)) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  return { page, errors, blocked };
}

/** A page-side predicate (a string: tests are type-checked without the DOM library): `n` charts drawn. */
export function chartsDrawn(n: number, scope = ''): string {
  return `Array.from(document.querySelectorAll('${scope} .pvops-plot[data-pvops-drawn="1"]'))` +
    `.filter(function (e) { return e.querySelector('.main-svg') !== null; }).length >= ${n}`;
}

/** file: and data: URLs only: a page opened offline. */
export const offline = (url: string): boolean => url.startsWith('file:') || url.startsWith('data:');
