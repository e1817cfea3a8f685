/**
 * The notebooks import the compiled library from dist/. `npm test` builds it first (setup.sh);
 * when these tests run alone (npx vitest run test/viz) and lib/ is newer than dist/, build here.
 * tsc emits even when another layer being written has type errors, so its exit status is not
 * the test's business; a dist/viz that is still stale afterwards is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/notebook';

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function ensureDist(): void {
  const built = join(ROOT, 'dist', 'viz', 'index.js');
  const fresh = () => existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, 'lib', 'viz'));
  if (fresh()) return;
  spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
  if (!fresh()) throw new Error('dist/viz is older than lib/viz and `npm run build` did not refresh it');
}
