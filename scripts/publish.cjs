#!/usr/bin/env node
// `npm run publish`: executes every notebook of the series headless (tslab kernel) and writes
// self-contained HTML write-ups with an index page to site/. Charts work offline: each notebook
// carries plotly.js once (its loadPlotly cell). Exits non-zero if a notebook raises an error.
const { execFile } = require('node:child_process');
const { cpus } = require('node:os');
const { promisify } = require('node:util');
const { mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync } = require('node:fs');
const { join, relative, resolve, isAbsolute } = require('node:path');
const { jupyterCommand, jupyterMissing } = require('./jupyter-path.cjs');

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
const executedDir = join(site, 'notebooks');
const env = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' };
const escape = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

const notebooks = readdirSync(notebookDir).filter((f) => /^0[1-9]-.*\.ipynb$/.test(f)).sort();
rmSync(site, { recursive: true, force: true });
mkdirSync(executedDir, { recursive: true });
const run = promisify(execFile);
const t0 = Date.now();
let done = 0;

/** Executes one notebook, exports it, and returns its index entry. */
async function publishOne(nb) {
  const started = Date.now();
  await run(jupyterCommand(), ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.kernel_name=tslab',
    '--ExecutePreprocessor.timeout=600', '--output-dir', executedDir, join(notebookDir, nb)], { cwd: root, env, maxBuffer: 1 << 26 });
  await run(jupyterCommand(), ['nbconvert', '--to', 'html', '--output-dir', site, join(executedDir, nb)], { cwd: root, env, maxBuffer: 1 << 26 });
  const cells = JSON.parse(readFileSync(join(executedDir, nb), 'utf8')).cells;
  const md = cells.find((c) => c.cell_type === 'markdown');
  const lines = (Array.isArray(md.source) ? md.source.join('') : md.source).split('\n');
  const title = lines[0].replace(/^#\s*/, '');
  const summary = lines.slice(1).join(' ').trim().split(/(?<=\.)\s/)[0];
  console.log(`[${++done}/${notebooks.length}] ${nb}: executed and exported in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { file: nb.replace(/\.ipynb$/, '.html'), title, summary };
}

/** Runs the notebooks `width` at a time (each is one kernel process). */
async function publishAll(width) {
  const entries = new Array(notebooks.length);
  let next = 0;
  const worker = async () => { while (next < notebooks.length) { const i = next++; entries[i] = await publishOne(notebooks[i]); } };
  await Promise.all(Array.from({ length: width }, worker));
  return entries;
}

async function main() {
const width = Math.max(1, Math.min(2, cpus().length));
console.log(`executing ${notebooks.length} notebooks, ${width} at a time...`);
const entries = await publishAll(width);
const items = entries.map((e) => `<li><a href="${escape(e.file)}">${escape(e.title)}</a><p>${escape(e.summary)}</p></li>`).join('\n');
writeFileSync(join(site, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pvops-lab: the 2013 Xen PV boot crash, explained</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}
li{margin:1em 0}li p{margin:.2em 0;color:#555}code{background:#f3f3f3;padding:0 .2em}</style></head>
<body><h1>pvops-lab</h1>
<p>How Linux commit <code>8170e6bed465</code> made 64-bit Xen PV guests crash at boot, and how
<code>5b5c1af104ab</code> fixed it, reproduced with a model of x86-64 paging, Xen 4.2 and the Linux
pvops boot path. Each page is an executed notebook; the charts work offline.</p>
<ol>
${items}
</ol></body></html>
`);
console.log(`site/ written: ${entries.length} write-ups and index.html in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  if (e.code === 'ENOENT') console.error(`publish failed: ${jupyterMissing(e)}`);
  else console.error(`publish failed: ${e.stderr ? String(e.stderr).split('\n').filter((l) => /Error|error/.test(l)).slice(-5).join('\n') : e.message}`);
  process.exit(1);
});
