// The reader's copy of an executed notebook, for `npm run publish`: what a reader sees, not what the
// kernel needed. Set-up cells (tagged `setup`) go; each remaining code cell's source moves into a
// "show code" <details> (a raw HTML cell just above its outputs, numbered like the cell); the
// plotly.js loader and progress lines go (the page loads plotly.js once from assets/). Pure: JSON in, JSON out.
const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
const text = (t) => (Array.isArray(t) ? t.join('') : typeof t === 'string' ? t : '');
const escape = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** sweep() progress: "[3/18] v3.8 on xen, 4G: 0.94 s" (a timing, different on every run) */
const PROGRESS = /^\[\d+\/\d+\] .*: \d+(\.\d+)? s$/;

const tags = (cell) => (cell.metadata && Array.isArray(cell.metadata.tags) ? cell.metadata.tags : []);
const isLoader = (o) => o.data !== undefined && o.data[PLOTLY_MIME] === undefined && /class="pvops-plotly-loader"/.test(text(o.data['text/html']));

/** Numbers the code cells in the order they ran (tslab's replies carry no execution count). */
function numberCells(nb) {
  let n = 0;
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    cell.execution_count = ++n;
    for (const o of cell.outputs || []) if (o.output_type === 'execute_result') o.execution_count = n;
  }
  return nb;
}

/** Keeps what a reader should see of one output, or null. */
function readerOutput(o) {
  if (isLoader(o)) return null;
  if (o.output_type === 'stream') {
    const kept = text(o.text).split('\n').filter((l) => !PROGRESS.test(l.trim()));
    const t = kept.join('\n');
    return t.trim() === '' ? null : { ...o, text: t };
  }
  if (o.data !== undefined && o.data[PLOTLY_MIME] !== undefined) {
    // a chart that carried the plotly.js loader in front of it: the page loads plotly.js itself
    const html = text(o.data['text/html']);
    const at = html.indexOf('<div class="pvops-plot" ');
    return at > 0 ? { ...o, data: { ...o.data, 'text/html': html.slice(at) } } : o;
  }
  return o;
}

/** The reader's notebook: `withCode` leaves the code open instead of collapsed. */
function readerNotebook(executed, withCode) {
  const nb = numberCells(JSON.parse(JSON.stringify(executed)));
  const cells = [];
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') { cells.push(cell); continue; }
    if (tags(cell).includes('setup')) continue;
    const source = text(cell.source);
    if (source.trim() !== '') {
      cells.push({
        cell_type: 'raw', metadata: { raw_mimetype: 'text/html' },
        source: `<details class="pvops-code"${withCode ? ' open' : ''}><summary>show code <span class="pvops-count">[${cell.execution_count}]</span></summary>` +
          `<pre class="pvops-source">${escape(source).replace(/\n/g, '&#10;')}</pre></details>`,
      });
    }
    const outputs = (cell.outputs || []).map(readerOutput).filter((o) => o !== null);
    if (outputs.length > 0) cells.push({ ...cell, source: '', outputs });
  }
  nb.cells = cells;
  return nb;
}

/** How many charts a notebook shows. */
function chartCount(nb) {
  return nb.cells.flatMap((c) => c.outputs || []).filter((o) => o.data !== undefined && o.data[PLOTLY_MIME] !== undefined).length;
}

/** The page's title (its first heading, plain) and description (the first paragraph after it, plain). */
function titleAndDescription(nb) {
  const md = nb.cells.filter((c) => c.cell_type === 'markdown').map((c) => text(c.source)).join('\n\n');
  const plain = (s) => s.replace(/`([^`]*)`/g, '$1').replace(/\*\*?([^*]+)\*\*?/g, '$1').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/\s+/g, ' ').trim();
  const lines = md.split('\n');
  const h = lines.findIndex((l) => /^#\s/.test(l));
  const title = h >= 0 ? plain(lines[h].replace(/^#\s*/, '')) : 'pvops-lab';
  const paragraphs = lines.slice(h + 1).join('\n').split(/\n\s*\n/).map((p) => p.trim())
    .filter((p) => p !== '' && !/^(#|```|\||<|>|- |\* |\d+\. )/.test(p));
  let description = plain(paragraphs[0] || title);
  if (description.length > 300) description = `${description.slice(0, 297).replace(/\s+\S*$/, '')}…`;
  return { title, description };
}

module.exports = { readerNotebook, numberCells, chartCount, titleAndDescription, PLOTLY_MIME, text };
