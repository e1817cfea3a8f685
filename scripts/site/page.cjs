// The page shell around nbconvert's `basic` HTML (cells only): title, meta description, viewport,
// a small stylesheet that keeps every page readable at 420 px (there a chart's static image, shown
// without JavaScript, keeps a readable width and scrolls sideways), previous / index / next links, and
// plotly.js from assets/ on pages that draw charts (loaded before anything defines an AMD `define`).
const escape = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

const CSS = `
*{box-sizing:border-box}
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:0;background:#fff}
main{max-width:60em;margin:0 auto;padding:0 1em 2em}
nav.pvops-nav{display:grid;grid-template-columns:1fr auto 1fr;gap:.4em 1.2em;align-items:start;font-size:.9em;
  padding:.6em 1em;border-bottom:1px solid #ddd;background:#fafafa}
nav.pvops-nav>:last-child{text-align:right}
nav.pvops-nav.bottom{border-top:1px solid #ddd;border-bottom:0;margin-top:2em}
nav.pvops-nav a{color:#0645ad;text-decoration:none}nav.pvops-nav a:hover{text-decoration:underline}
nav.pvops-nav .short{display:none}
h1{font-size:1.7em;line-height:1.25}h2{font-size:1.3em;margin-top:1.6em}h3{font-size:1.1em}
a.anchor-link{display:none}
.prompt,.input_prompt,.output_prompt{display:none}
.cell,.output_wrapper,.output,.output_area,.output_subarea,.inner_cell{max-width:100%;min-width:0}
.output_area{margin:.3em 0}
code{background:#f3f3f3;padding:0 .2em;border-radius:3px;font-size:.92em;overflow-wrap:anywhere}
pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere;
  background:#f7f7f7;border:1px solid #e5e5e5;border-radius:4px;padding:.6em .8em;margin:.4em 0}
pre code{background:none;padding:0}
details.pvops-code{margin:.8em 0 .2em}
details.pvops-code>summary{cursor:pointer;color:#555;font-size:.85em;user-select:none}
details.pvops-code>pre{background:#f5f7fb;border-color:#dde3ee}
.pvops-count{color:#999;font-family:ui-monospace,monospace}
table{border-collapse:collapse;display:block;max-width:100%;overflow-x:auto;font-size:.9em}
td,th{border:1px solid #ddd;padding:.2em .5em}
img{max-width:100%;height:auto}
.pvops-plot{max-width:100%;overflow:hidden}
.pvops-plot-fallback{overflow-x:auto}
.rendered_html{overflow-wrap:break-word}
.rendered_html>div,.output_html>div{max-width:100%}
.output_html{overflow-x:auto}
.summary{font-size:1.05em;background:#f6f8fb;border-left:4px solid #4a6fa5;padding:.5em 1em;margin:1em 0}
ul.pages{list-style:none;padding-left:0}ul.pages li{margin:.8em 0}ul.pages li p{margin:.2em 0;color:#555}
@media (max-width:600px){nav.pvops-nav .long{display:none}nav.pvops-nav .short{display:inline}body{font-size:15px}main{padding:0 .6em 1.5em}pre{font-size:12px}h1{font-size:1.4em}
  .pvops-plot-fallback img.pvops-plot-image{max-width:none!important;width:760px!important}
  table.pvops-walk-split td,table.pvops-walk-split th{padding:2px 3px!important;font-size:11px!important}
  table.pvops-walk-split span{font-size:9px!important}}
`;

/** Previous / index / next links. */
function nav(links, where) {
  // the page's title on wide screens, "previous" / "next" on narrow ones
  const a = (l, rel, arrow) => (l ? `<a rel="${rel}" href="${escape(l.href)}" title="${escape(l.title)}">${arrow === '←' ? '← ' : ''}` +
    `<span class="long">${escape(l.title)}</span><span class="short">${rel === 'prev' ? 'previous' : 'next'}</span>${arrow === '→' ? ' →' : ''}</a>` : '<span></span>');
  return `<nav class="pvops-nav ${where}" aria-label="pages">${a(links.prev, 'prev', '←')}` +
    `${links.index ? `<a href="${escape(links.index)}">index</a>` : '<span></span>'}${a(links.next, 'next', '→')}</nav>`;
}

/** A whole page. `plotly`: the relative URL of plotly.js, or null on pages without charts. */
function page({ title, description, body, links, plotly }) {
  const plotlyTag = plotly ? `<script src="${escape(plotly)}"></script>\n` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<meta name="description" content="${escape(description)}">
${plotlyTag}<style>${CSS}</style></head>
<body>
${nav(links, 'top')}
<main>
${body}
</main>
${nav(links, 'bottom')}
</body></html>
`;
}

module.exports = { page, escape };
