/**
 * Marks for where a value comes from (a run's `provenance`, lib/lab/provenance.ts): a legend, a
 * letter per line (R report, D derived, F fitted, I invented) and, inside a line, a mark on each
 * figure that is not derived. Colour is never the only cue: each kind has its own underline style
 * and letter, and every mark carries its reason as a tooltip (no script needed).
 */
import { escapeHtml as e } from './escape';

export type ProvenanceKindView = 'report' | 'derived' | 'fitted' | 'invented';

/** A figure inside a line: characters [start, end). */
export interface ProvenancePartView {
  start: number;
  end: number;
  kind: string;
  label: string;
  key?: string;
}

/** One value's provenance, as lib/lab gives it. */
export interface ProvenanceEntryView {
  kind: string;
  reason: string;
  parts?: readonly ProvenancePartView[];
}

/** A run's provenance: key -> entry ('console.<n>', 'stack.<symbol>', 'registers.<name>', 'domid', ...). */
export type ProvenanceView = Readonly<Record<string, ProvenanceEntryView>>;

interface KindStyle {
  letter: string;
  /** what the kind means, for the legend */
  meaning: string;
  /** the letter's colour in the gutter (on the terminal's #1e1e1e) */
  gutter: string;
  /** inline style of a marked figure, or '' for unmarked (derived) */
  mark: string;
}

/** Colours chosen for contrast above 4.5:1 on the terminal's background and on a seed line's. */
export const KIND_STYLES: Readonly<Record<ProvenanceKindView, KindStyle>> = {
  report: {
    letter: 'R', meaning: 'from the report (an input the default config copies)', gutter: '#8fd694',
    mark: 'color:#8fd694;text-decoration:underline double;text-underline-offset:3px',
  },
  derived: { letter: 'D', meaning: 'derived: computed by the model (unmarked)', gutter: '#b0b8c0', mark: '' },
  fitted: {
    letter: 'F', meaning: 'fitted: data chosen so the output matches the report', gutter: '#79c0ff',
    mark: 'color:#79c0ff;text-decoration:underline dotted 2px;text-underline-offset:3px',
  },
  invented: {
    letter: 'I', meaning: 'invented: not in the report, made up by the model', gutter: '#ff9bd2',
    mark: 'color:#ff9bd2;text-decoration:underline wavy 1px;text-underline-offset:3px',
  },
};

const KINDS = Object.keys(KIND_STYLES) as ProvenanceKindView[];

export function isProvenanceKind(k: unknown): k is ProvenanceKindView {
  return typeof k === 'string' && (KINDS as string[]).includes(k);
}

/** The legend, as a row that wraps on narrow screens. */
export function provenanceLegendHtml(): string {
  const items = KINDS.map((k) => {
    const s = KIND_STYLES[k];
    const sample = s.mark === '' ? 'value' : `<span style="${s.mark}">value</span>`;
    return `<span class="pvops-legend-item" data-kind="${k}" style="display:inline-block;max-width:100%;margin-right:14px;vertical-align:top">` +
      `<b style="color:${s.gutter}">${s.letter}</b> ${sample} <span style="color:#c8ced4">${e(s.meaning)}</span></span>`;
  });
  return `<div class="pvops-legend" style="white-space:normal;padding:2px 12px 6px;font-size:11.5px;line-height:1.7;color:#d4d4d4">` +
    '<span style="display:block;color:#c8ced4">Where each figure comes from. The letter before a line is its least-real figure\'s kind; ' +
    `hover a letter or a marked figure for why.</span>${items.join(' ')}</div>`;
}

/** The legend as plain text. */
export function provenanceLegendText(): string {
  return `Where each figure comes from (the letter before a line is its least-real figure's kind): ${KINDS.map((k) => `${KIND_STYLES[k].letter} ${KIND_STYLES[k].meaning}`).join('; ')}.`;
}

/** The gutter cell of a line: its kind's letter, with the reason as a tooltip. */
export function gutterHtml(entry: ProvenanceEntryView | undefined): string {
  if (entry === undefined || !isProvenanceKind(entry.kind)) {
    return '<span class="pvops-prov" style="display:inline-block;width:2ch;color:#5a6270"> </span>';
  }
  const s = KIND_STYLES[entry.kind];
  return `<span class="pvops-prov" data-kind="${entry.kind}" title="${e(`${entry.kind}: ${entry.reason}`)}" ` +
    `style="display:inline-block;width:2ch;color:${s.gutter};font-weight:700">${s.letter}</span>`;
}

/** A line's text with its non-derived figures marked (escaped HTML). */
export function markedLineHtml(line: string, parts: readonly ProvenancePartView[] | undefined): string {
  if (parts === undefined || parts.length === 0) return e(line);
  const out: string[] = [];
  let at = 0;
  for (const p of [...parts].sort((a, b) => a.start - b.start)) {
    if (!isProvenanceKind(p.kind) || p.start < at || p.end > line.length || p.end <= p.start) continue;
    const style = KIND_STYLES[p.kind].mark;
    if (style === '') continue;
    out.push(e(line.slice(at, p.start)));
    out.push(`<span class="pvops-v" data-kind="${p.kind}"${p.key === undefined ? '' : ` data-key="${e(p.key)}"`} ` +
      `title="${e(`${p.label}: ${p.kind}`)}" style="${style}">${e(line.slice(p.start, p.end))}</span>`);
    at = p.end;
  }
  out.push(e(line.slice(at)));
  return out.join('');
}

/** The letter a line gets in the text rendering. */
export function gutterText(entry: ProvenanceEntryView | undefined): string {
  return entry !== undefined && isProvenanceKind(entry.kind) ? KIND_STYLES[entry.kind].letter : ' ';
}

/** The values other than console lines, in a table a reader can open (a <details>: no script). */
export function provenanceTableHtml(provenance: ProvenanceView): string {
  const rows = Object.entries(provenance).filter(([k]) => !k.startsWith('console.'));
  if (rows.length === 0) return '';
  const cell = 'padding:2px 8px;border-bottom:1px solid #eef;vertical-align:top;text-align:left';
  return `<details class="pvops-prov-table" style="margin-top:6px"><summary style="cursor:pointer">Where each value comes from (${rows.length})</summary>` +
    '<div style="overflow-x:auto"><table style="border-collapse:collapse;margin:4px 0 8px;font-size:12px">' +
    `<tr><th style="${cell}">value</th><th style="${cell}">kind</th><th style="${cell}">why</th></tr>` +
    rows.map(([k, v]) => `<tr data-key="${e(k)}"><td style="${cell};font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap">${e(k)}</td>` +
      `<td style="${cell}">${e(v.kind)}</td><td style="${cell};min-width:16em">${e(v.reason)}</td></tr>`).join('') +
    '</table></div></details>';
}
