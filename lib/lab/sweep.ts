/**
 * Sweeps: the same boot at several memory sizes, variants and platforms, one run after another,
 * reporting progress as it goes (a sweep up to 1 TiB takes minutes). Each point keeps its run's
 * result, which the memory-sweep chart reads (it needs only the counters: `keepTraces: false`
 * keeps those and lets each run's events go, which a sweep to the big sizes needs).
 *
 * Only one run is alive at a time: a run's machine (its page tables, p2m and frame table) is
 * dropped before the next boot starts, so a sweep needs the memory of its biggest boot plus the
 * results it keeps. A sweep that would not fit in this machine's memory is refused before any
 * boot runs (LabError 'NOT_ENOUGH_MEMORY', saying how much it needs and how much there is).
 */
import { LabError, describeValue } from '../errors';
import type { Platform } from '../linux/kernel';
import type { VariantId } from '../linux/variants';
import { TraceRecorder } from '../trace/recorder';
import { boot } from './boot';
import { normalizeConfig, parseMemorySize, type BootConfig } from './config';
import { FIXED_BYTES, bootBytesNeeded, checkMemoryFits, checkXenLayoutFits } from './memory-need';
import type { RunResult } from './result';

export interface SweepOptions {
  variants: VariantId[];
  platforms: Platform[];
  /** sizes like '256M', '1G', '4G', '1T' */
  memories: (string | number)[];
  /** stop each boot when this routine is entered (e.g. 'early_trap_pf_init' = end of init_mem_mapping) */
  stopAt?: string;
  /** other config shared by every run (domid, pcpu, structPageSize) */
  base?: Omit<BootConfig, 'variant' | 'platform' | 'memory'>;
  /**
   * keep each result's whole trace (default true); false keeps only its counters (what the
   * memory-sweep chart reads), so the results of big boots do not add up in memory
   */
  keepTraces?: boolean;
}

export interface SweepProgress {
  /** runs finished, of `total` */
  done: number;
  total: number;
  /** the run just finished, e.g. '5b5c1af104ab on xen, 64G' */
  label: string;
  /** its time in ms */
  ms: number;
  /** guest memory booted so far over the sweep's total (0..1): the share of the work done, since a boot's cost grows with its memory */
  fraction: number;
  /** page-table entries the run wrote */
  ptes: number;
  /** estimated ms left, from the time per GiB so far */
  etaMs: number;
}

/** Runs every combination, one at a time; `onProgress` is called after each run. */
export function sweep(options: SweepOptions, onProgress?: (p: SweepProgress) => void): RunResult[] {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.variants) ||
      !Array.isArray(options.platforms) || !Array.isArray(options.memories)) {
    throw new LabError('WRONG_TYPE', `options must be { variants: [...], platforms: [...], memories: [...] }; got ${describeValue(options)}`);
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new LabError('WRONG_TYPE', `onProgress must be a function (e.g. printProgress); got ${describeValue(onProgress)}`);
  }
  const keepTraces = options.keepTraces ?? true;
  if (typeof keepTraces !== 'boolean') {
    throw new LabError('WRONG_TYPE', `options.keepTraces must be true or false; got ${describeValue(options.keepTraces)}`);
  }
  options.memories.forEach(parseMemorySize); // refuse a bad size before running anything
  const combos: BootConfig[] = [];
  for (const platform of options.platforms) {
    for (const variant of options.variants) {
      for (const memory of options.memories) combos.push({ ...options.base, variant, platform, memory });
    }
  }
  const configs = combos.map((c) => normalizeConfig(c)); // validates every config up front
  for (const c of configs) checkXenLayoutFits(c.platform, c.memoryBytes);
  // Memory: the biggest boot, plus the traces kept of the others (a trace is about a third of a
  // boot's per-page cost beyond the fixed part; with keepTraces false a result keeps a few KiB).
  let biggest = 0;
  let kept = 0;
  for (const c of configs) {
    const need = bootBytesNeeded(c.platform, c.memoryBytes, c.structPageSize);
    biggest = Math.max(biggest, need);
    if (keepTraces) kept += (need - FIXED_BYTES) / 3;
  }
  checkMemoryFits(`this sweep (${configs.length} boots, the biggest ${Math.max(...configs.map((c) => c.memoryBytes)) / 2 ** 30} GiB` +
    `${keepTraces ? ', keeping every trace: keepTraces: false keeps only the counters' : ''})`, Math.ceil(biggest + kept));
  const totalBytes = configs.reduce((s, c) => s + c.memoryBytes, 0);
  const results: RunResult[] = [];
  let doneBytes = 0;
  let elapsed = 0;
  combos.forEach((c, i) => {
    const t0 = Date.now();
    // one run forward, never moved back: no checkpoints to keep (they cost time and memory)
    let run: ReturnType<typeof boot> | null = boot(c).checkpointEvery({ off: true });
    if (options.stopAt !== undefined) run.runTo(options.stopAt); else run.run();
    const result = run.result();
    run = null; // the machine goes with the run: only the result stays
    results.push(keepTraces ? result : { ...result, trace: countersOnly(result.trace) });
    const ms = Date.now() - t0;
    elapsed += ms;
    doneBytes += configs[i].memoryBytes;
    const fraction = doneBytes / totalBytes;
    const w = result.counters.pteWrites;
    onProgress?.({
      done: i + 1, total: combos.length, label: `${c.variant} on ${c.platform}, ${c.memory}`, ms, fraction,
      ptes: w.l1 + w.l2 + w.l3 + w.l4, etaMs: Math.round((elapsed / fraction) * (1 - fraction)),
    });
  });
  return results;
}

/** A recorder holding only `t`'s counters (overall and by phase). */
function countersOnly(t: TraceRecorder): TraceRecorder {
  const r = new TraceRecorder();
  Object.assign(r.counters, JSON.parse(JSON.stringify(t.counters)));
  r.countersByPhase.clear();
  for (const [phase, c] of t.countersByPhase) r.countersByPhase.set(phase, JSON.parse(JSON.stringify(c)));
  return r;
}

/**
 * A progress printer for notebooks and terminals, one line a run:
 * "[3/12] 5b5c1af104ab on xen, 64G: 4.10 s, 17001073 entries; 41% of the work, about 12 s left".
 */
export function printProgress(p: SweepProgress): void {
  const left = p.done === p.total ? 'done' : `about ${Math.ceil(p.etaMs / 1000)} s left`;
  console.log(`[${p.done}/${p.total}] ${p.label}: ${(p.ms / 1000).toFixed(2)} s, ${p.ptes} entries; ${Math.round(p.fraction * 100)}% of the work, ${left}`);
}
