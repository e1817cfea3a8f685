import { describe, expect, it } from 'vitest';
import { boot } from '../../lib/lab/boot';
import { normalizeConfig, type BootConfig } from '../../lib/lab/config';
import type { Machine, PlatformInstance } from '../../lib/lab/machine';
import { bareMetalPlatform } from '../../lib/lab/platforms/bare-metal';
import { xenPlatform } from '../../lib/lab/platforms/xen';
import type { Run } from '../../lib/lab/run';
import { replay, stopAtStep, toTheEnd } from '../../lib/lab/time-travel/replay';
import { stateHash } from '../../lib/lab/time-travel/state-hash';
import { ProbedTraceRecorder } from '../../lib/lab/time-travel/probed-trace';
import type { TraceRecorder } from '../../lib/trace/recorder';

const platformFor = (c: ReturnType<typeof normalizeConfig>, t: TraceRecorder): PlatformInstance =>
  c.platform === 'xen' ? xenPlatform(c, t) : bareMetalPlatform(c, t);

/**
 * A fingerprint of everything reachable from the machine (keys sorted, typed arrays by content,
 * functions by their source, cycles by first-visit order), with the trace's own hash: two machines
 * with equal fingerprints hold the same state in every object, not only what stateHash covers.
 */
function deepFingerprint(m: Machine, trace: TraceRecorder): string {
  const ids = new Map<object, number>();
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  const word = (w: number): void => {
    h1 = Math.imul(h1 ^ (w >>> 0), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ ((w >>> 13) | (w << 19)), 0x5bd1e995) >>> 0;
  };
  const text = (s: string): void => { for (let i = 0; i < s.length; i++) word(s.charCodeAt(i)); word(0xfffffffe); };
  const skip = new Set<object>([m.kernel.variant, m.kernel.image, m.kernel.page]);
  const todo: unknown[] = [m];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v === 'function') { text(`fn:${v.toString()}`); continue; }
    if (typeof v !== 'object' || v === null) { text(`${typeof v}:${String(v)}`); continue; }
    const seen = ids.get(v);
    if (seen !== undefined) { text(`ref:${seen}`); continue; }
    ids.set(v, ids.size);
    if (skip.has(v)) { text('skipped'); continue; }
    if (ArrayBuffer.isView(v)) {
      const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      text(`ta:${v.constructor.name}:${b.length}`);
      for (let i = 0; i + 3 < b.length; i += 4) word(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
      continue;
    }
    if (Array.isArray(v)) { text(`arr:${v.length}`); for (let i = v.length - 1; i >= 0; i--) todo.push(v[i]); continue; }
    if (v instanceof Map) {
      text(`map:${v.size}`);
      const entries = [...v.entries()].reverse();
      for (const [k, x] of entries) { todo.push(x); todo.push(k); }
      continue;
    }
    if (v instanceof Set) { text(`set:${v.size}`); for (const x of [...v].reverse()) todo.push(x); continue; }
    const keys = Object.keys(v).sort();
    text(`obj:${keys.join(',')}`);
    for (const k of keys.reverse()) todo.push((v as Record<string, unknown>)[k]);
  }
  return `${h1.toString(16)}${h2.toString(16)}/${stateHash(m, trace).all}`;
}

/** The ground truth: a brand-new machine booted from nothing to `step` (or to the end), its trace of the run's kind. */
function fromScratch(config: BootConfig, step: number | null): string {
  const r = replay(normalizeConfig(config), platformFor, step === null ? toTheEnd : stopAtStep(step), new ProbedTraceRecorder());
  return deepFingerprint(r.machine, r.trace);
}

const here = (run: Run): string => deepFingerprint(run.current as Machine, run.result().trace);

const CASES: { name: string; config: BootConfig; every: number }[] = [
  { name: '8170e6bed465 under Xen', config: { variant: '8170e6bed465', memory: '256M' }, every: 300 },
  { name: '5b5c1af104ab under Xen', config: { variant: '5b5c1af104ab', memory: '256M' }, every: 300 },
  { name: '8170e6bed465 on bare metal', config: { variant: '8170e6bed465', platform: 'bare-metal', memory: '256M' }, every: 10 },
  { name: '5b5c1af104ab on bare metal', config: { variant: '5b5c1af104ab', platform: 'bare-metal', memory: '256M' }, every: 10 },
  { name: 'v3.8 under Xen', config: { variant: 'v3.8', memory: '256M' }, every: 10 },
];

describe('checkpoints: a replay from the nearest checkpoint reaches the state a replay from the start does', () => {
  for (const c of CASES) {
    it(`${c.name}: going back to many steps, and forward again to the end`, () => {
      const run = boot(c.config).checkpointEvery({ steps: c.every, max: 64 }).run();
      const end = run.stepCount;
      const atEnd = here(run);
      expect(atEnd).toBe(fromScratch(c.config, null));
      const kept = run.checkpoints.steps;
      // the boot path is resumable: checkpoints were kept inside it, not only at step 0
      const mid = kept.filter((s) => s > 0);
      expect(mid.length).toBeGreaterThan(2);
      // targets: spread over the run, right after and right before checkpoints, and the last steps
      const targets = new Set<number>([1, 2, end - 1, end - 2]);
      for (let i = 1; i <= 4; i++) targets.add(Math.max(1, Math.floor((end * i) / 5)));
      for (const s of mid.slice(-3)) { targets.add(s); targets.add(s + 1); targets.add(Math.max(1, s - 1)); }
      const sorted = [...targets].filter((t) => t >= 1 && t < end).sort((a, b) => b - a);
      for (const t of sorted) {
        run.stepBack(run.stepCount - t);
        expect(run.stepCount).toBe(t);
        expect(here(run), `step ${t}`).toBe(fromScratch(c.config, t));
      }
      run.run();
      expect(run.stepCount).toBe(end);
      expect(here(run)).toBe(atEnd);
    }, 120_000);
  }

  it('a move back leaves the checkpoints as they were (no capture while going back and forth)', () => {
    const run = boot({ variant: '8170e6bed465', memory: '256M' }).checkpointEvery({ steps: 150, max: 64 }).run();
    const kept = run.checkpoints.steps;
    run.stepBack(500).runBackTo('init_memory_mapping').run();
    expect(run.checkpoints.steps).toEqual(kept);
  });

  it('past `max`, every second checkpoint goes (never step 0) and the rest still lead to the right states', () => {
    const config: BootConfig = { variant: '8170e6bed465', memory: '256M' };
    const run = boot(config).checkpointEvery({ steps: 20, max: 4 }).run();
    const kept = run.checkpoints.steps;
    expect(kept.length).toBeLessThanOrEqual(5);
    expect(kept[0]).toBe(0);
    const t = kept[kept.length - 1] + 3;
    run.stepBack(run.stepCount - t);
    expect(here(run)).toBe(fromScratch(config, t));
  });

  it('5b5c1af104ab: checkpoints inside paging_init (one vmemmap section a step) lead to the right states', () => {
    const config: BootConfig = { variant: '5b5c1af104ab', memory: '512M' };
    const run = boot(config).checkpointEvery({ steps: 400, max: 64 }).run();
    const end = run.stepCount;
    const paging = run.runBackTo('paging_init').stepCount;
    const leave = run.runTo('xen_post_allocator_init').stepCount;
    const inside = run.checkpoints.steps.filter((s) => s > paging && s < leave);
    expect(inside.length).toBeGreaterThan(2);
    for (const t of [inside[1] + 1, inside[inside.length - 1] + 2, leave]) {
      run.run().stepBack(end - t);
      expect(here(run), `step ${t}`).toBe(fromScratch(config, t));
    }
  }, 120_000);

  it('runBackTo lands on the routine\'s entry with the state a fresh run has there', () => {
    const config: BootConfig = { variant: '5b5c1af104ab', memory: '256M' };
    const run = boot(config).checkpointEvery({ steps: 100, max: 64 }).run();
    run.runBackTo('phys_pud_init');
    expect(run.routine).toBe('phys_pud_init');
    expect(here(run)).toBe(fromScratch(config, run.stepCount));
  });

  it('at(step) does not move the run, and its view stays as it was while the run moves on', () => {
    const config: BootConfig = { variant: '8170e6bed465', memory: '256M' };
    const run = boot(config).checkpointEvery({ steps: 150, max: 64 }).runTo('xen_write_cr3');
    const before = here(run);
    const step = Math.floor(run.stepCount / 2);
    const view = run.at(step);
    expect(here(run)).toBe(before);
    const fresh = boot(config).step(step);
    const walk = (r: { walk: Run['walk'] }): unknown => r.walk('ffff880000000000');
    expect(view.step).toBe(step);
    expect(view.callChain).toEqual(fresh.result().callChain);
    expect(view.pageTables()).toEqual(fresh.pageTables());
    run.run();
    expect(walk(view)).toEqual(walk(fresh));
    expect(view.result().guestConsole).toEqual(fresh.result().guestConsole);
  });

  it('a result keeps its trace when the run moves on', () => {
    const run = boot({ variant: '8170e6bed465', memory: '256M' }).runTo('init_mem_mapping');
    const r = run.result();
    const n = r.trace.routines.length;
    run.run();
    expect(r.trace.routines.length).toBe(n);
    expect(run.result().trace.routines.length).toBeGreaterThan(n);
  });

  it('off: no checkpoint at all, and every move boots from nothing to the same states', () => {
    const config: BootConfig = { variant: '8170e6bed465', memory: '256M' };
    const run = boot(config).checkpointEvery({ off: true }).run();
    expect(run.checkpoints.steps).toEqual([]);
    const end = run.stepCount;
    run.stepBack(10);
    expect(here(run)).toBe(fromScratch(config, end - 10));
    expect(run.entryHistory('ffffea0000000000', 4)).toEqual([]);
    expect(here(run)).toBe(fromScratch(config, end - 10));
  });

  it('checkpointEvery refuses a bad policy and leaves the run as it was', () => {
    const run = boot({ memory: '256M' }).step(5);
    for (const bad of [{ steps: 0 }, { steps: 1.5 }, { max: 1 }, { ms: -1 }, { off: 'yes' }, null]) {
      expect(() => run.checkpointEvery(bad as never)).toThrow(/must be/);
      expect(run.routine).not.toBeNull();
      expect(run.stepCount).toBe(5);
    }
  });
});
