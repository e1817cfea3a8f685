/**
 * Transparent huge pages for the model's big arrays. A big boot's state (the guest's page tables,
 * its p2m list, Xen's frame table) is new memory, and the first write to each 4 KiB page of it
 * costs the process a page fault. glibc 2.35 and later advise huge pages for the memory malloc
 * maps when the tunable glibc.malloc.hugetlb=1 is set, and read their tunables only when a process
 * starts. Measured on this project's machine: a 64 GiB boot takes half the page faults
 * (129 k -> 63 k), and `pvops-lab repro --memory 256G` 10.3 s instead of 13.4 s.
 *
 * So the CLI starts itself again with the tunable for a big boot (cli.ts), scripts/setup.sh puts it in the
 * notebook kernel's environment and the boot benchmark's children get it. Where glibc is older or
 * not glibc, or the kernel's transparent huge pages are off, the tunable does nothing.
 * PVOPS_LAB_HUGE_PAGES=0 turns the restart off.
 */
import { spawnSync } from 'node:child_process';

/** The glibc tunable (GLIBC_TUNABLES is a colon-separated list of name=value). */
export const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';

/** `env` with the tunable added to GLIBC_TUNABLES; the same object when it already names one. */
export function withHugePages(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const current = env.GLIBC_TUNABLES ?? '';
  if (current.split(':').some((t) => t.startsWith('glibc.malloc.hugetlb='))) return env;
  return { ...env, GLIBC_TUNABLES: current === '' ? HUGE_PAGES_TUNABLE : `${current}:${HUGE_PAGES_TUNABLE}` };
}

/**
 * On Linux, when this process started without the tunable (and PVOPS_LAB_HUGE_PAGES is not 0):
 * runs the same command again with it, its input and output the terminal's, and returns that
 * run's exit status for the caller to exit with. Null when there is nothing to do, or when the
 * second process could not be started (the caller then carries on itself).
 */
export function rerunWithHugePages(): number | null {
  if (process.platform !== 'linux' || process.env.PVOPS_LAB_HUGE_PAGES === '0') return null;
  const env = withHugePages(process.env);
  if (env === process.env) return null;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  if (r.error !== undefined) return null;
  return r.status ?? 1; // killed by a signal: a failure
}
