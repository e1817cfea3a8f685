/**
 * `npm run bench -- timetravel`: the cost of moving through a run, as a ratio to the boot itself.
 * For 4 GiB and 64 GiB (each in its own process) and each of 8170e6bed465 and 5b5c1af104ab under
 * Xen: boots to the end (crash or booted) with the run's default checkpoints, then times
 * stepBack(1) from the end, runBackTo('init_mem_mapping') from there, at(step) for the middle step,
 * and an entryHistory of the vmemmap L4 entry (ffffea0000000000, the one the report's walk reads).
 * The boot's own time is measured twice: with checkpoints (what the ratios divide by) and with
 * none kept after step 0 (what the checkpoints cost the boot). At 4 GiB each figure is the fastest
 * of three rounds; at 64 GiB of one (the machine may be shared: the ratios, measured in one
 * process, hold better than the times).
 */
import { execFileSync } from 'node:child_process';
import { boot } from '../dist/lab/boot';
import type { VariantId } from '../dist/linux/variants';

const SIZES = ['4G', '64G'];
const VARIANTS = ['8170e6bed465', '5b5c1af104ab'] as const;

interface Sample {
  memory: string; variant: string; steps: number; checkpoints: number; checkpointMB: number;
  bootMs: number; plainBootMs: number; stepBackMs: number; runBackToMs: number; atMs: number; entryHistoryMs: number; writes: number;
}

const time = (f: () => void): number => {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

function measureOnce(memory: string, variant: VariantId): Sample {
  const plain = boot({ memory, variant }).checkpointEvery({ steps: 2 ** 40 });
  const plainBootMs = time(() => plain.run());
  plain.checkpointEvery({ steps: 2 ** 40 }); // lets its machine go
  const run = boot({ memory, variant });
  const bootMs = time(() => run.run());
  const steps = run.stepCount;
  const cps = run.checkpoints;
  const stepBackMs = time(() => run.stepBack(1));
  const runBackToMs = time(() => run.runBackTo('init_mem_mapping'));
  run.run();
  const atMs = time(() => run.at(Math.floor(steps / 2)));
  let writes = 0;
  const entryHistoryMs = time(() => { writes = run.entryHistory('ffffea0000000000', 4).length; });
  return {
    memory, variant, steps, checkpoints: cps.steps.length, checkpointMB: Math.round(cps.bytes / 1e6),
    bootMs, plainBootMs, stepBackMs, runBackToMs, atMs, entryHistoryMs, writes,
  };
}

/** The fastest of `rounds` measurements of each figure. */
function measureOne(memory: string, variant: VariantId, rounds: number): Sample {
  boot({ memory: '256M', variant }).run(); // warm the JIT on a small boot first
  const all = Array.from({ length: rounds }, () => measureOnce(memory, variant));
  const min = (f: (s: Sample) => number): number => Math.min(...all.map(f));
  return {
    ...all[0], bootMs: min((s) => s.bootMs), plainBootMs: min((s) => s.plainBootMs), stepBackMs: min((s) => s.stepBackMs),
    runBackToMs: min((s) => s.runBackToMs), atMs: min((s) => s.atMs), entryHistoryMs: min((s) => s.entryHistoryMs),
  };
}

export function run(): void {
  const one = process.env.PVOPS_BENCH_TT_ONE;
  if (one !== undefined) {
    const [memory, variant] = one.split(':');
    process.stdout.write(`${JSON.stringify(measureOne(memory, variant as VariantId, memory === '64G' ? 1 : 3))}\n`);
    return;
  }
  const out: Record<string, Record<string, number>> = {};
  for (const memory of SIZES) {
    for (const variant of VARIANTS) {
      process.stderr.write(`booting ${variant} under Xen with ${memory} to the end, then going back...\n`);
      const text = execFileSync(process.execPath, [...process.execArgv, __filename.replace(/timetravel\.ts$/, 'run.ts'), 'timetravel'], {
        env: { ...process.env, PVOPS_BENCH_TT_ONE: `${memory}:${variant}` }, encoding: 'utf8', maxBuffer: 1 << 20,
      });
      const s = JSON.parse(text.trim().split('\n').pop() as string) as Sample;
      const r = (ms: number): number => Number((ms / s.bootMs).toFixed(2));
      out[`${memory} ${variant}`] = {
        bootMs: Math.round(s.bootMs), bootWithoutCheckpointsMs: Math.round(s.plainBootMs), steps: s.steps,
        checkpoints: s.checkpoints, checkpointMB: s.checkpointMB,
        stepBack: r(s.stepBackMs), runBackTo: r(s.runBackToMs), at: r(s.atMs), entryHistory: r(s.entryHistoryMs),
      };
      console.log(`${memory.padStart(4)} ${variant}: boot ${s.bootMs.toFixed(0)} ms (${s.steps} steps; ${s.plainBootMs.toFixed(0)} ms keeping no checkpoint ` +
        `after step 0; ${s.checkpoints} checkpoints, ${s.checkpointMB} MB); stepBack(1) from the end ${r(s.stepBackMs)}x the boot, ` +
        `runBackTo('init_mem_mapping') ${r(s.runBackToMs)}x, at(${Math.floor(s.steps / 2)}) ${r(s.atMs)}x, ` +
        `entryHistory(ffffea0000000000, 4) ${r(s.entryHistoryMs)}x (${s.writes} writes)`);
    }
  }
  console.log(JSON.stringify(out));
}
