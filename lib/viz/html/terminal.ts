/**
 * The Xen console and the guest's call stack as a terminal block, with the lines that match a
 * given list of seed lines (e.g. the ones quoted in the commit message) highlighted, and the
 * seed lines no line matched listed under the block.
 *
 * A line matches a seed string when both are equal once all white space is removed: the commit
 * message wraps its quotes, even inside a token ("[<" / "ffffffff81000000>]"), and Xen pads
 * columns. A RegExp seed matches when it tests true on the line as printed.
 *
 * Given a run's provenance, each line gets a letter for where its figures come from (report,
 * derived, fitted, invented; see provenance-marks.ts) and its fitted, invented and report figures
 * are marked in place, under a legend.
 */
import { LabError, describeValue } from '../../errors';
import { parseU64 } from '../../x86/address';
import type { StackFrameView } from '../types';
import { escapeHtml as e } from './escape';
import {
  gutterHtml, gutterText, markedLineHtml, provenanceLegendHtml, provenanceLegendText, provenanceTableHtml,
  type ProvenanceEntryView, type ProvenancePartView, type ProvenanceView,
} from './provenance-marks';
import { STYLE, htmlView, type HtmlView } from './view';

export type SeedLine = string | RegExp;

export interface SeedMatch {
  /** for each line, the index of the first seed it matches, or -1 */
  lineSeed: number[];
  /** the seeds no line matched */
  missing: SeedLine[];
}

const normalise = (s: string): string => s.replace(/\s+/g, '');

/** Which lines match which seeds. */
export function matchSeedLines(lines: readonly string[], seeds: readonly SeedLine[]): SeedMatch {
  const norm = seeds.map((s) => (typeof s === 'string' ? normalise(s) : new RegExp(s.source, s.flags.replace(/[gy]/g, ''))));
  const hit = seeds.map(() => false);
  const lineSeed = lines.map((line) => {
    const n = normalise(line);
    const k = norm.findIndex((s) => (typeof s === 'string' ? s === n : s.test(line)));
    if (k >= 0) hit[k] = true;
    return k;
  });
  return { lineSeed, missing: seeds.filter((_, k) => !hit[k]) };
}

/** A stack frame as the seed prints it: `[<ffffffff81000010>] some_function+0x10`, the RIP's with " <--". */
export function formatStackFrame(frame: StackFrameView): string {
  const address = typeof frame.address === 'number' ? BigInt(frame.address) : parseU64('frame.address', frame.address);
  const offset = typeof frame.offset === 'number' ? `0x${frame.offset.toString(16)}` : frame.offset;
  return `[<${address.toString(16).padStart(16, '0')}>] ${frame.symbol}+${offset}${frame.isRip === true ? ' <--' : ''}`;
}

export interface TerminalSection {
  /** a heading above the lines, e.g. "Xen console" */
  title: string;
  lines: readonly string[];
  /** where each line's figures come from (same length as lines), from a run's provenance */
  provenance?: readonly (ProvenanceEntryView | undefined)[];
}

function checkLines(name: string, lines: unknown): void {
  if (!Array.isArray(lines) || lines.some((l) => typeof l !== 'string')) {
    throw new LabError('WRONG_TYPE', `${name} must be an array of strings; got ${describeValue(lines)}`);
  }
}

function checkSeeds(seeds: unknown): void {
  if (!Array.isArray(seeds) || seeds.some((s) => typeof s !== 'string' && !(s instanceof RegExp))) {
    throw new LabError('WRONG_TYPE', `seeds must be an array of strings or RegExps; got ${describeValue(seeds)}`);
  }
}

/** One terminal block of one or more sections, seed lines highlighted. */
export function terminalView(sections: readonly TerminalSection[], seeds: readonly SeedLine[] = []): HtmlView {
  if (!Array.isArray(sections)) {
    throw new LabError('WRONG_TYPE', `sections must be an array of { title, lines }; got ${describeValue(sections)}`);
  }
  sections.forEach((s, i) => checkLines(`sections[${i}].lines`, s?.lines));
  checkSeeds(seeds);
  const all = sections.flatMap((s) => s.lines);
  const match = matchSeedLines(all, seeds);
  const marked = sections.some((s) => s.provenance !== undefined);
  const html: string[] = [`<div class="pvops-terminal" style="${STYLE.box}">`,
    `<div style="background:#1e1e1e;color:#d4d4d4;border-radius:6px;padding:8px 0;${STYLE.mono};font-size:12px;line-height:1.5">`];
  const text: string[] = [];
  if (marked) {
    html.push(provenanceLegendHtml());
    text.push(provenanceLegendText());
  }
  html.push('<div style="overflow-x:auto">');
  let n = 0;
  for (const section of sections) {
    html.push(`<div style="color:#8fb3d9;padding:2px 12px">── ${e(section.title)} ──</div>`);
    text.push(`── ${section.title} ──`);
    section.lines.forEach((line: string, i: number) => {
      const seed = match.lineSeed[n++];
      const mark = seed >= 0;
      const prov = section.provenance?.[i];
      const body = marked ? gutterHtml(prov) + markedLineHtml(line, prov?.parts) : e(line);
      html.push(`<div class="pvops-line${mark ? ' pvops-seed' : ''}"${mark ? ` data-seed="${seed}" title="matches report line ${seed + 1}"` : ''}` +
        `${prov !== undefined ? ` data-kind="${e(prov.kind)}"` : ''}` +
        ` style="white-space:pre;padding:0 12px;${mark ? 'background:#4b3d00;color:#ffe08a;border-left:3px solid #ffcc00' : 'border-left:3px solid transparent'}">${body || ' '}</div>`);
      text.push(`${marked ? `${gutterText(prov)} ` : ''}${mark ? '» ' : '  '}${line}`);
    });
  }
  html.push('</div></div>');
  if (seeds.length > 0) {
    const found = seeds.length - match.missing.length;
    // A matched line is the same text, not proof that its figures come out of the model: say so.
    const caveat = marked ? ' A match is the same text; the letters say which of its figures the model derives.' : '';
    html.push(`<div style="${STYLE.muted};margin-top:4px">${found} of ${seeds.length} lines of the report printed by this run (highlighted).${caveat}</div>`);
    text.push(`${found} of ${seeds.length} lines of the report printed by this run (marked »).${caveat}`);
    if (match.missing.length > 0) {
      html.push(`<div class="pvops-missing" style="${STYLE.muted}">Not seen in this run:<ul style="margin:2px 0">` +
        match.missing.map((s) => `<li style="${STYLE.mono}">${e(String(s))}</li>`).join('') + '</ul></div>');
      text.push('Not seen in this run:', ...match.missing.map((s) => `  ${String(s)}`));
    }
  }
  html.push('</div>');
  const title = sections.map((s) => s.title).join(' and ');
  return htmlView(title, html.join(''), text.join('\n'));
}

export interface ConsoleViewOptions {
  /** a run's provenance (result.provenance): marks where each line's figures come from */
  provenance?: ProvenanceView;
}

/** A stack frame line's provenance: its function's start (stack.<symbol>) marks the address and offset. */
function frameProvenance(provenance: ProvenanceView, frame: StackFrameView, line: string): ProvenanceEntryView | undefined {
  const entry = provenance[`stack.${frame.symbol}`];
  if (entry === undefined) return undefined;
  const key = `stack.${frame.symbol}`;
  const parts: ProvenancePartView[] = [{ start: 2, end: 18, kind: entry.kind, label: `return address into ${frame.symbol}`, key }];
  const plus = line.indexOf('+', 20);
  if (plus > 0) parts.push({ start: plus, end: line.indexOf(' ', plus) < 0 ? line.length : line.indexOf(' ', plus), kind: entry.kind, label: 'offset in the function', key });
  return { kind: entry.kind, reason: entry.reason, parts };
}

/**
 * The Xen console (lines as printed, "(XEN) " prefix included) and the guest stack, one block;
 * with `options.provenance` (a run's result.provenance) every line is marked for where its
 * figures come from, under a legend, and a table of the values' provenance follows.
 */
export function consoleView(
  xenConsole: readonly string[], guestStack: readonly StackFrameView[] = [], seeds: readonly SeedLine[] = [],
  options: ConsoleViewOptions = {},
): HtmlView {
  checkLines('xenConsole', xenConsole);
  if (!Array.isArray(guestStack)) {
    throw new LabError('WRONG_TYPE', `guestStack must be an array of { address, symbol, offset }; got ${describeValue(guestStack)}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new LabError('WRONG_TYPE', `options must be an object like { provenance: result.provenance }; got ${describeValue(options)}`);
  }
  const p = options.provenance;
  if (p !== undefined && (typeof p !== 'object' || p === null || Array.isArray(p))) {
    throw new LabError('WRONG_TYPE', `options.provenance must be a run's result.provenance (an object of { kind, reason } by key); got ${describeValue(p)}`);
  }
  const sections: TerminalSection[] = [{
    title: 'Xen console', lines: xenConsole,
    ...(p === undefined ? {} : { provenance: xenConsole.map((_, n) => p[`console.${n}`]) }),
  }];
  if (guestStack.length > 0) {
    const lines = guestStack.map(formatStackFrame);
    sections.push({
      title: 'guest call stack', lines,
      ...(p === undefined ? {} : { provenance: guestStack.map((f, i) => frameProvenance(p, f, lines[i])) }),
    });
  }
  const view = terminalView(sections, seeds);
  if (p === undefined) return view;
  const table = provenanceTableHtml(p);
  const at = view.html.lastIndexOf('</div>');
  return { ...view, html: `${view.html.slice(0, at)}${table}</div>` };
}
