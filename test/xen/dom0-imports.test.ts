/**
 * lib/ reads top-down: no cycle of value imports among its files (type-only imports are erased and
 * may point anywhere), and the layers import downwards only (design.md: x86 -> trace -> xen ->
 * linux -> lab -> viz -> cli). Written with the dom0 work (lib/xen/dom0-builder.ts, e820.ts,
 * shutdown.ts, hypercalls/memory-op.ts; lib/linux/e820.ts, xen/setup-memory.ts; lib/lab/host-config.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LIB = resolve(__dirname, '..', '..', 'lib');
// the CLI is two files: cli-main.ts (the commands, over lab and viz) and cli.ts, the launcher above it
const LAYERS = ['x86', 'trace', 'xen', 'linux', 'lab', 'viz', 'cli-main.ts', 'cli.ts'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The value imports (and re-exports) of a file, as resolved paths. */
function valueImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gm)) {
    const base = resolve(dirname(file), m[1]);
    const hit = [`${base}.ts`, join(base, 'index.ts')].find((c) => existsSync(c));
    if (hit !== undefined) out.push(hit);
  }
  return out;
}

const layerOf = (file: string): number => {
  const top = relative(LIB, file).split('/')[0];
  return LAYERS.indexOf(top);
};

describe('lib imports', () => {
  const all = files(LIB);
  const graph = new Map(all.map((f) => [f, valueImports(f)]));

  it('are read (the check sees the graph)', () => {
    const edges = [...graph.values()].reduce((n, d) => n + d.length, 0);
    expect(all.length).toBeGreaterThan(100);
    expect(edges).toBeGreaterThan(300);
    expect(graph.get(join(LIB, 'xen', 'dom0-builder.ts'))).toContain(join(LIB, 'xen', 'e820.ts'));
  });

  it('have no cycle of value imports', () => {
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (u: string): void => {
      state.set(u, 1); stack.push(u);
      for (const v of graph.get(u) ?? []) {
        if (state.get(v) === 1) cycles.push([...stack.slice(stack.indexOf(v)), v].map((p) => relative(LIB, p)).join(' -> '));
        else if (!state.has(v)) visit(v);
      }
      stack.pop(); state.set(u, 2);
    };
    for (const f of all) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('go downwards across layers only (index.ts files aside)', () => {
    const upward: string[] = [];
    for (const [f, deps] of graph) {
      if (f === join(LIB, 'index.ts')) continue;
      const lf = layerOf(f);
      for (const d of deps) if (layerOf(d) > lf) upward.push(`${relative(LIB, f)} -> ${relative(LIB, d)}`);
    }
    expect(upward).toEqual([]);
  });
});
