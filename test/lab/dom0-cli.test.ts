/**
 * The CLI for dom0: `pvops-lab repro --domid 0 --xen-release 4.1.5-pre --xen-debug --xen-cmdline ...
 * --e820 FILE --dom0-pages N ...` (the map as the lines Xen prints), `--preset dom0-report`, and
 * bad input refused with exit 2 and one line naming the problem. Runs dist/cli.js (npm run build).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dom0Report } from '../support/dom0-report';

const ROOT = resolve(__dirname, '..', '..');
const cli = (...args: string[]) => spawnSync(process.execPath, [resolve(ROOT, 'dist/cli.js'), 'repro', ...args], { encoding: 'utf8' });

describe('pvops-lab repro for dom0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dom0-cli-'));
  const map = join(dir, 'e820.txt');
  writeFileSync(map, dom0Report()['xen-e820'].join('\n'));

  it('boots the report\'s dom0 from flags (the map from a file of Xen\'s lines) and says the host rebooted', () => {
    const r = cli('--domid', '0', '--pcpu', '0', '--xen-release', '4.1.5-pre', '--xen-debug', '--xen-cmdline', 'sync_console',
      '--e820', map, '--dom0-pages', '0x1acb65', '--dom0-alloc-start', '0x220000000', '--dom0-initrd-bytes', '0x13224000', '--dom0-vcpus', '4');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('(XEN) cr3: 0000000221a0c000   cr2: ffffea000005b2d0');
    expect(r.stdout).toContain('the host rebooted');
    const p = cli('--preset', 'dom0-report');
    expect(p.status).toBe(0);
    expect(p.stdout).toContain('(XEN) Domain 0 crashed: rebooting machine in 5 seconds.');
  });

  it('refuses overlapping map ranges, a map without RAM, dom0 pages beyond the map and an unknown release', () => {
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, '(XEN)  0000000000000000 - 000000000009ec00 (usable)\n(XEN)  0000000000001000 - 0000000000100000 (reserved)\n');
    const noram = join(dir, 'noram.txt');
    writeFileSync(noram, '(XEN)  0000000000000000 - 0000000000100000 (reserved)\n');
    for (const [args, msg] of [
      [['--domid', '0', '--e820', bad], /unsorted or overlap/],
      [['--domid', '0', '--e820', noram], /no RAM/],
      [['--domid', '0', '--e820', map, '--dom0-pages', '0x300000'], /beyond the map/],
      [['--xen-release', '4.1.4'], /'4\.1\.5-pre', '4\.2\.0', '4\.2\.2'/],
    ] as [string[], RegExp][]) {
      const r = cli(...args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});
