/**
 * `npm run bench -- boot`: boots the Xen PV fix variant (5b5c1af104ab) to the end of
 * init_mem_mapping at 1, 4, 16 and 64 GiB, each in its own process (so peak RSS is its own), and
 * prints ns per PTE written, their spread, and peak RSS over the bytes of page tables built.
 */
import { execFileSync } from 'node:child_process';
import { boot } from '../dist/lab/boot';

const SIZES = ['1G', '4G', '16G', '64G'];

interface Sample { memory: string; ms: number; ptes: number; ptBytes: number; maxRssBytes: number }

function measureOne(memory: string): Sample {
  // A small boot first, so the JIT has compiled the hot paths: the measured boot's ns per PTE is
  // then the model's, not V8's start-up (which would make the smallest size look worst).
  boot({ variant: '5b5c1af104ab', platform: 'xen', memory: '256M' }).runTo('early_trap_pf_init');
  const run = boot({ variant: '5b5c1af104ab', platform: 'xen', memory });
  const t0 = process.hrtime.bigint();
  run.runTo('early_trap_pf_init'); // the routine setup_arch calls right after init_mem_mapping
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = run.result().counters;
  const ptes = c.pteWrites.l1 + c.pteWrites.l2 + c.pteWrites.l3 + c.pteWrites.l4;
  const ptPages = c.ptPages.l1 + c.ptPages.l2 + c.ptPages.l3 + c.ptPages.l4;
  return { memory, ms, ptes, ptBytes: ptPages * 4096, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
}

export function run(): void {
  if (process.env.PVOPS_BENCH_BOOT_ONE !== undefined) {
    process.stdout.write(`${JSON.stringify(measureOne(process.env.PVOPS_BENCH_BOOT_ONE))}\n`);
    return;
  }
  const samples: Sample[] = [];
  for (const memory of SIZES) {
    process.stderr.write(`booting 5b5c1af104ab under Xen with ${memory} to the end of init_mem_mapping...\n`);
    const out = execFileSync(process.execPath, [...process.execArgv, __filename.replace(/boot\.ts$/, 'run.ts'), 'boot'], {
      env: { ...process.env, PVOPS_BENCH_BOOT_ONE: memory }, encoding: 'utf8', maxBuffer: 1 << 20,
    });
    const s = JSON.parse(out.trim().split('\n').pop() as string) as Sample;
    samples.push(s);
    console.log(`${memory.padStart(4)}: ${s.ms.toFixed(0)} ms, ${s.ptes} entries written, ${(s.ptBytes / 2 ** 20).toFixed(1)} MiB of page tables, peak RSS ${(s.maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
  }
  const nsPerPte: Record<string, number> = {};
  for (const s of samples) nsPerPte[s.memory] = Number(((s.ms * 1e6) / s.ptes).toFixed(1));
  const values = Object.values(nsPerPte);
  const largest = samples[samples.length - 1];
  const result = {
    nsPerPte,
    scaling: Number((Math.max(...values) / Math.min(...values)).toFixed(2)),
    rssOverPtBytes: Number((largest.maxRssBytes / largest.ptBytes).toFixed(2)),
    ms64G: Number(largest.ms.toFixed(0)),
  };
  console.log(JSON.stringify(result));
}
