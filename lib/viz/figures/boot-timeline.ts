/**
 * The boot as a timeline, one row per kernel: the x axis is the boot's routines in the order they
 * ran (setup_arch's calls, and the few nested ones the story turns on), not the trace's clock, so
 * every kernel's row lines up routine by routine. Each row shows which write_cr3 pv op is
 * installed, each CR3 load, when the vmemmap gets mapped, when the #PF gate (vector 14) reaches
 * Xen's trap table, and the crash (a crashed row's bands end there). Everything is read off the
 * run's trace: the routine log, 'cr3-load', 'trap-table', 'pt-page-alloc' and 'domain-crash' events.
 */
import { LabError, describeValue } from '../../errors';
import type { TraceEvent } from '../../trace';
import { axis, baseLayout, type PlotlyFigure, type PlotlyTrace } from '../figure';
import { crashPoint, expectRuns, isCrashed, outcomeText, runPlatform, runVariant } from '../run-data';
import type { RunView, TraceView } from '../types';

/** setup_arch's calls that say nothing about page tables or traps. */
const NOISE = /^(printk|vprintk_emit|early_printk|memblock_|reserve_brk|strlcpy|__add_preferred_console|add_preferred_console)/;
/** Routines below setup_arch's own calls that the story turns on (each gets its own place on the axis). */
const NESTED = new Set(['paging_init', 'sparse_init', 'xen_post_allocator_init']);
/** The Xen write_cr3 pv ops (arch/x86/xen/mmu.c, Linux 3.9): the early one and the late one. */
const HOOKS = ['xen_write_cr3_init', 'xen_write_cr3'] as const;
/** #PF */
const PF_VECTOR = 14;

const START = 'before setup_arch';

interface Mark { kind: 'cr3' | 'traps' | 'crash'; at: number; text: string }
interface Row {
  label: string;
  milestones: string[];
  /** milestone index of each mark, and the marks */
  marks: { bucket: number; mark: Mark }[];
  /** bucket where the vmemmap got its first page-table page, or null */
  vmemmap: { bucket: number; text: string } | null;
  /** bucket where Xen first held a #PF entry, or null */
  pfGate: { bucket: number; text: string } | null;
  /** the write_cr3 pv op installed from each bucket on */
  hooks: { bucket: number; hook: string }[];
}

function allEvents(trace: TraceView): readonly TraceEvent[] {
  const t = trace as TraceView & { allEvents?: () => TraceEvent[] };
  return typeof t.allEvents === 'function' ? t.allEvents() : trace.events;
}

function readRow(run: RunView): Row {
  const events = allEvents(run.trace);
  const milestones: string[] = [START];
  const marks: Row['marks'] = [];
  let vmemmap: Row['vmemmap'] = null;
  let pfGate: Row['pfGate'] = null;
  let setupDepth = -1;
  let setupDone = false;
  let bucket = 0;
  const callers: string[] = [];
  const seen = { hook: null as string | null, switchedAt: -1, early: false };
  for (const e of events) {
    if (e.type === 'routine-enter') {
      callers[e.depth] = e.name;
      if (e.name === 'setup_arch' && setupDepth < 0) setupDepth = e.depth;
      else if (setupDepth >= 0 && !setupDone && e.depth > setupDepth) {
        const child = e.depth === setupDepth + 1 && !NOISE.test(e.name);
        if (child || NESTED.has(e.name)) { milestones.push(e.name); bucket = milestones.length - 1; }
      }
      if (e.name === 'xen_write_cr3_init') seen.early = true;
      if (e.name === 'xen_post_allocator_init' && seen.switchedAt < 0) seen.switchedAt = bucket;
      if ((HOOKS as readonly string[]).includes(e.name) && seen.hook === null) seen.hook = e.name;
    } else if (e.type === 'routine-leave') {
      if (e.name === 'setup_arch' && e.depth === setupDepth) setupDone = true;
    } else if (e.type === 'cr3-load') {
      const via = callers.slice(0, 8).filter((n) => n !== undefined).reverse().find((n) => (HOOKS as readonly string[]).includes(n));
      marks.push({ bucket, mark: { kind: 'cr3', at: e.seq, text: `CR3 load: ${e.value} by ${e.by}${via === undefined ? '' : ` (through ${via})`}` } });
    } else if (e.type === 'trap-table') {
      const pf = e.vectors.includes(PF_VECTOR);
      marks.push({ bucket, mark: { kind: 'traps', at: e.seq, text: `trap table sent to Xen by ${e.by}: ${e.vectors.length} vectors${pf ? ', #PF (14) among them' : ', no #PF (14)'}` } });
      if (pf && pfGate === null) pfGate = { bucket, text: `from here Xen holds a #PF (vector 14) entry for the guest (set by ${e.by})` };
    } else if (e.type === 'pt-page-alloc') {
      if (vmemmap === null && /vmemmap/.test(e.by)) vmemmap = { bucket, text: `from here the vmemmap is mapped (first page-table page by ${e.by})` };
    } else if (e.type === 'domain-crash') {
      const c = crashPoint(run.trace);
      marks.push({ bucket, mark: { kind: 'crash', at: e.seq, text: c === null ? `domain ${e.domid} crashed` : c.what } });
    }
  }
  // The installed write_cr3: xen_write_cr3_init from the start when the run ever called it, until
  // xen_post_allocator_init installs xen_write_cr3 (arch/x86/xen/mmu.c, Linux 3.9); otherwise
  // xen_write_cr3 throughout a Xen run, and the native op on bare metal.
  const platform = runPlatform(run);
  const hooks: Row['hooks'] = [];
  if (seen.early) {
    hooks.push({ bucket: 0, hook: 'xen_write_cr3_init' });
    if (seen.switchedAt >= 0) hooks.push({ bucket: seen.switchedAt, hook: 'xen_write_cr3' });
  } else {
    hooks.push({ bucket: 0, hook: seen.hook ?? (platform === 'xen' ? 'xen_write_cr3' : 'native_write_cr3') });
  }
  if (!marks.some((m) => m.mark.kind === 'crash')) {
    const c = isCrashed(run.outcome) ? crashPoint(run.trace) : null;
    if (c !== null) marks.push({ bucket, mark: { kind: 'crash', at: c.seq, text: c.what } });
  }
  return { label: rowLabel(run), milestones, marks, vmemmap, pfGate, hooks };
}

function rowLabel(run: RunView): string {
  const outcome = typeof run.outcome === 'string' ? run.outcome : outcomeText(run.outcome);
  return run.label ?? `${runVariant(run)}${runPlatform(run) === 'xen' ? '' : ` (${runPlatform(run)})`}: ${outcome}`;
}

/**
 * The routines of every row in one order: rows merged one by one on their longest common
 * subsequence; between two shared routines, the names only the merged-so-far rows ran come first,
 * then the new row's.
 */
export function mergeOrder(lists: readonly string[][]): string[] {
  let merged: string[] = [];
  for (const list of lists) merged = mergeTwo(merged, list);
  return merged;
}

function mergeTwo(a: readonly string[], b: readonly string[]): string[] {
  const l: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) l[i][j] = a[i] === b[j] ? l[i + 1][j + 1] + 1 : Math.max(l[i + 1][j], l[i][j + 1]);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  const gapB: string[] = [];
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(...gapB.splice(0), a[i]);
      i++; j++;
    } else if (j >= b.length || (i < a.length && l[i + 1][j] >= l[i][j + 1])) {
      out.push(a[i++]);
    } else {
      gapB.push(b[j++]);
    }
  }
  out.push(...gapB);
  return out.filter((name, k) => out.indexOf(name) === k);
}

const HOOK_COLOURS: Record<string, string> = { xen_write_cr3_init: '#2ca02c', xen_write_cr3: '#ff7f0e', native_write_cr3: '#7f7f7f' };

export function bootTimelineFigure(results: readonly RunView[]): PlotlyFigure {
  if (!Array.isArray(results)) throw new LabError('WRONG_TYPE', `results must be an array of runs; got ${describeValue(results)}`);
  const runs = expectRuns('results', results);
  const rows = runs.map(readRow);
  const order = mergeOrder(rows.map((r) => r.milestones.filter((m, i) => r.milestones.indexOf(m) === i)));
  const n = order.length;
  // a row's bucket k (the k-th milestone it entered) is at the merged position of that routine
  const place = (row: Row, bucket: number) => order.indexOf(row.milestones[bucket]);
  const y = (r: number, dy = 0) => rows.length - 1 - r + dy;
  const data: PlotlyTrace[] = [];
  const legend = new Set<string>();
  const once = (name: string) => { const first = !legend.has(name); legend.add(name); return first; };

  rows.forEach((row, r) => {
    // the marks, spread inside their routine's slot in the order they happened
    const byBucket = new Map<number, Mark[]>();
    for (const m of row.marks) byBucket.set(m.bucket, [...(byBucket.get(m.bucket) ?? []), m.mark]);
    // the crash, always its slot's last mark, sits near the slot's right edge, clear of the CR3 load before it even at 420 px
    const markX = (bucket: number, j: number, count: number, kind: Mark['kind']) =>
      place(row, bucket) + (kind === 'crash' ? 0.3 : -0.5 + (j + 1) / (count + 1));
    // a crashed row's states end at the crash: nothing runs after it
    let end = n - 0.5;
    for (const [bucket, list] of byBucket) list.forEach((m, j) => { if (m.kind === 'crash') end = Math.min(end, markX(bucket, j, list.length, m.kind)); });
    // write_cr3 installed: a band under the row
    row.hooks.forEach((h, i) => {
      const x0 = i === 0 ? -0.5 : place(row, h.bucket) - 0.5;
      const x1 = i + 1 < row.hooks.length ? place(row, row.hooks[i + 1].bucket) - 0.5 : end;
      const name = `write_cr3 = ${h.hook}`;
      data.push({
        type: 'scatter', mode: 'lines', name, legendgroup: name, showlegend: once(name), x: [x0, x1], y: [y(r, -0.28), y(r, -0.28)],
        line: { color: HOOK_COLOURS[h.hook] ?? '#7f7f7f', width: 8 }, hoverinfo: 'text',
        text: [`${row.label}: pv_mmu_ops.write_cr3 is ${h.hook}`, `${row.label}: pv_mmu_ops.write_cr3 is ${h.hook}`],
        hovertemplate: '%{text}<extra></extra>',
      });
    });
    const state = (s: { bucket: number; text: string } | null, name: string, dy: number, colour: string) => {
      if (s === null) return;
      const x0 = place(row, s.bucket) - 0.5;
      data.push({
        type: 'scatter', mode: 'lines', name, legendgroup: name, showlegend: once(name), x: [x0, end], y: [y(r, dy), y(r, dy)],
        line: { color: colour, width: 4 }, text: [`${row.label}: ${s.text}`, `${row.label}: ${s.text}`], hovertemplate: '%{text}<extra></extra>',
      });
    };
    state(row.vmemmap, 'vmemmap mapped', 0.3, '#17becf');
    state(row.pfGate, '#PF entry held by Xen', 0.18, '#9467bd');
    const kinds: Record<Mark['kind'], { name: string; marker: Record<string, unknown> }> = {
      cr3: { name: 'CR3 load', marker: { symbol: 'circle-open', size: 11, color: '#1f77b4', line: { width: 2 } } },
      traps: { name: 'trap table sent to Xen', marker: { symbol: 'triangle-up', size: 11, color: '#9467bd' } },
      crash: { name: 'crash', marker: { symbol: 'x', size: 15, color: '#d62728', line: { width: 1, color: '#7f0000' } } },
    };
    for (const kind of ['cr3', 'traps', 'crash'] as const) {
      const xs: number[] = [];
      const texts: string[] = [];
      for (const [bucket, list] of byBucket) {
        list.forEach((m, j) => {
          if (m.kind !== kind) return;
          xs.push(markX(bucket, j, list.length, m.kind));
          texts.push(`${row.label}, in ${row.milestones[bucket]}: ${m.text}`);
        });
      }
      if (xs.length === 0) continue;
      const k = kinds[kind];
      data.push({
        type: 'scatter', mode: 'markers', name: k.name, legendgroup: k.name, showlegend: once(k.name),
        x: xs, y: xs.map(() => y(r)), text: texts, hovertemplate: '%{text}<extra></extra>', marker: k.marker,
      });
    }
  });

  const title = 'Boot timeline: what is set up at each CR3 load';
  return {
    data,
    layout: {
      ...baseLayout(title),
      height: 250 + 85 * rows.length,
      margin: { t: 60, r: 10, b: 150, l: 70 },
      legend: { orientation: 'h', yref: 'container', y: 0.01, yanchor: 'bottom', x: 0, font: { size: 11 } },
      title: { text: title, x: 0.02, xanchor: 'left', font: { size: 14 } },
      xaxis: axis('boot routines, in order (setup_arch\'s calls)', {
        tickvals: order.map((_, i) => i), ticktext: order, tickangle: -45, tickfont: { size: 10 }, range: [-0.5, n - 0.5],
        zeroline: false, showgrid: true, gridcolor: '#eee',
      }),
      yaxis: axis('', { range: [-0.6, rows.length - 0.35], zeroline: false, showgrid: false, showticklabels: false, fixedrange: true }),
      // each row's name above it, so the plot keeps the page's full width
      annotations: rows.map((row, r) => ({
        text: row.label.replace(/^([^:]+)/, '<b>$1</b>'), x: -0.5, xref: 'x', y: y(r, 0.44), yref: 'y', showarrow: false,
        xanchor: 'left', yanchor: 'middle', font: { size: 12, color: isCrashed(runs[r].outcome) ? '#b00' : '#222' },
      })),
      hovermode: 'closest',
    },
  };
}
