/**
 * The Xen release and patches of a run: `boot({ xen: { release, patches } })`, `--xen-release`
 * and `--xen-patch`. 4.2.0 is the default (the report's banner, RELEASE-4.2.0 xen/Makefile:5
 * XEN_EXTRAVERSION ".0"); 4.2.2 is accepted (RELEASE-4.2.2 xen/Makefile:5 ".2"); anything else,
 * an unknown patch, or the key on bare metal is refused before the run starts.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import { normalizeConfig } from '../../lib/lab/config';
import { reproduce } from '../../lib/lab/boot';
import { XenHost } from '../../lib/xen';
import { SEED_XEN_LINES } from '../support/seed';

const ROOT = resolve(__dirname, '..', '..');
const cli = (...args: string[]) => spawnSync(process.execPath, [resolve(ROOT, 'dist/cli.js'), ...args], { encoding: 'utf8' });

const refusal = (f: () => unknown): LabError => {
  try { f(); } catch (e) { if (e instanceof LabError) return e; throw e; }
  throw new Error('no LabError');
};

describe('the Xen release and patches of a run', () => {
  it('defaults to 4.2.0 with no patches; takes 4.2.2 and the two XSA patches (de-duplicated, in order)', () => {
    const d = normalizeConfig();
    expect([d.xenRelease, d.xenPatches]).toEqual(['4.2.0', []]);
    const c = normalizeConfig({ xen: { release: '4.2.2', patches: ['xsa-182', 'xsa-148', 'xsa-182'] } });
    expect([c.xenRelease, c.xenPatches]).toEqual(['4.2.2', ['xsa-148', 'xsa-182']]);
    const h = new XenHost({ patches: ['xsa-182'] });
    expect([h.release, h.versionString, h.xsa148Applied, h.xsa182Applied]).toEqual(['4.2.0', '4.2.0', false, true]);
  });

  it('refuses an unknown release, an unknown patch, unknown keys and the key on bare metal, naming what is allowed', () => {
    const r = refusal(() => normalizeConfig({ xen: { release: '4.2.1' as never } }));
    expect(r.code).toBe('UNKNOWN_XEN_RELEASE');
    expect(r.message).toMatch(/'4\.2\.0', '4\.2\.2'/);
    const p = refusal(() => normalizeConfig({ xen: { patches: ['xsa-999' as never] } }));
    expect(p.code).toBe('UNKNOWN_PATCH');
    expect(p.message).toMatch(/'xsa-148', 'xsa-182'/);
    expect(refusal(() => normalizeConfig({ xen: { patches: 'xsa-148' as never } })).code).toBe('WRONG_TYPE');
    const k = refusal(() => normalizeConfig({ xen: { relase: '4.2.0' } as never }));
    expect(k.code).toBe('BAD_CONFIG');
    expect(k.message).toMatch(/allowed: release, patches/);
    const b = refusal(() => normalizeConfig({ platform: 'bare-metal', xen: { release: '4.2.0' } }));
    expect(b.code).toBe('BAD_CONFIG');
    expect(refusal(() => new XenHost({ release: '4.3.0' as never })).code).toBe('UNKNOWN_XEN_RELEASE');
    expect(refusal(() => new XenHost({ patches: ['xsa-148', 'XSA-182' as never] })).code).toBe('UNKNOWN_PATCH');
    expect(refusal(() => new XenHost({ xsa148Fixed: true } as never)).code).toBe('BAD_CONFIG');
  });

  it('the report\'s lines on 4.2.0; on 4.2.2 only the banner changes', () => {
    const a = reproduce({ memory: '512M' });
    const b = reproduce({ memory: '512M', xen: { release: '4.2.2', patches: ['xsa-148', 'xsa-182'] } });
    expect(a.xenConsole.slice(0, 6)).toEqual(SEED_XEN_LINES);
    expect(b.xenConsole.slice(0, 5)).toEqual(SEED_XEN_LINES.slice(0, 5));
    expect(b.xenConsole[5]).toBe(SEED_XEN_LINES[5].replace('Xen-4.2.0', 'Xen-4.2.2'));
    expect(b.xenConsole.length).toBe(a.xenConsole.length);
  });

  it('CLI: --xen-release and --xen-patch; bad values exit 2 with one line saying what is allowed', () => {
    const ok = cli('repro', '--memory', '512M', '--xen-release', '4.2.2', '--xen-patch', 'xsa-148', '--xen-patch', 'xsa-182');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('(XEN) ----[ Xen-4.2.2  x86_64  debug=n  Not tainted ]----');
    for (const args of [['--xen-release', '4.2.9'], ['--xen-patch', 'xsa-999'], ['--platform', 'bare-metal', '--xen-release', '4.2.0']]) {
      const r = cli('repro', ...args);
      expect(r.status).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/4\.2\.0|xsa-148|platform 'xen'/);
    }
  });
});
