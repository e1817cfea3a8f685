import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { SEED_FRAMES, SEED_XEN_LINES } from '../support/seed';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
// The CLI from its source (tsx), so the test never runs a stale dist/cli.js.
const CLI = ['--import', 'tsx', resolve(ROOT, 'lib/cli.ts')];
const cli = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8' });

describe('pvops-lab repro (the CLI over the lab)', () => {
  it('prints the seed lines, the symbolised stack and a summary, exit 0', () => {
    const r = cli('repro');
    expect(r.status).toBe(0);
    for (const line of SEED_XEN_LINES) expect(r.stdout.split('\n')).toContain(line);
    const positions = SEED_FRAMES.map((f) => r.stdout.indexOf(`] ${f}`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(r.stdout).toMatch(/outcome: crashed/);
  });

  it('--json gives one object with the documented fields', () => {
    const out = JSON.parse(execFileSync(process.execPath, [...CLI, 'repro', '--json', '--domid', '9'], { encoding: 'utf8' }));
    expect(out.outcome).toBe('crashed');
    expect(out.xenConsole).toContain('(XEN) d9:v0: unhandled page fault (ec=0000)');
    expect(out.guestStack[0]).toEqual({ address: 'ffffffff8103feba', symbol: 'xen_get_user_pgd', offset: 0x5a });
    expect(out.fault).toEqual({ address: 'ffffea000005b2d0', errorCode: 0 });
    expect(out.pgdPfn).toBe(0x1a0c);
    expect(out.counters.pageFaults).toEqual({ handled: 0, unhandled: 1 });
    expect(Object.keys(out.counters.ptPages)).toEqual(['l4', 'l3', 'l2', 'l1']);
    expect(out.counters.hypercalls.mmu_update).toBeGreaterThan(0);
  });

  it('bare metal: 8170e6bed465 counts handled early faults, v3.8 none', () => {
    const a = JSON.parse(cli('repro', '--platform', 'bare-metal', '--json', '--memory', '1G').stdout);
    const b = JSON.parse(cli('repro', '--platform', 'bare-metal', '--variant', 'v3.8', '--json', '--memory', '1G').stdout);
    expect(a.outcome).toBe('booted');
    expect(a.counters.pageFaults.handled).toBeGreaterThan(0);
    expect(b.outcome).toBe('booted');
    expect(b.counters.pageFaults.handled).toBe(0);
  });

  it('refuses bad arguments with exit 2 and a message saying what is allowed', () => {
    const v = cli('repro', '--variant', 'v9');
    expect(v.status).toBe(2);
    expect(v.stderr).toMatch(/Allowed choices are v3\.8, 8170e6bed465\^, 8170e6bed465, 5b5c1af104ab/);
    const m = cli('repro', '--memory', 'lots');
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/memory must be a size like '2G'/);
    expect(cli('repro', '--struct-page-size', '48').status).toBe(2);
    expect(cli('frobnicate').status).toBe(2);
  });

  it('--what-if runs a what-if; an unknown or misplaced one exits 2 with one line naming what is allowed', () => {
    const r = cli('repro', '--what-if', 'pf-gate-early', '--memory', '512M');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('BUG: unable to handle kernel paging request at ffffea000005b2d0');
    expect(r.stdout).toMatch(/what-if pf-gate-early/);
    const bad = cli('repro', '--what-if', 'skip-it');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/guard-user-pgd, no-reload-under-xen, pf-gate-early, xen-write-cr3-init/);
    const misplaced = cli('repro', '--what-if', 'guard-user-pgd', '--platform', 'bare-metal');
    expect(misplaced.status).toBe(2);
    expect(misplaced.stderr.trim().split('\n')).toHaveLength(1);
    expect(misplaced.stderr).toMatch(/what-if 'guard-user-pgd' is a change to 8170e6bed465 on xen; got variant 8170e6bed465 on bare-metal/);
  });
});
