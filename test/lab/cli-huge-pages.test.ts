/**
 * The CLI's restart with glibc's huge-page tunable for a big boot (lib/cli.ts, lib/huge-pages.ts):
 * the environment it adds, and that the second process's output and exit status are the command's.
 * Runs dist/cli.js (npm run build).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HUGE_PAGES_TUNABLE, withHugePages } from '../../lib/huge-pages';

const ROOT = resolve(__dirname, '..', '..');
const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  spawnSync(process.execPath, [resolve(ROOT, 'dist/cli.js'), 'repro', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('huge pages for a big boot', () => {
  it('adds the tunable to GLIBC_TUNABLES, keeping the others, and leaves an environment that names it as it is', () => {
    expect(withHugePages({}).GLIBC_TUNABLES).toBe(HUGE_PAGES_TUNABLE);
    expect(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe(`glibc.malloc.arena_max=2:${HUGE_PAGES_TUNABLE}`);
    const set = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' };
    expect(withHugePages(set)).toBe(set); // the user's choice stands
  });

  it('a big boot\'s command runs again with the tunable: its error once, its exit status', () => {
    const env = { GLIBC_TUNABLES: '', PVOPS_LAB_HUGE_PAGES: '' };
    const r = cli(env, '--memory', '64G', '--variant', 'no-such-kernel');
    expect(r.status).toBe(2);
    expect(r.stderr.match(/no-such-kernel/g)?.length).toBe(1); // printed by one process, not two
    const off = cli({ ...env, PVOPS_LAB_HUGE_PAGES: '0' }, '--memory', '64G', '--variant', 'no-such-kernel');
    expect(off.status).toBe(2);
    expect(off.stderr).toBe(r.stderr);
  });
});
