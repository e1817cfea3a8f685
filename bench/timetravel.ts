/**
 * `npm run bench -- timetravel`: the cost of going back in a run, as a ratio to the boot itself.
 * For 4 GiB and 64 GiB (each in its own process), boots 8170e6bed465 under Xen to its crash, then
 * times a step back by one (to xen_write_cr3's last routine entry), an entryHistory of the vmemmap
 * L4 entry (ffffea0000000000, the one the report's walk reads), and a second boot after the watch
 * (the boot path with no watch set should not have slowed). The boot's time is the faster of the
 * two boots (the first one also grows the heap); at 4 GiB each figure is the fastest of three rounds.
 */
import { execFileSync } from 'node:child_process';
import { boot } from '../dist/lab/boot';

const SIZES = ['4G', '64G'];

interface Sample { memory: string; steps: number; bootMs: number; stepBackMs: number; entryHistoryMs: number; writes: number; bootAgainMs: number }

const time = (f: () => void): number => {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

function measureOnce(memory: string): Sample {
  const run = boot({ memory });
  const bootMs = time(() => run.run());
  const steps = run.stepCount;
  let writes = 0;
  const entryHistoryMs = time(() => { writes = run.entryHistory('ffffea0000000000', 4).length; });
  const stepBackMs = time(() => run.stepBack(1));
  const bootAgainMs = time(() => boot({ memory }).run());
  // The first large boot also pays for growing the heap: the boot's cost is the faster of the two.
  return { memory, steps, bootMs: Math.min(bootMs, bootAgainMs), stepBackMs, entryHistoryMs, writes, bootAgainMs };
}

/** The fastest of `rounds` measurements of each figure (the machine may be shared). */
function measureOne(memory: string, rounds: number): Sample {
  boot({ memory: '256M' }).run(); // warm the JIT on a small boot first
  const all = Array.from({ length: rounds }, () => measureOnce(memory));
  const min = (f: (s: Sample) => number): number => Math.min(...all.map(f));
  return {
    ...all[0], bootMs: min((s) => s.bootMs), stepBackMs: min((s) => s.stepBackMs), entryHistoryMs: min((s) => s.entryHistoryMs),
    bootAgainMs: min((s) => s.bootAgainMs),
  };
}

export function run(): void {
  if (process.env.PVOPS_BENCH_TT_ONE !== undefined) {
    const memory = process.env.PVOPS_BENCH_TT_ONE;
    process.stdout.write(`${JSON.stringify(measureOne(memory, memory === '64G' ? 1 : 3))}\n`);
    return;
  }
  const out: Record<string, { stepBack: number; entryHistory: number; bootAfterWatch: number; bootMs: number }> = {};
  for (const memory of SIZES) {
    process.stderr.write(`booting 8170e6bed465 under Xen with ${memory} to the crash, then going back...\n`);
    const text = execFileSync(process.execPath, [...process.execArgv, __filename.replace(/timetravel\.ts$/, 'run.ts'), 'timetravel'], {
      env: { ...process.env, PVOPS_BENCH_TT_ONE: memory }, encoding: 'utf8', maxBuffer: 1 << 20,
    });
    const s = JSON.parse(text.trim().split('\n').pop() as string) as Sample;
    const r = (ms: number): number => Number((ms / s.bootMs).toFixed(2));
    out[memory] = { stepBack: r(s.stepBackMs), entryHistory: r(s.entryHistoryMs), bootAfterWatch: r(s.bootAgainMs), bootMs: Number(s.bootMs.toFixed(0)) };
    console.log(`${memory.padStart(4)}: boot to the crash ${s.bootMs.toFixed(0)} ms (${s.steps} steps); stepBack(1) ${s.stepBackMs.toFixed(0)} ms = ${r(s.stepBackMs)}x the boot; ` +
      `entryHistory ${s.entryHistoryMs.toFixed(0)} ms = ${r(s.entryHistoryMs)}x (${s.writes} writes found); a boot after the watch ${s.bootAgainMs.toFixed(0)} ms`);
  }
  console.log(JSON.stringify(out));
}
