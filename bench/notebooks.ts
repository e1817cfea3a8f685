/**
 * `npm run bench -- notebooks`: executes and exports the whole notebook series as `npm run
 * publish` does, and prints its wall time, against the smoke notebook run the same way as a
 * baseline (the fixed cost of a kernel and nbconvert). Target: the series under 60 s here.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { JUPYTER } from '../test/support/notebook';

const ROOT = join(__dirname, '..');

function seconds(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function run(): void {
  const env = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' };
  const smoke = seconds(() => execFileSync(JUPYTER, ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.kernel_name=tslab',
    '--output-dir', join(ROOT, 'test-output', 'bench'), join(ROOT, 'test', 'notebooks', 'fixtures', 'smoke.ipynb')], { cwd: ROOT, env, stdio: 'ignore' }));
  console.log(`smoke notebook (baseline): ${smoke.toFixed(1)} s`);
  const series = seconds(() => execFileSync(process.execPath, [join(ROOT, 'scripts', 'publish.cjs')], {
    cwd: ROOT, env: { ...env, PVOPS_SITE_DIR: 'test-output/bench/site' }, stdio: 'inherit',
  }));
  console.log(JSON.stringify({ seriesSeconds: Number(series.toFixed(1)), smokeSeconds: Number(smoke.toFixed(1)), seriesOverSmoke: Number((series / smoke).toFixed(1)), targetSeconds: 60 }));
}
