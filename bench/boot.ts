/**
 * `npm run bench -- boot`: boots the Xen PV fix variant (5b5c1af104ab) end to end (domain build,
 * then the guest's boot until it reports booted) at 1, 4, 16, 64, 256, 480 GiB and 1 TiB, each in its
 * own child process, one after another (so each peak RSS is its own and no two big boots share the
 * machine). `PVOPS_BENCH_BOOT_SIZES=1G,4G,64G` picks other sizes.
 *
 * Each child starts with glibc.malloc.hugetlb=1 in GLIBC_TUNABLES, as the notebook kernel does
 * (PVOPS_BENCH_HUGE_PAGES=0: without). Every boot is one run forward with no checkpoints (`checkpointEvery({ off: true })`), as
 * `pvops-lab repro` and sweeps make it; at 64 GiB (PVOPS_BENCH_BOOT_CHECKPOINTED=<size> picks
 * another) the child then boots again keeping the default checkpoints, as a notebook's
 * `boot(config).run()` does, and reports that time against the forward one.
 *
 * Per size it reports:
 * - ms: CPU time (user + system, process.cpuUsage) of `boot(config).run()`, after a small warm-up
 *   boots (four of 1 GiB, one of 4 GiB) in the same process, so the JIT has compiled the hot paths. CPU time, not wall time: this
 *   machine's 2 cores are shared with other work and wall time there measures the neighbours
 *   (wallMs is printed too). CPU time includes V8's GC helper threads, a real cost of the run.
 * - ptes: page-table entries written (the run's pteWrites counters, all levels).
 * - rawMs: in the same process, right after the boot, a plain typed-array fill of the same number
 *   of 64-bit entries (frame * 4096 | flags, low and high words) into a reused 8 MiB ring. Machines
 *   and load differ; `ms / rawMs` is the number that travels (this machine has 2 cores shared with
 *   other work, so absolute times are noisy).
 * - touchMs: in the same process, after the raw fill, the CPU time to bring as many fresh bytes as the
 *   state inherently needs (below) into the process: new 256 KiB typed arrays, one word written per
 *   4 KiB page. A boot cannot be faster than this: its page tables, p2m and frame table are new
 *   memory, and the first write to each page costs a page fault (on this VM about 10 us a page,
 *   measured: 1.2 GB took 3 s).
 * - peak RSS (getrusage maxRSS), taken before the raw fill (which allocates only its 8 MiB ring).
 * - inherent bytes, computed from the state the run leaves, not from a formula:
 *     guest page tables: the domain's frames Xen's frame table types as L1..L4 page tables, times 4 KiB
 *       (the bootstrap tables, init_level4_pgt and friends, the direct map and the vmemmap's tables);
 *     the guest's p2m: the mfn_list the builder wrote, ceil(nr_pages * 8 / 4096) pages of 4 KiB
 *       (the kernel's p2m tree points into those pages, it has no copy);
 *     Xen's per-frame state as the model stores it: the frame table's typed arrays and the M2P's
 *       (FrameTable.byteSize, M2P.byteSize), sized to the host.
 *   Everything else the process holds (node itself, the trace, the routine log, page-fault events,
 *   the frame index of physical memory, the kernel image's pages) is overhead.
 *
 * The 1 GiB boot is the fixed cost (domain building, start-up, the routines every boot runs
 * whatever the size): `fixedMs`. Each child also boots 1 GiB right before its measured boot, and
 * for each larger size the per-entry cost subtracts that same-process fixed cost:
 *   nsPerPte[size] = (ms[size] - ms[1G, same process]) * 1e6 / (ptes[size] - ptes[1G]),
 * `scaling` = max / min of nsPerPte over 4 GiB .. 1 TiB (1.0 is perfectly linear), and
 * `rssOverInherent` = peak RSS / inherent bytes at 64 GiB (also given for every size).
 * `nsPerPteBeyondFirstTouch` and `scalingBeyondFirstTouch` do the same with each size's touchMs
 * taken off its ms: the model's own work per entry, without what this VM charges for bringing
 * new memory in. The two differ because that charge is not linear here: memory the process
 * already had (the warm-up boots') costs nothing again, so a 4 GiB boot pays almost none of it,
 * and per fresh MiB it rose from about 0.8 ms at 16 GiB to about 4 ms at 480 GiB.
 * Targets (issue 13): scaling <= 1.3; rssOverInherent <= 1.3 plus at most 150 MB fixed;
 * 1 TiB under 6 GiB peak RSS; 64 GiB under 2 s.
 */
import { execFileSync } from 'node:child_process';
import { boot } from '../dist/lab/boot';
import { LabError } from '../dist/errors';
import { withHugePages } from '../dist/huge-pages';
import type { Machine } from '../dist/lab/machine';

// 480G is the largest size measured; 1T is asked for and refused. Xen 4.2's builder maps the kernel at __START_KERNEL_map, then the p2m list (8 bytes
// a page), start_info and the bootstrap page tables, all in one mapping from there:
// - past about 1007 GiB that mapping wraps past 2^64, and the lab refuses the size up front
//   (lib/xen/initial-mapping.ts);
// - past about 494 GiB it crosses 0xffffffffc0000000, and setup_pgtables_x86_64
//   (tools/libxc/xc_dom_x86.c:360-382, RELEASE-4.2.0) drops l2tab as soon as it hooks the L1 for
//   the GiB's last 2 MiB, so the next page of that same 2 MiB takes a new L2 and hooks it at the
//   same L3 slot: the first GiB's L2 is replaced and the guest faults in xen_start_kernel (at
//   1000G at ffffffffbf400000, reading its p2m list). The model has libxc's loop as it is, so a
//   domain that big crashes there, as it would have on 4.2;
// - Linux 3.9 itself caps PV guests at XEN_MAX_DOMAIN_MEMORY (500 GiB, arch/x86/xen/Kconfig).
// So 1T runs in its own child like every size, is refused before anything is built, and the last
// line says so (`oneTiB`, with ms1T and peakRss1T null); `largest`, `msLargest` and
// `peakRssLargest` are the biggest size that booted.
const DEFAULT_SIZES = ['1G', '4G', '16G', '64G', '256G', '480G', '1T'];
const RING_WORDS = 1 << 21; // 8 MiB

interface Sample {
  memory: string;
  ms: number;
  wallMs: number;
  /** a 1 GiB boot's CPU ms and entries in the same process, just before */
  fixedMs: number;
  fixedPtes: number;
  ptes: number;
  rawMs: number;
  touchMs: number;
  maxRssBytes: number;
  /** RSS when the child started measuring, before any boot (node, tsx and the library loaded) */
  startRssBytes: number;
  inherent: { pageTables: number; p2m: number; xenFrameState: number; total: number };
  outcome: string;
  /** the same boot keeping the default checkpoints (PVOPS_BENCH_BOOT_CHECKPOINTED=<size>) */
  checkpointed: { ms: number; checkpoints: number; bytes: number } | null;
}

/** A size the lab refuses before building anything (1 TiB under Xen 4.2), with its error. */
interface Refusal {
  memory: string;
  refused: string;
}

/** The bytes the modelled state needs (see the file comment). */
function inherentBytes(m: Machine): Sample['inherent'] {
  const xen = m.platform.xen;
  if (xen === null) throw new Error('the boot bench runs under Xen');
  const { host, domain } = xen;
  const ft = host.frameTable;
  let tables = 0;
  for (let mfn = 0; mfn < ft.maxPage; mfn++) {
    const t = ft.typeInfo[mfn] & 7;
    if (t >= 1 && t <= 4 && ft.owner[mfn] === domain.domid) tables++;
  }
  const pageTables = tables * 4096;
  const p2m = Math.ceil((domain.totPages * 8) / 4096) * 4096;
  const xenFrameState = ft.byteSize + host.m2p.byteSize;
  return { pageTables, p2m, xenFrameState, total: pageTables + p2m + xenFrameState };
}

/** A plain fill of `n` 64-bit entries (frame * 4096 | 0x63) into a reused ring; returns ms. */
let ring: Uint32Array | null = null;
function rawFill(n: number): number {
  const r = (ring ??= new Uint32Array(RING_WORDS));
  const t0 = cpuMs();
  let w = 0;
  for (let i = 0; i < n; i++) {
    r[w] = ((i % 0x100000) * 4096 + 0x63) >>> 0;
    r[w + 1] = Math.floor(i / 0x100000);
    w += 2;
    if (w === RING_WORDS) w = 0;
  }
  const ms = cpuMs() - t0;
  if (r[1] === 0xdeadbeef) console.log('unreachable'); // keep the fill observable
  return ms;
}

/** CPU ms to bring `bytes` of fresh memory in: new 256 KiB arrays, one word written a 4 KiB page. */
function firstTouch(bytes: number): number {
  const pieces: Uint32Array[] = [];
  const t0 = cpuMs();
  for (let left = bytes; left > 0; left -= 256 * 1024) {
    const a = new Uint32Array(64 * 1024);
    for (let i = 0; i < a.length; i += 1024) a[i] = 1;
    pieces.push(a);
  }
  const ms = cpuMs() - t0;
  pieces.length = 0;
  return ms;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function measureOne(memory: string): Sample {
  // JIT warm-up: four 1 GiB boots (V8 needs that many to settle: a 1 GiB boot takes 600, 370,
  // 310, then 230 ms of CPU; after one small boot a 4 GiB boot takes twice its settled time)
  // and then one 4 GiB boot: the first boot bigger than the warm-up ones pays a one-time JIT cost
  // (deoptimisations as frame numbers and addresses outgrow small integers), which a second does not
  const startRssBytes = process.memoryUsage().rss; // node and tsx, before any boot
  for (let i = 0; i < 4; i++) forward('1G').run();
  forward('4G').run();
  // The fixed cost in this same process, right before the measured boot: a 1 GiB boot (the
  // per-entry cost subtracts it, so the noise between processes does not land on small sizes).
  // Its run is dropped before the measured boot starts.
  const { fixedMs, fixedPtes } = ((): { fixedMs: number; fixedPtes: number } => {
    const f0 = cpuMs();
    const fixedRun = forward('1G').run();
    const fc = fixedRun.result().counters.pteWrites;
    return { fixedMs: cpuMs() - f0, fixedPtes: fc.l1 + fc.l2 + fc.l3 + fc.l4 };
  })();
  const w0 = process.hrtime.bigint();
  const t0 = cpuMs();
  const run = forward(memory).run();
  const ms = cpuMs() - t0;
  const wallMs = Number(process.hrtime.bigint() - w0) / 1e6;
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  const c = run.result().counters;
  const ptes = c.pteWrites.l1 + c.pteWrites.l2 + c.pteWrites.l3 + c.pteWrites.l4;
  const machine = run.current;
  if (machine === null) throw new Error('no machine after run()');
  const inherent = inherentBytes(machine);
  for (let i = 0; i < 3; i++) rawFill(1 << 20); // its JIT warm-up, after the peak RSS was read
  const rawMs = rawFill(ptes);
  const touchMs = firstTouch(inherent.total);
  // the same boot as a notebook's boot(config).run() makes it: keeping checkpoints to go back to
  // (after the peak RSS above was read; only where asked, it doubles the child's time)
  let checkpointed: Sample['checkpointed'] = null;
  if (process.env.PVOPS_BENCH_BOOT_CHECKPOINTED === memory) {
    const c0 = cpuMs();
    const back = boot({ variant: '5b5c1af104ab', platform: 'xen', memory }).run();
    checkpointed = { ms: cpuMs() - c0, checkpoints: back.checkpoints.steps.length, bytes: back.checkpoints.bytes };
  }
  return { memory, ms, wallMs, ptes, fixedMs, fixedPtes, rawMs, touchMs, maxRssBytes, startRssBytes, inherent, outcome: run.outcome, checkpointed };
}

/**
 * A boot as `pvops-lab repro` and sweeps make it: one run forward, keeping no checkpoints (see
 * Run.checkpointEvery); a notebook's `boot(config).run()` keeps them, measured apart.
 */
function forward(memory: string): ReturnType<typeof boot> {
  return boot({ variant: '5b5c1af104ab', platform: 'xen', memory }).checkpointEvery({ off: true });
}

const MiB = 2 ** 20;

/**
 * The children start with glibc's huge-page tunable, as the notebook kernel and a big CLI boot do
 * (lib/huge-pages.ts): about half the page faults for the boot's new memory.
 * PVOPS_BENCH_HUGE_PAGES=0 leaves the environment as it is.
 */
const HUGE_PAGES = process.env.PVOPS_BENCH_HUGE_PAGES !== '0';
function hugePagesEnv(): NodeJS.ProcessEnv {
  return HUGE_PAGES ? withHugePages(process.env) : {};
}

export function run(): void {
  if (process.env.PVOPS_BENCH_BOOT_ONE !== undefined) {
    const memory = process.env.PVOPS_BENCH_BOOT_ONE;
    let out: Sample | Refusal;
    try {
      out = measureOne(memory);
    } catch (e) {
      // a size the lab refuses up front (LabError BAD_CONFIG): say so rather than fail the bench
      if (!(e instanceof LabError)) throw e;
      out = { memory, refused: `${e.code}: ${e.message}` };
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const sizes = process.env.PVOPS_BENCH_BOOT_SIZES?.split(',') ?? DEFAULT_SIZES;
  const samples: Sample[] = [];
  const refusals: Refusal[] = [];
  for (const memory of sizes) {
    process.stderr.write(`booting 5b5c1af104ab under Xen with ${memory}, end to end...\n`);
    const out = execFileSync(process.execPath, [...process.execArgv, __filename.replace(/boot\.ts$/, 'run.ts'), 'boot'], {
      env: { ...process.env, ...hugePagesEnv(), PVOPS_BENCH_BOOT_ONE: memory, PVOPS_BENCH_BOOT_CHECKPOINTED: process.env.PVOPS_BENCH_BOOT_CHECKPOINTED ?? '64G' },
      encoding: 'utf8', maxBuffer: 1 << 20,
    });
    const parsed = JSON.parse(out.trim().split('\n').pop() as string) as Sample | Refusal;
    if ('refused' in parsed) {
      refusals.push(parsed);
      console.log(`${memory.padStart(5)}: refused before anything was built: ${parsed.refused}`);
      continue;
    }
    const s = parsed;
    samples.push(s);
    console.log(`${memory.padStart(5)}: ${s.outcome}, ${s.ms.toFixed(0)} ms CPU (wall ${s.wallMs.toFixed(0)}; ${(s.ms / s.rawMs).toFixed(0)}x a raw fill of ${s.ptes} entries: ${s.rawMs.toFixed(1)} ms; first touch of the inherent bytes ${s.touchMs.toFixed(0)} ms), ` +
      `peak RSS ${(s.maxRssBytes / MiB).toFixed(0)} MiB over inherent ${(s.inherent.total / MiB).toFixed(0)} MiB ` +
      `(page tables ${(s.inherent.pageTables / MiB).toFixed(0)}, p2m ${(s.inherent.p2m / MiB).toFixed(0)}, Xen per-frame ${(s.inherent.xenFrameState / MiB).toFixed(0)}) = ` +
      `${(s.maxRssBytes / s.inherent.total).toFixed(2)}, overhead ${((s.maxRssBytes - s.inherent.total) / MiB).toFixed(0)} MiB`);
    if (s.checkpointed !== null) {
      console.log(`${memory.padStart(5)}: the same boot keeping checkpoints (a notebook's boot(config).run()): ${s.checkpointed.ms.toFixed(0)} ms CPU, ` +
        `${(s.checkpointed.ms / s.ms).toFixed(2)}x, ${s.checkpointed.checkpoints} checkpoints holding ${(s.checkpointed.bytes / MiB).toFixed(0)} MiB`);
    }
  }
  const base = samples.find((s) => s.memory === '1G') ?? samples[0];
  const nsPerPte: Record<string, number> = {};
  for (const s of samples) {
    if (s === base) continue;
    nsPerPte[s.memory] = Number((((s.ms - s.fixedMs) * 1e6) / (s.ptes - s.fixedPtes)).toFixed(1));
  }
  const values = Object.values(nsPerPte);
  const beyondTouch: Record<string, number> = {};
  for (const s of samples) {
    if (s === base) continue;
    beyondTouch[s.memory] = Number((((s.ms - s.touchMs - s.fixedMs) * 1e6) / (s.ptes - s.fixedPtes)).toFixed(1));
  }
  const beyondValues = Object.values(beyondTouch);
  const at = (m: string): Sample | undefined => samples.find((s) => s.memory === m);
  const s64 = at('64G');
  const s1T = at('1T');
  const largest = samples[samples.length - 1];
  const oneTiB = refusals.find((r) => r.memory === '1T');
  const result = {
    hugePages: HUGE_PAGES,
    nsPerPte,
    scaling: values.length > 0 ? Number((Math.max(...values) / Math.min(...values)).toFixed(2)) : null,
    nsPerPteBeyondFirstTouch: beyondTouch,
    scalingBeyondFirstTouch: beyondValues.length > 0 ? Number((Math.max(...beyondValues) / Math.min(...beyondValues)).toFixed(2)) : null,
    rssOverInherent: s64 === undefined ? null : Number((s64.maxRssBytes / s64.inherent.total).toFixed(2)),
    overheadMiB64G: s64 === undefined ? null : Number(((s64.maxRssBytes - s64.inherent.total) / MiB).toFixed(0)),
    startRssMiB64G: s64 === undefined ? null : Number((s64.startRssBytes / MiB).toFixed(0)),
    fixedMs: Number(base.ms.toFixed(0)),
    ms64G: s64 === undefined ? null : Number(s64.ms.toFixed(0)),
    wallMs64G: s64 === undefined ? null : Number(s64.wallMs.toFixed(0)),
    overRawFill64G: s64 === undefined ? null : Number((s64.ms / s64.rawMs).toFixed(0)),
    touchMs64G: s64 === undefined ? null : Number(s64.touchMs.toFixed(0)),
    checkpointedOverForward64G: s64 === undefined || s64.checkpointed === null ? null : Number((s64.checkpointed.ms / s64.ms).toFixed(2)),
    // null when 1 TiB did not boot: `oneTiB` says why, `largest` names the biggest size that did
    ms1T: s1T === undefined ? null : Number(s1T.ms.toFixed(0)),
    peakRss1T: s1T === undefined ? null : `${(s1T.maxRssBytes / 2 ** 30).toFixed(2)} GiB`,
    oneTiB: s1T !== undefined ? 'booted' : oneTiB !== undefined ? `refused: ${oneTiB.refused}` : 'not run',
    largest: largest === undefined ? null : largest.memory,
    msLargest: largest === undefined ? null : Number(largest.ms.toFixed(0)),
    peakRssLargest: largest === undefined ? null : `${(largest.maxRssBytes / 2 ** 30).toFixed(2)} GiB`,
  };
  console.log(JSON.stringify(result));
}
