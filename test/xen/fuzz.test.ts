/**
 * Property-based fuzz: a guest issues random hypercalls (valid and invalid mmu_update,
 * mmuext_op, update_va_mapping, and multicalls of them) and after EVERY call the invariants of
 * invariants.ts must hold; a call that returns an error must have changed nothing. Only Xen error
 * codes may come back: any thrown exception fails the property.
 * Rules exercised: get_page_from_l1e..l4e, alloc_l*_table, mod_l*_entry, __get_page_type /
 * __put_page_type, do_mmuext_op pin/unpin/new_guest_cr3, __do_update_va_mapping (xen/arch/x86/mm.c).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../lib/trace';
import {
  DOMID_IO, DOMID_SELF, DOMID_XEN, XenHost, buildPvDomain, __HYPERVISOR_mmu_update, __HYPERVISOR_mmuext_op,
  __HYPERVISOR_update_va_mapping, type MulticallEntry, type PvDomainBuild,
} from '../../lib/xen';
import { InvariantChecker, StateSnapshot } from './invariants';

const RUNS = 100;
const CALLS_PER_RUN = 1000;
const XEN_CODES = new Set([0, -1, -2, -3, -14, -16, -22, -38]);

interface World {
  host: XenHost;
  g: PvDomainBuild;
  pool: number[];
  checker: InvariantChecker;
  snap: StateSnapshot;
}

/** A 16 MiB guest, a second domain on the same host, and the pool of frames the fuzz aims at. */
function makeWorld(): World {
  const host = new XenHost({ trace: new TraceRecorder(), patches: ['xsa-148', 'xsa-182'] });
  const kernel = { virtBase: 0xffffffff80000000n, loadPfn: 0x200, pages: 16, fill: () => {}, entry: 0xffffffff80200000n };
  const g = buildPvDomain(host, { domid: 3, memoryBytes: 16 << 20, kernel });
  const other = buildPvDomain(host, { domid: 4, memoryBytes: 16 << 20, kernel });
  const d = g.domain;
  const firstFree = Number((g.layout.virtPgtabEnd - g.layout.virtBase) / 4096n);
  const tables = [...Array(g.layout.pgtables.pages).keys()].map((i) => d.pfnToMfn(g.layout.pgtables.pfn + i));
  const free = [...Array(16).keys()].map((i) => d.pfnToMfn(firstFree + i));
  const data = [0x10, 0x11, 0x200, g.layout.bootstackPfn].map((p) => d.pfnToMfn(p));
  const own = [...tables, ...free, ...data];
  const foreign = [other.domain.pfnToMfn(0x10), 0x300, 0x10, host.maxPage + 3, d.sharedInfoMfn];
  const pool = [...free, ...free, ...free, ...tables, ...data, ...foreign];
  const checker = new InvariantChecker(host, d, g.vcpu, [...tables, ...free, ...data]);
  const snap = new StateSnapshot(host, own, own);
  return { host, g, pool, checker, snap };
}

// ---- the command language ---------------------------------------------------------------------

const flagsArb = fc.record({
  p: fc.integer({ min: 0, max: 9 }).map((x) => x < 8),
  rw: fc.boolean(),
  us: fc.boolean(),
  ad: fc.integer({ min: 0, max: 3 }),
  rare: fc.integer({ min: 0, max: 15 }),
}).map(({ p, rw, us, ad, rare }) => {
  let lo = (p ? 1 : 0) | (rw ? 2 : 0) | (us ? 4 : 0) | (ad & 1 ? 0x20 : 0) | (ad & 2 ? 0x40 : 0);
  let hi = 0;
  switch (rare) {
    case 0: lo |= 0x80; break; // PSE / PAT
    case 1: lo |= 0x100; break; // GLOBAL
    case 2: lo |= 0x08; break; // PWT
    case 3: lo |= 0x10; break; // PCD
    case 4: hi |= 0x80000000; break; // NX
    case 5: hi |= 0x00100000; break; // _PAGE_GUEST_KERNEL
    case 6: lo |= 0xe00; break; // AVAIL
    default: break;
  }
  return { lo, hi };
});

const slotArb = fc.constantFrom(0, 1, 2, 3, 255, 256, 258, 260, 271, 272, 511);
const domArb = fc.integer({ min: 0, max: 39 }).map((x) => (x < 36 ? DOMID_SELF : [0, 3, 4, DOMID_IO, DOMID_XEN][x - 35] ?? ((3 + 1) << 16)));

type Cmd =
  | { kind: 'mmu'; frame: number; slot: number; cmd: number; target: number; flags: { lo: number; hi: number }; dom: number }
  | { kind: 'ext'; cmd: number; frame: number; linear: number; mask: boolean; dom: number }
  | { kind: 'uvm'; va: number; target: number; flags: { lo: number; hi: number }; uvmf: number }
  | { kind: 'multi'; parts: Cmd[] };

function cmdArb(pool: number): fc.Arbitrary<Cmd> {
  const frame = fc.integer({ min: 0, max: pool - 1 });
  const mmu = fc.record({
    kind: fc.constant('mmu' as const), frame, slot: slotArb,
    cmd: fc.integer({ min: 0, max: 19 }).map((x) => (x < 15 ? 0 : x < 17 ? 2 : x < 19 ? 1 : 3)),
    target: frame, flags: flagsArb, dom: domArb,
  });
  const ext = fc.record({
    kind: fc.constant('ext' as const),
    cmd: fc.constantFrom(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 15, 15, 6, 7, 8, 9, 10, 12, 14, 16, 17, 19, 99),
    frame, linear: fc.integer({ min: 0, max: 7 }), mask: fc.boolean(), dom: domArb,
  });
  const uvm = fc.record({
    kind: fc.constant('uvm' as const), va: fc.integer({ min: 0, max: 15 }), target: frame, flags: flagsArb,
    uvmf: fc.constantFrom(0, 0, 1, 2, 5, 6, 0x1001),
  });
  const single = fc.oneof({ arbitrary: mmu, weight: 5 }, { arbitrary: ext, weight: 4 }, { arbitrary: uvm, weight: 3 });
  const multi = fc.record({ kind: fc.constant('multi' as const), parts: fc.array(single, { minLength: 1, maxLength: 3 }) });
  return fc.oneof({ arbitrary: single, weight: 15 }, { arbitrary: multi, weight: 1 });
}

/** Virtual addresses update_va_mapping aims at: the bootstrap region, and low slots the fuzz's own tables may reach. */
function vaFor(w: World, k: number): bigint {
  if (k < 8) return w.g.layout.virtBase + BigInt((0x10 + k * 0x101) * 4096);
  const i = k - 8;
  return (BigInt(i & 1) << 39n) | (BigInt((i >> 1) & 1) << 30n) | (BigInt((i >> 2) & 1) << 21n) | (BigInt(i & 3) << 12n);
}

function entry(mfn: number, f: { lo: number; hi: number }): bigint {
  return (BigInt(mfn) << 12n) | BigInt(f.lo) | (BigInt(f.hi >>> 0) << 32n);
}

/** Builds the hypercall for a command: [number, args]. */
function toCall(w: World, c: Exclude<Cmd, { kind: 'multi' }>): MulticallEntry {
  const m = (i: number): number => w.pool[i];
  switch (c.kind) {
    case 'mmu': {
      const ptr = (BigInt(m(c.frame)) << 12n) + BigInt(c.slot * 8) + BigInt(c.cmd);
      const val = c.cmd === 1 ? BigInt(c.slot) : entry(m(c.target), c.flags);
      return { op: __HYPERVISOR_mmu_update, args: [[{ ptr, val }], 1, null, c.dom] };
    }
    case 'ext': {
      const mfn = c.cmd === 15 && c.linear === 0 ? 0 : m(c.frame);
      const op = { cmd: c.cmd, mfn, linear_addr: BigInt(c.linear * 4096), vcpumask: c.mask ? [0] : undefined, src_mfn: m((c.frame + 1) % w.pool.length) };
      return { op: __HYPERVISOR_mmuext_op, args: [[op], 1, null, c.dom] };
    }
    case 'uvm':
      return { op: __HYPERVISOR_update_va_mapping, args: [vaFor(w, c.va), entry(m(c.target), c.flags), c.uvmf, c.uvmf === 0x1001 ? [0] : undefined] };
  }
}

function issue(w: World, call: MulticallEntry): number {
  const v = w.g.vcpu;
  const a = call.args as never[];
  if (call.op === __HYPERVISOR_mmu_update) return v.HYPERVISOR_mmu_update(a[0], a[1], a[2], a[3]);
  if (call.op === __HYPERVISOR_mmuext_op) return v.HYPERVISOR_mmuext_op(a[0], a[1], a[2], a[3]);
  return v.HYPERVISOR_update_va_mapping(a[0], a[1], a[2], a[3]);
}

describe('invariant fuzz: random hypercalls from a guest (fast-check)', () => {
  it(`holds every invariant after each of >= ${RUNS * CALLS_PER_RUN} calls, with only Xen error codes`, () => {
    let calls = 0;
    let refused = 0;
    const poolSize = makeWorld().pool.length;
    const result = fc.check(
      fc.property(fc.array(cmdArb(poolSize), { minLength: CALLS_PER_RUN, maxLength: CALLS_PER_RUN }), (cmds) => {
        const w = makeWorld();
        const v = w.g.vcpu;
        for (const c of cmds) {
          let rc: number;
          const single = c.kind !== 'multi';
          if (single) w.snap.take(v);
          if (c.kind === 'multi') {
            const entries = c.parts.map((p) => toCall(w, p as Exclude<Cmd, { kind: 'multi' }>));
            rc = v.HYPERVISOR_multicall(entries);
            calls += 1 + entries.length;
            for (const e of entries) if (!XEN_CODES.has(e.result ?? NaN)) throw new Error(`multicall entry returned ${e.result}`);
          } else {
            rc = issue(w, toCall(w, c));
            calls += 1;
          }
          if (!XEN_CODES.has(rc)) throw new Error(`hypercall returned ${rc}, not a Xen error code`);
          const violations = w.checker.check();
          if (violations.length > 0) throw new Error(`after ${JSON.stringify(c)} (rc ${rc}): ${violations.join('; ')}`);
          if (single && rc !== 0) {
            refused++;
            const diff = w.snap.diff(v);
            if (diff.length > 0) throw new Error(`refused ${JSON.stringify(c)} (rc ${rc}) changed state: ${diff.join('; ')}`);
          }
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    if (result.failed) {
      // Report the failing call and the seed, not the whole 1000-call counterexample.
      throw new Error(`fuzz failed (seed ${result.seed}): ${String(result.errorInstance).slice(0, 2000)}`);
    }
    expect(calls).toBeGreaterThanOrEqual(RUNS * CALLS_PER_RUN);
    expect(refused).toBeGreaterThan(calls / 10);
    console.log(`xen fuzz: ${calls} hypercalls (${refused} refused), all invariants held`);
  });
});
