import { afterEach, describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import { boot } from '../../lib/lab/boot';
import { bootBytesNeeded, checkMemoryFits, memoryAvailable, xenBootableMemoryBytes, xenMaxMemoryBytes } from '../../lib/lab/memory-need';
import { TraceRecorder } from '../../lib/trace/recorder';
import { XenHost } from '../../lib/xen/host';
import { buildPvDomain } from '../../lib/xen/domain-builder';
import { initialMappingEnd, maxPvDomainPages } from '../../lib/xen/initial-mapping';
import { sweep, type SweepProgress } from '../../lib/lab/sweep';

const LIMIT = 'PVOPS_LAB_MEMORY_LIMIT';
const saved = process.env[LIMIT];
afterEach(() => {
  if (saved === undefined) delete process.env[LIMIT]; else process.env[LIMIT] = saved;
});

function labError(f: () => unknown): LabError {
  try { f(); } catch (e) { if (e instanceof LabError) return e; throw e; }
  throw new Error('no LabError thrown');
}

describe('memory a boot needs', () => {
  it('grows with the guest under Xen (p2m, L1 entries, frame table, trace) and stays small on bare metal', () => {
    const xen64 = bootBytesNeeded('xen', 64 * 2 ** 30, 56);
    const xen1T = bootBytesNeeded('xen', 2 ** 40, 56);
    // p2m and the direct map's L1s alone are 16 bytes a page: 256 MiB at 64 GiB
    expect(xen64).toBeGreaterThan(256 * 2 ** 20);
    expect(xen1T - xen64).toBeGreaterThan(15 * (xen64 - bootBytesNeeded('xen', 2 ** 30, 56)));
    expect(bootBytesNeeded('bare-metal', 2 ** 40, 56)).toBeLessThan(xen64);
  });

  it('reads a fake limit from PVOPS_LAB_MEMORY_LIMIT, as bytes or a size', () => {
    process.env[LIMIT] = '512M';
    expect(memoryAvailable()).toBe(512 * 2 ** 20);
    process.env[LIMIT] = String(3 * 2 ** 30);
    expect(memoryAvailable()).toBe(3 * 2 ** 30);
    process.env[LIMIT] = 'plenty';
    expect(labError(() => memoryAvailable()).code).toBe('BAD_CONFIG');
  });

  it('refuses a boot that does not fit before it starts, saying how much it needs and how much there is', () => {
    process.env[LIMIT] = '1G';
    const e = labError(() => boot({ variant: '5b5c1af104ab', platform: 'xen', memory: '1000G' }));
    expect(e.code).toBe('NOT_ENOUGH_MEMORY');
    expect(e.message).toMatch(/needs about \d+(\.\d)? GiB/);
    expect(e.message).toContain('1.0 GiB available');
    // the same size on bare metal needs little, and a small Xen boot fits
    expect(() => boot({ variant: '5b5c1af104ab', platform: 'bare-metal', memory: '1T' })).not.toThrow();
    expect(() => boot({ variant: '5b5c1af104ab', platform: 'xen', memory: '256M' })).not.toThrow();
    expect(() => checkMemoryFits('x', 2 ** 31, 2 ** 30)).toThrow(LabError);
  });
});

describe('the largest Xen PV guest', () => {
  it('is what the builder can map: the p2m list after the kernel in the top 2 GiB (about 1007 GiB here)', () => {
    const max = xenMaxMemoryBytes();
    expect(max / 2 ** 30).toBeGreaterThan(1000);
    expect(max / 2 ** 30).toBeLessThan(1008);
    const e = labError(() => boot({ variant: '5b5c1af104ab', platform: 'xen', memory: '1T' }));
    expect(e.code).toBe('BAD_CONFIG');
    expect(e.message).toContain('at most 1007 GiB');
    expect(labError(() => sweep({ variants: ['5b5c1af104ab'], platforms: ['xen'], memories: ['1G', '1T'] })).code).toBe('BAD_CONFIG');
  });

  it('boots only below about 494 GiB (libxc 4.2 hooks a second L2 over the first past it), and the refusal says so', () => {
    const bootable = xenBootableMemoryBytes() / 2 ** 30;
    expect(bootable).toBeGreaterThan(490);
    expect(bootable).toBeLessThan(495); // 494G boots and 495G crashes in xen_start_kernel (measured: bench/boot.ts notes)
    const e = labError(() => boot({ variant: '5b5c1af104ab', platform: 'xen', memory: '1T' }));
    expect(e.message).toContain(`past about ${Math.floor(bootable)} GiB libxc 4.2's bootstrap tables hook a second L2 over the first`);
  });

  it('is refused by the builder itself, before the host changes', () => {
    const host = new XenHost({ trace: new TraceRecorder() });
    const kernel = { virtBase: 0xffffffff80000000n, loadPfn: 0x1000, pages: 3314, fill: () => {}, entry: 0xffffffff81000000n };
    const e = labError(() => buildPvDomain(host, { domid: 1, memoryBytes: 2 ** 40, kernel }));
    expect(e.code).toBe('BAD_CONFIG');
    expect(e.message).toContain('xc_dom_alloc_segment would wrap past 2^64');
    expect(host.domains.size).toBe(0);
    // the largest size that fits passes the check (not built here: it would take gigabytes)
    expect(initialMappingEnd(0xffff80000000, 0x1000, 3314, maxPvDomainPages(0xffff80000000, 0x1000, 3314))).toBeLessThanOrEqual(2 ** 48);
  });
});

describe('sweep', () => {
  it('refuses a sweep that would not fit before any boot runs', () => {
    process.env[LIMIT] = '2G';
    const seen: SweepProgress[] = [];
    const e = labError(() => sweep({ variants: ['5b5c1af104ab'], platforms: ['xen'], memories: ['128M', '1000G'] }, (p) => seen.push(p)));
    expect(e.code).toBe('NOT_ENOUGH_MEMORY');
    expect(e.message).toContain('the biggest 1000 GiB');
    expect(e.message).toContain('2.0 GiB available');
    expect(seen).toEqual([]);
  });

  it('counts kept traces: keepTraces false needs less', () => {
    const opts = { variants: ['5b5c1af104ab' as const], platforms: ['xen' as const], memories: ['64G', '64G', '64G'] };
    // a limit between the two needs: with traces the sweep is refused, without it passes the check
    const one = bootBytesNeeded('xen', 64 * 2 ** 30, 56);
    process.env[LIMIT] = String(Math.ceil(one * 1.2));
    expect(labError(() => sweep(opts)).message).toContain('keepTraces: false');
    process.env[LIMIT] = String(Math.ceil(one * 0.9));
    expect(labError(() => sweep({ ...opts, keepTraces: false })).code).toBe('NOT_ENOUGH_MEMORY');
  });

  it('reports progress by share of memory booted, and keepTraces false keeps the counters only', () => {
    const seen: SweepProgress[] = [];
    const results = sweep({ variants: ['5b5c1af104ab'], platforms: ['xen'], memories: ['128M', '384M'], stopAt: 'early_trap_pf_init', keepTraces: false },
      (p) => seen.push(p));
    expect(seen.map((p) => [p.done, p.total, p.fraction])).toEqual([[1, 2, 0.25], [2, 2, 1]]);
    expect(seen[1].etaMs).toBe(0);
    expect(seen[1].ptes).toBeGreaterThan(seen[0].ptes);
    expect(seen[0].label).toBe('5b5c1af104ab on xen, 128M');
    const full = boot({ variant: '5b5c1af104ab', platform: 'xen', memory: '384M' }).runTo('early_trap_pf_init').result();
    expect(results[1].trace.counters).toEqual(full.trace.counters);
    expect(results[1].trace.events).toEqual([]);
    expect(results[1].counters).toEqual(full.counters);
    expect(full.trace.events.length).toBeGreaterThan(0);
  });

  it('refuses a progress callback that is not a function and keepTraces that is not a boolean', () => {
    const base = { variants: ['5b5c1af104ab' as const], platforms: ['xen' as const], memories: ['128M'] };
    expect(labError(() => sweep(base, 'yes' as never)).code).toBe('WRONG_TYPE');
    expect(labError(() => sweep({ ...base, keepTraces: 'no' as never })).code).toBe('WRONG_TYPE');
  });
});
