/**
 * Reaching the tslab kernel's own display writer, to send ONE display_data carrying several MIME
 * types (tslab's public display.* sends one type per call).
 *
 * tslab 1.0.22 keeps the writer of the running execution in the module variable
 * `lastWriteDisplayData` of its dist/jupyter.js (set per execute request). The kernel loaded that
 * module with Node's require, so it sits in require.cache. We find the entry next to the public
 * module the notebook passed in (`import * as tslab from 'tslab'` is the kernel's own instance),
 * else any loaded `tslab/dist/jupyter.js` with a writer. This relies on tslab internals: the
 * version is pinned, and show() falls back to tslab.display.html when it is not found.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface DisplayMessage {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: Record<string, unknown>;
}

export type DisplayWriter = (message: DisplayMessage, update: boolean) => void;

/** The slice of require.cache we read: module file name → { exports }. */
export type ModuleCache = Record<string, { exports?: unknown } | undefined>;

const JUPYTER_JS = /tslab[\\/]dist[\\/]jupyter\.js$/;

export function requireCache(): ModuleCache {
  const from = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
  return createRequire(from).cache as ModuleCache;
}

const writerOf = (entry: { exports?: unknown } | undefined): (() => DisplayWriter | null) | null => {
  const exp = entry?.exports as { lastWriteDisplayData?: unknown } | undefined;
  if (exp === undefined || exp === null || !('lastWriteDisplayData' in exp)) return null;
  return () => (typeof exp.lastWriteDisplayData === 'function' ? (exp.lastWriteDisplayData as DisplayWriter) : null);
};

/**
 * The kernel's current display writer, or null. `tslab` is the object the notebook passed in;
 * `cache` defaults to Node's require.cache.
 */
export function findKernelWriter(tslab: unknown, cache: ModuleCache = requireCache()): DisplayWriter | null {
  const display = (tslab as { display?: unknown } | null)?.display;
  for (const file of Object.keys(cache)) {
    const exp = cache[file]?.exports as { display?: unknown } | undefined;
    if (exp === tslab || (display !== undefined && exp?.display === display)) {
      const sibling = writerOf(cache[join(dirname(file), 'jupyter.js')]);
      const w = sibling?.();
      if (w) return w;
    }
  }
  for (const file of Object.keys(cache)) {
    if (!JUPYTER_JS.test(file)) continue;
    const w = writerOf(cache[file])?.();
    if (w) return w;
  }
  return null;
}
