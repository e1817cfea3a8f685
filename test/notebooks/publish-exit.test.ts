/**
 * scripts/publish.cjs's failure exits: 2 (and nothing deleted) for a site folder it must not empty,
 * 1 when a notebook raises an error while it executes (the error's text on stderr).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const PUBLISH = join(ROOT, 'scripts', 'publish.cjs');

function publish(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [PUBLISH], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run publish: failure exits', () => {
  it('exits 2 for a site folder outside the checkout, the checkout itself or notebooks/, and deletes nothing', () => {
    const outside = mkdtempSync(join(tmpdir(), 'pvops-site-'));
    writeFileSync(join(outside, 'keep.txt'), 'mine');
    try {
      for (const dir of [outside, ROOT, join(ROOT, 'notebooks'), '..']) {
        const r = publish({ PVOPS_SITE_DIR: dir });
        expect(r.status, `PVOPS_SITE_DIR=${dir}`).toBe(2);
        expect(r.stderr).toMatch(/PVOPS_SITE_DIR must name a folder inside the checkout other than notebooks\//);
      }
      expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('mine');
      expect(existsSync(join(ROOT, 'notebooks', '00-the-bug-on-one-page.ipynb'))).toBe(true); // notebooks/ untouched
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('exits 1 when a notebook raises, and says what it raised', () => {
    const nbDir = mkdtempSync(join(tmpdir(), 'pvops-nb-'));
    const site = join('test-output', `publish-fail-${process.pid}`);
    const notebook = {
      cells: [
        { cell_type: 'markdown', metadata: {}, source: ['# A notebook that fails\n', 'It throws.'] },
        { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ["throw new Error('publish-exit-test: this cell fails on purpose');"] },
      ],
      metadata: { kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    mkdirSync(nbDir, { recursive: true });
    writeFileSync(join(nbDir, '01-fails.ipynb'), JSON.stringify(notebook));
    try {
      const r = publish({ PVOPS_NOTEBOOKS_DIR: nbDir, PVOPS_SITE_DIR: site });
      expect(r.stdout).toMatch(/executing 1 notebooks/);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/publish failed: .*publish-exit-test: this cell fails on purpose/s);
      expect(existsSync(join(ROOT, site, '01-fails.html'))).toBe(false);
    } finally {
      rmSync(nbDir, { recursive: true, force: true });
      rmSync(join(ROOT, site), { recursive: true, force: true });
    }
  }, 300_000);
});
