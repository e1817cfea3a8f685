/**
 * The HTML that draws a plotly figure in a notebook page, and the HTML that loads plotly.js.
 *
 * The loader evaluates the inlined bundle with `define` hidden (window.define set to undefined,
 * and define/module/exports shadowed by parameters), so that RequireJS (classic Notebook 6 and
 * nbconvert's templates load require.js) or VS Code's loader does not capture it as an anonymous
 * module; plotly then sets window.Plotly. It then runs the charts that were waiting.
 *
 * A chart's script draws at once when window.Plotly exists, and otherwise queues itself on
 * window.__pvopsLabPlotlyQueue for the loader. Until drawn, the chart's <div> holds a text
 * fallback (what GitHub or a viewer without scripts shows); if plotly.js never arrives, a note
 * says why. Each chart finds its <div> by a data attribute derived from the figure's content
 * (the first not yet drawn), not by document.currentScript, which classic Notebook's jQuery
 * evaluation does not set.
 */
import { figureSummary, type PlotlyFigure } from '../figure';
import { escapeHtml, scriptJson } from '../html/escape';
import { fnv1a } from './hash';
import { plotlySource } from './plotly-source';
import type { StaticImage } from './static-image';

const QUEUE = '__pvopsLabPlotlyQueue';
/** Milliseconds a chart waits for plotly.js before it says it is missing. */
const MISSING_NOTE_DELAY = 10000;
export const MISSING_PLOTLY_NOTE = 'plotly.js is not loaded on this page: the output that carried it (the first chart, or the ' +
  'loadPlotly(tslab) cell) was cleared or re-run. Run loadPlotly(tslab) in a cell above, or Restart & Run All.';

/** The <script> that loads the inlined plotly.js once per page and releases waiting charts. */
export function plotlyLoaderHtml(): string {
  const { version, code } = plotlySource();
  const note = `plotly.js ${version} (cartesian bundle, ${(code.length / 1e6).toFixed(1)} MB) is inlined in this output, once for the whole notebook: keep it when clearing outputs.`;
  return `<div class="pvops-plotly-loader" style="font:11px system-ui,sans-serif;color:#777">${escapeHtml(note)}</div>` +
    '<script type="text/javascript">(function () {\n' +
    'if (!window.Plotly) {\n' +
    '  var savedDefine = window.define, hadModuleName = "moduleName" in window, savedModuleName = window.moduleName;\n' +
    '  window.define = undefined;\n' +
    '  try {\n' +
    '    (function (define, module, exports) {\n' +
    code +
    '\n    }).call(window);\n' +
    '  } finally {\n' +
    '    window.define = savedDefine;\n' +
    '    if (hadModuleName) window.moduleName = savedModuleName; else try { delete window.moduleName; } catch (e) {}\n' +
    '  }\n' +
    '}\n' +
    `var queue = window.${QUEUE} || [];\n` +
    `window.${QUEUE} = [];\n` +
    'for (var i = 0; i < queue.length; i++) queue[i]();\n' +
    '})();</script>';
}

/** The <div> and <script> that draw one figure. */
export function plotlyChartHtml(fig: PlotlyFigure, image: StaticImage | null = null): string {
  const spec = { data: fig.data, layout: fig.layout, config: { responsive: true, displaylogo: false } };
  const json = scriptJson(spec);
  const id = `pvops-plot-${fnv1a(json)}`;
  const height = typeof fig.layout.height === 'number' ? fig.layout.height : 440;
  return `<div class="pvops-plot" data-pvops-plot="${id}" style="width:100%${image === null ? `;min-height:${height}px` : ''}">` +
    (image === null
      ? `<div class="pvops-plot-fallback" style="font:12px system-ui,sans-serif;color:#666;padding:8px;border:1px dashed #ccc">` +
        `${escapeHtml(figureSummary(fig))}. Interactive chart drawn by plotly.js: it needs JavaScript.</div>`
      : `<div class="pvops-plot-fallback"><img class="pvops-plot-image" src="data:image/png;base64,${image.png}" ` +
        `width="${image.width}" height="${image.height}" alt="${escapeHtml(figureSummary(fig))}" ` +
        `style="max-width:100%;height:auto;display:block"></div>`) +
    '</div>' +
    '<script type="text/javascript">(function () {\n' +
    `var id = ${JSON.stringify(id)}, spec = ${json};\n` +
    'function target() {\n' +
    '  var els = document.querySelectorAll("[data-pvops-plot=\\"" + id + "\\"]");\n' +
    '  for (var i = 0; i < els.length; i++) if (!els[i].getAttribute("data-pvops-drawn")) return els[i];\n' +
    '  return null;\n' +
    '}\n' +
    'var el = target();\n' +
    'if (!el) return;\n' +
    'el.setAttribute("data-pvops-drawn", "pending");\n' +
    'function draw() { el.innerHTML = ""; el.setAttribute("data-pvops-drawn", "1"); window.Plotly.newPlot(el, spec.data, spec.layout, spec.config); }\n' +
    `if (window.Plotly) draw(); else { (window.${QUEUE} = window.${QUEUE} || []).push(draw);\n` +
    `  setTimeout(function () { if (!window.Plotly) { var f = el.querySelector(".pvops-plot-fallback"); if (f) f.textContent = ${JSON.stringify(MISSING_PLOTLY_NOTE)}; } }, ${MISSING_NOTE_DELAY}); }\n` +
    '})();</script>';
}
