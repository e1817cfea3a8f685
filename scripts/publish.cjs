#!/usr/bin/env node
// `npm run publish`: executes every notebook of the series headless (tslab kernel) and writes the
// reader's write-ups to site/: one page per notebook plus an index, readable offline from file://.
// Reader mode (the default): set-up cells hidden, code collapsed behind "show code", cells
// numbered, progress lines dropped; `--with-code` (or PVOPS_WITH_CODE=1) leaves the code open.
// plotly.js is copied once to site/assets/ and loaded only by pages with charts; every chart also
// carries a static PNG (rendered in the kernel, see lib/viz/display/static-image.ts), shown when
// JavaScript is off. site/notebooks/ keeps the executed notebooks (with their images) for GitHub.
// Exits non-zero if a notebook raises an error.
const { execFile } = require('node:child_process');
const { cpus } = require('node:os');
const { promisify } = require('node:util');
const { mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync, copyFileSync } = require('node:fs');
const { join, relative, resolve, isAbsolute } = require('node:path');
const { jupyterCommand, jupyterMissing } = require('./jupyter-path.cjs');
const { readerNotebook, numberCells, chartCount, titleAndDescription, text } = require('./site/reader.cjs');
const { page, escape } = require('./site/page.cjs');

const root = join(__dirname, '..');
const site = resolve(root, process.env.PVOPS_SITE_DIR || 'site');
// The notebooks to publish (default notebooks/; tests point it at a folder of their own).
const notebookDir = resolve(root, process.env.PVOPS_NOTEBOOKS_DIR || 'notebooks');
// The site directory is emptied first: refuse anything but a folder inside the checkout.
const inside = relative(root, site);
if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || inside.split(/[\\/]/)[0] === 'notebooks') {
  console.error(`publish: PVOPS_SITE_DIR must name a folder inside the checkout other than notebooks/; got ${site}`);
  process.exit(2);
}
const withCode = process.argv.includes('--with-code') || /^(1|true|yes)$/i.test(process.env.PVOPS_WITH_CODE || '');
const executedDir = join(site, 'notebooks');
const work = join(site, '.reader');
const env = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' };
const PLOTLY_ASSET = 'assets/plotly.min.js';

// the series: 00-… (the one-page summary) to 09-…
const notebooks = readdirSync(notebookDir).filter((f) => /^0\d-.*\.ipynb$/.test(f) && f !== '00-smoke.ipynb').sort();
rmSync(site, { recursive: true, force: true });
mkdirSync(executedDir, { recursive: true });
mkdirSync(work, { recursive: true });
mkdirSync(join(site, 'assets'), { recursive: true });
copyFileSync(require.resolve('plotly.js-cartesian-dist-min', { paths: [root] }), join(site, PLOTLY_ASSET));
const run = promisify(execFile);
const t0 = Date.now();
let done = 0;

/** nbconvert's cells-only HTML of a notebook file. */
async function cellsHtml(file) {
  const { stdout } = await run(jupyterCommand(), ['nbconvert', '--to', 'html', '--template', 'basic', '--TemplateExporter.exclude_input=True',
    '--stdout', file], { cwd: root, env, maxBuffer: 1 << 28 });
  return stdout;
}

/** Executes one notebook, keeps the executed copy (cells numbered) and returns what its page needs. */
async function publishOne(nb) {
  const started = Date.now();
  await run(jupyterCommand(), ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.kernel_name=tslab',
    '--ExecutePreprocessor.timeout=600', '--output-dir', executedDir, join(notebookDir, nb)], { cwd: root, env, maxBuffer: 1 << 26 });
  const executed = numberCells(JSON.parse(readFileSync(join(executedDir, nb), 'utf8')));
  writeFileSync(join(executedDir, nb), `${JSON.stringify(executed, null, 1)}\n`);
  const reader = readerNotebook(executed, withCode);
  const readerFile = join(work, nb);
  writeFileSync(readerFile, JSON.stringify(reader));
  const body = await cellsHtml(readerFile);
  console.log(`[${++done}/${notebooks.length}] ${nb}: executed and exported in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { nb, file: nb.replace(/\.ipynb$/, '.html'), body, charts: chartCount(reader), executed, ...titleAndDescription(executed) };
}

/** Runs the notebooks `width` at a time (each is one kernel process). */
async function publishAll(width) {
  const entries = new Array(notebooks.length);
  let next = 0;
  const worker = async () => { while (next < notebooks.length) { const i = next++; entries[i] = await publishOne(notebooks[i]); } };
  await Promise.all(Array.from({ length: width }, worker));
  return entries;
}

const FALLBACK_SUMMARY = `In February 2013, Linux commit 8170e6bed465 made 64-bit Xen PV guests crash early in boot.
The commit reloaded CR3 at the end of init_mem_mapping. Under Xen that load goes through the
pv op xen_write_cr3, which looks up the user page table through the kernel's struct page array
(the vmemmap), but paging_init has not mapped the vmemmap yet, and the guest has not yet given Xen
its #PF handler. The read faults, Xen has nowhere to send the fault, and it crashes the domain.
Commit 5b5c1af104ab installs an early xen_write_cr3_init that only sets the kernel page table,
until xen_post_allocator_init switches to the full version. These pages rebuild the crash from a
model of x86-64 paging, Xen 4.2 and the Linux boot path, and show it step by step.`;

/** The one-page summary notebook's opening markdown (without its heading), or the fallback. */
function summaryCells(entries) {
  const first = entries.find((e) => e.nb.startsWith('00-'));
  const cells = [];
  if (first) {
    for (const c of first.executed.cells) {
      if (c.cell_type === 'code') break;
      // without its heading and its "Series:" line (page 0 bold as the current page; the index lists the pages itself)
      if (c.cell_type === 'markdown') cells.push({ cell_type: 'markdown', metadata: {}, source: text(c.source).replace(/^#\s.*\n?/, '').replace(/^\*\*Series:\*\*.*\n?/m, '') });
    }
  }
  if (cells.every((c) => text(c.source).trim() === '')) return [{ cell_type: 'markdown', metadata: {}, source: FALLBACK_SUMMARY }];
  return cells;
}

/** The boot-timeline chart of every kernel under Xen, as a notebook output (plotly JSON, HTML, PNG). */
function timelineOutput() {
  const lib = require(join(root, 'dist'));
  const { renderStaticImage, staticImageProblem } = require(join(root, 'dist', 'viz', 'display', 'static-image.js'));
  const results = lib.VARIANT_IDS.map((variant) => lib.boot({ variant, platform: 'xen' }).run().result());
  const fig = lib.bootTimelineFigure(results);
  const image = renderStaticImage(fig);
  const bundle = lib.mimeBundle(fig, { image, imageNote: image === null ? staticImageProblem() : '' });
  return { output_type: 'display_data', metadata: {}, data: bundle };
}

async function buildIndex(entries) {
  const items = entries.map((e) => `<li><a href="${escape(e.file)}">${escape(e.title)}</a><p>${escape(e.description)}</p></li>`).join('\n');
  const nb = {
    nbformat: 4, nbformat_minor: 5, metadata: entries[0] ? entries[0].executed.metadata : {},
    cells: [
      { cell_type: 'raw', metadata: { raw_mimetype: 'text/html' }, source: '<h1>pvops-lab: the 2013 Xen PV boot crash, explained</h1><h2>The bug on one screen</h2>' },
      ...summaryCells(entries),
      { cell_type: 'raw', metadata: { raw_mimetype: 'text/html' }, source: '<h2>The boot of each kernel under Xen</h2>' },
      { cell_type: 'markdown', metadata: {}, source: 'One row per kernel, in history order. The x axis is the boot\'s routines in the order they ran; each row shows which `write_cr3` the kernel has installed, each CR3 load, when the vmemmap is mapped, when Xen holds the guest\'s #PF entry, and the crash.' },
      { cell_type: 'code', execution_count: null, metadata: {}, source: '', outputs: [timelineOutput()] },
      { cell_type: 'raw', metadata: { raw_mimetype: 'text/html' }, source: `<h2>The pages</h2><ul class="pages">\n${items}\n</ul>` },
    ],
  };
  const file = join(work, 'index.ipynb');
  writeFileSync(file, JSON.stringify(nb));
  return { body: await cellsHtml(file), charts: 1 };
}

async function main() {
  const width = Math.max(1, Math.min(2, cpus().length));
  console.log(`executing ${notebooks.length} notebooks, ${width} at a time (${withCode ? 'code open' : 'reader mode'})...`);
  const entries = await publishAll(width);
  const index = await buildIndex(entries);
  const indexTitle = 'pvops-lab: the 2013 Xen PV boot crash, explained';
  writeFileSync(join(site, 'index.html'), page({
    title: indexTitle,
    description: 'How Linux commit 8170e6bed465 made 64-bit Xen PV guests crash at boot and how 5b5c1af104ab fixed it, rebuilt step by step with a model of x86-64 paging, Xen 4.2 and the Linux boot path.',
    body: index.body, plotly: PLOTLY_ASSET, links: { next: entries[0] ? { href: entries[0].file, title: entries[0].title } : null },
  }));
  entries.forEach((e, i) => {
    const prev = i > 0 ? { href: entries[i - 1].file, title: entries[i - 1].title } : null;
    const next = i + 1 < entries.length ? { href: entries[i + 1].file, title: entries[i + 1].title } : null;
    writeFileSync(join(site, e.file), page({
      title: e.title, description: e.description, body: e.body, plotly: e.charts > 0 ? PLOTLY_ASSET : null,
      links: { prev, next, index: 'index.html' },
    }));
  });
  rmSync(work, { recursive: true, force: true });
  console.log(`site/ written: ${entries.length} write-ups and index.html in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  if (e.code === 'ENOENT') console.error(`publish failed: ${jupyterMissing(e)}`);
  else console.error(`publish failed: ${e.stderr ? String(e.stderr).split('\n').filter((l) => /Error|error/.test(l)).slice(-5).join('\n') : e.message}`);
  process.exit(1);
});
