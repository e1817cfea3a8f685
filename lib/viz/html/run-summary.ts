/**
 * The rich rendering of a run result and of a set of counters: what a bare result shows when a
 * cell ends with show(tslab, run). Outcome first, then the fault, the counters, the counts per
 * phase, and the console with the guest stack.
 */
import { LabError, describeValue } from '../../errors';
import type { Counters } from '../../trace';
import { parseU64 } from '../../x86/address';
import { decodeErrorCode } from '../../x86/page-fault';
import { expectRun, isCrashed, outcomeText, phaseEntries, runLabel, runPlatform, runVariant, total } from '../run-data';
import type { RunView } from '../types';
import { escapeHtml as e } from './escape';
import { consoleView, type SeedLine } from './terminal';
import { STYLE, htmlView, type HtmlView } from './view';

const row = (cells: (string | number)[], head = false): string =>
  `<tr>${cells.map((c) => `<${head ? 'th' : 'td'} style="${head ? STYLE.th : STYLE.td}">${e(String(c))}</${head ? 'th' : 'td'}>`).join('')}</tr>`;

const sumLevels = (l: { l4: number; l3: number; l2: number; l1: number }): number => l.l4 + l.l3 + l.l2 + l.l1;
const listCounts = (r: Record<string, number>): string =>
  Object.keys(r).length === 0 ? 'none' : Object.keys(r).map((k) => `${k} ${r[k]}`).join(', ');

/** The counters as [name, value] rows. */
function counterRows(c: Counters): [string, string][] {
  const f = c.pageFaults;
  return [
    ['page faults', `${f.handled + f.unhandled} (handled ${f.handled}, unhandled ${f.unhandled}; ` +
      `early #PF ${f.byHandler['early-pf']}, kernel ${f.byHandler.kernel}, bounced ${f.byHandler.bounced}, fixup ${f.byHandler.fixup})`],
    ['page-table pages', `${sumLevels(c.ptPages)} (L4 ${c.ptPages.l4}, L3 ${c.ptPages.l3}, L2 ${c.ptPages.l2}, L1 ${c.ptPages.l1})`],
    ['entries written', `${sumLevels(c.pteWrites)} (L4 ${c.pteWrites.l4}, L3 ${c.pteWrites.l3}, L2 ${c.pteWrites.l2}, L1 ${c.pteWrites.l1})`],
    ['hypercalls', `${total(c.hypercalls)} (${listCounts(c.hypercalls)})`],
    ['MMUEXT ops', `${total(c.mmuextOps)} (${listCounts(c.mmuextOps)})`],
    ['CR3 loads', String(c.cr3Loads)],
  ];
}

function countersTable(c: Counters): string {
  return `<table class="pvops-counters" style="${STYLE.table}">${counterRows(c).map((r) => row(r)).join('')}</table>`;
}

export function isCounters(x: unknown): x is Counters {
  return typeof x === 'object' && x !== null && typeof (x as Counters).pageFaults === 'object'
    && typeof (x as Counters).ptPages === 'object' && typeof (x as Counters).hypercalls === 'object';
}

/** A table of counters. */
export function countersView(counters: Counters, title = 'Counters'): HtmlView {
  if (!isCounters(counters)) {
    throw new LabError('WRONG_TYPE', `counters must be a Counters object { pageFaults, ptPages, pteWrites, hypercalls, ... }; got ${describeValue(counters)}`);
  }
  const html = `<div class="pvops-counters-view" style="${STYLE.box}"><div style="${STYLE.heading}">${e(title)}</div>${countersTable(counters)}</div>`;
  return htmlView(title, html, [title, ...counterRows(counters).map(([k, v]) => `  ${k}: ${v}`)].join('\n'));
}

/** The run as a card: outcome, fault, counters, counts per phase, console and stack. */
export function runSummaryView(run: RunView, seeds: readonly SeedLine[] = []): HtmlView {
  expectRun('run', run);
  const crashed = isCrashed(run.outcome);
  const label = runLabel(run);
  const outcome = outcomeText(run.outcome);
  const title = `Run ${label}: ${outcome}`;
  const html: string[] = [`<div class="pvops-run" style="${STYLE.box};border:1px solid #ccd;border-radius:8px;padding:8px 12px">`,
    `<div style="${STYLE.heading}">${e(label)} <span style="${STYLE.muted}">(variant ${e(runVariant(run))}, platform ${e(runPlatform(run))})</span></div>`,
    `<div class="pvops-outcome" style="${crashed ? STYLE.bad : STYLE.good}">${e(outcome)}</div>`];
  const text: string[] = [title];
  if (run.fault !== undefined && run.fault !== null) {
    const addr = typeof run.fault.address === 'bigint' ? run.fault.address : parseU64('run.fault.address', run.fault.address);
    const code = decodeErrorCode(run.fault.errorCode);
    const line = `page fault at ${addr.toString(16).padStart(16, '0')}, error code ${code.hex}` +
      `${run.fault.handler === undefined ? '' : `, ${run.fault.handler}`}`;
    html.push(`<div style="margin:4px 0"><b>Fault:</b> <span style="${STYLE.mono}">${e(line)}</span><br>` +
      `<span style="${STYLE.muted}">${e(code.bits.join('; '))}</span></div>`);
    text.push(`  fault: ${line}`);
  }
  html.push(countersTable(run.trace.counters));
  text.push(...counterRows(run.trace.counters).map(([k, v]) => `  ${k}: ${v}`));
  const phases = phaseEntries(run.trace.countersByPhase);
  if (phases.length > 0) {
    html.push(`<table class="pvops-phases" style="${STYLE.table};font-size:12px">`,
      row(['phase', 'page faults', 'page-table pages', 'entries written', 'hypercalls', 'MMUEXT ops'], true));
    for (const [p, c] of phases) {
      html.push(row([p, c.pageFaults.handled + c.pageFaults.unhandled, sumLevels(c.ptPages), sumLevels(c.pteWrites), total(c.hypercalls), total(c.mmuextOps)]));
    }
    html.push('</table>');
  }
  const consoleLines = run.xenConsole ?? [];
  const stack = run.guestStack ?? [];
  if (consoleLines.length > 0 || stack.length > 0) {
    const terminal = consoleView(consoleLines, stack, seeds);
    html.push(terminal.html);
    text.push(terminal.text);
  }
  html.push('</div>');
  return htmlView(title, html.join(''), text.join('\n'));
}
