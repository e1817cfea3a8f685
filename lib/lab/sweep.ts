/**
 * Sweeps: the same boot at several memory sizes, variants and platforms, one run after another,
 * reporting progress as it goes (a sweep of a dozen boots takes a while). Each point keeps its
 * run's result, which the memory-sweep chart reads directly.
 */
import { LabError, describeValue } from '../errors';
import type { Platform } from '../linux/kernel';
import type { VariantId } from '../linux/variants';
import { boot } from './boot';
import { parseMemorySize, type BootConfig } from './config';
import type { RunResult } from './result';

export interface SweepOptions {
  variants: VariantId[];
  platforms: Platform[];
  /** sizes like '256M', '1G', '4G' */
  memories: (string | number)[];
  /** stop each boot when this routine is entered (e.g. 'early_trap_pf_init' = end of init_mem_mapping) */
  stopAt?: string;
  /** other config shared by every run (domid, pcpu, structPageSize) */
  base?: Omit<BootConfig, 'variant' | 'platform' | 'memory'>;
}

export interface SweepProgress {
  done: number;
  total: number;
  label: string;
  ms: number;
}

/** Runs every combination; `onProgress` is called after each run. */
export function sweep(options: SweepOptions, onProgress?: (p: SweepProgress) => void): RunResult[] {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.variants) ||
      !Array.isArray(options.platforms) || !Array.isArray(options.memories)) {
    throw new LabError('WRONG_TYPE', `options must be { variants: [...], platforms: [...], memories: [...] }; got ${describeValue(options)}`);
  }
  options.memories.forEach(parseMemorySize); // refuse a bad size before running anything
  const combos: BootConfig[] = [];
  for (const platform of options.platforms) {
    for (const variant of options.variants) {
      for (const memory of options.memories) combos.push({ ...options.base, variant, platform, memory });
    }
  }
  const runs = combos.map((c) => boot(c)); // validates every config up front
  const results: RunResult[] = [];
  runs.forEach((run, i) => {
    const t0 = Date.now();
    if (options.stopAt !== undefined) run.runTo(options.stopAt); else run.run();
    results.push(run.result());
    const c = combos[i];
    onProgress?.({ done: i + 1, total: runs.length, label: `${c.variant} on ${c.platform}, ${c.memory}`, ms: Date.now() - t0 });
  });
  return results;
}

/** A progress printer for notebooks and terminals: "[3/12] 8170e6bed465 on xen, 4G: 0.41 s". */
export function printProgress(p: SweepProgress): void {
  console.log(`[${p.done}/${p.total}] ${p.label}: ${(p.ms / 1000).toFixed(2)} s`);
}
