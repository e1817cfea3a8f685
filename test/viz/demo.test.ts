import { describe, expect, it } from 'vitest';
import { crashPoint, demoAddressSpace, demoRuns, demoSweep, isCrashed, pageTableExplorer } from '../../lib/viz';
import { walk } from '../../lib/x86/walk';

describe('the gallery demo data', () => {
  it('has the three variants on both platforms, and only 8170e6bed465 under Xen crashes', () => {
    const runs = demoRuns(256);
    expect(runs.map((r) => `${r.variant}/${r.platform}`)).toEqual([
      'v3.8/xen', '8170e6bed465/xen', '5b5c1af104ab/xen', 'v3.8/bare-metal', '8170e6bed465/bare-metal', '5b5c1af104ab/bare-metal',
    ]);
    expect(runs.filter((r) => isCrashed(r.outcome)).map((r) => r.label)).toEqual(['8170e6bed465 / xen (synthetic)']);
    expect(runs.every((r) => r.label!.endsWith('(synthetic)'))).toBe(true);
    expect(crashPoint(runs[1].trace)!.phase).toBe('init_mem_mapping');
  });

  it("derives the crash's console lines from a walk of the demo tables, not from literals", () => {
    const crash = demoRuns(256)[1];
    const space = demoAddressSpace(4);
    const address = crash.fault!.address as string;
    const result = walk(space.mem, space.regs, address, { kind: 'read', user: false });
    expect(result.ok).toBe(false);
    expect(crash.xenConsole).toContain(`(XEN) Pagetable walk from ${address}:`);
    expect(crash.xenConsole).toContain(`(XEN)  L4[0x1d4] = ${result.steps[0].entry.toString(16).padStart(16, '0')} ffffffffffffffff`);
  });

  it('scales page-table pages with guest memory in the sweep', () => {
    const xen38 = demoSweep([256, 1024]).filter((p) => p.run.variant === 'v3.8' && p.run.platform === 'xen');
    const pages = xen38.map((p) => p.run.trace.counters.ptPages.l1);
    expect(pages[1]).toBeGreaterThan(pages[0]);
  });

  it('maps the direct map with page-table frames read-only, and leaves the vmemmap slot empty', () => {
    const space = demoAddressSpace();
    const text = pageTableExplorer(space.mem, space.cr3, { regions: space.regions, pageType: space.pageType }).text;
    expect(text).toMatch(/L1\[0x1\] ffff880000001000–ffff880000001fff → 4 KiB page, frame 0x1 \(l4_page_table\) · P ro sup A NX/);
    expect(text).not.toContain('vmemmap');
    expect(walk(space.mem, space.regs, 'ffff880000123456', { kind: 'write', user: false }).ok).toBe(true);
  });
});
