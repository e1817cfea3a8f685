import { describe, expect, it } from 'vitest';
import { normalizeConfig, parseMemorySize } from '../../lib/lab/config';
import { LabError } from '../../lib/errors';

const codeOf = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { return e instanceof LabError ? e.code : 'not a LabError'; }
  return undefined;
};

describe('boot configuration', () => {
  it('defaults to the crashing kernel under Xen with the seed knobs', () => {
    expect(normalizeConfig()).toEqual({
      variant: '8170e6bed465', platform: 'xen', memoryBytes: 2 ** 31, domid: 7, pcpu: 3, structPageSize: 56, gbpages: false, whatIf: null, trapsEarly: false, xenRelease: '4.2.0', xenPatches: [], xenDebug: false, xenCmdline: '', hostE820: null, hostVmx: false, dom0: null,
    });
  });

  it('parses memory sizes and refuses bad ones with what is allowed', () => {
    expect(parseMemorySize('512M')).toBe(512 * 2 ** 20);
    expect(parseMemorySize('64G')).toBe(64 * 2 ** 30);
    expect(parseMemorySize(2 ** 30)).toBe(2 ** 30);
    expect(() => parseMemorySize('lots')).toThrow(/size like '2G'/);
    expect(codeOf(() => parseMemorySize('1M'))).toBe('BAD_CONFIG');
    expect(codeOf(() => parseMemorySize(3 * 2 ** 20))).toBe('BAD_CONFIG');
    expect(codeOf(() => parseMemorySize(true))).toBe('WRONG_TYPE');
  });

  it('refuses unknown variants, platforms, keys and out-of-range knobs', () => {
    expect(codeOf(() => normalizeConfig({ variant: 'v3.10' as never }))).toBe('UNKNOWN_VARIANT');
    expect(codeOf(() => normalizeConfig({ platform: 'kvm' as never }))).toBe('UNKNOWN_PLATFORM');
    expect(codeOf(() => normalizeConfig({ memroy: '2G' } as never))).toBe('BAD_CONFIG');
    expect(codeOf(() => normalizeConfig({ domid: -1 }))).toBe('VALUE_OUT_OF_RANGE'); // domid 0 is dom0 (issue 15)
    expect(codeOf(() => normalizeConfig({ domid: 0, platform: 'bare-metal' }))).toBe('BAD_CONFIG');
    expect(codeOf(() => normalizeConfig({ domid: 1.5 }))).toBe('WRONG_TYPE');
    expect(codeOf(() => normalizeConfig({ structPageSize: 48 as never }))).toBe('BAD_CONFIG');
    expect(codeOf(() => normalizeConfig(null as never))).toBe('WRONG_TYPE');
  });

  it('takes a what-if on 8170e6bed465 under Xen, and refuses it elsewhere or unknown, naming what is allowed', () => {
    expect(normalizeConfig({ whatIf: 'guard-user-pgd' })).toMatchObject({ whatIf: 'guard-user-pgd', trapsEarly: false });
    // trapsEarly: true is the what-if 'pf-gate-early' under its old name
    expect(normalizeConfig({ trapsEarly: true })).toMatchObject({ whatIf: 'pf-gate-early', trapsEarly: true });
    expect(normalizeConfig({ whatIf: 'pf-gate-early', trapsEarly: true })).toMatchObject({ whatIf: 'pf-gate-early' });
    expect(codeOf(() => normalizeConfig({ whatIf: 'pf-gate-early', trapsEarly: 1 as never }))).toBe('WRONG_TYPE');
    expect(codeOf(() => normalizeConfig({ whatIf: 'guard-user-pgd', trapsEarly: true }))).toBe('BAD_CONFIG');
    expect(codeOf(() => normalizeConfig({ whatIf: 'skip-it' as never }))).toBe('UNKNOWN_WHAT_IF');
    expect(() => normalizeConfig({ whatIf: 'skip-it' as never }))
      .toThrow(/guard-user-pgd, no-reload-under-xen, pf-gate-early, xen-write-cr3-init; got "skip-it"/);
    expect(codeOf(() => normalizeConfig({ whatIf: 'no-reload-under-xen', platform: 'bare-metal' }))).toBe('WHAT_IF_NOT_APPLICABLE');
    expect(codeOf(() => normalizeConfig({ whatIf: 'xen-write-cr3-init', variant: '5b5c1af104ab' }))).toBe('WHAT_IF_NOT_APPLICABLE');
    expect(codeOf(() => normalizeConfig({ trapsEarly: true, variant: 'v3.8' }))).toBe('WHAT_IF_NOT_APPLICABLE');
    expect(() => normalizeConfig({ whatIf: 'guard-user-pgd', variant: 'v3.8' })).toThrow(/a change to 8170e6bed465 on xen; got variant v3\.8 on xen/);
  });
});
