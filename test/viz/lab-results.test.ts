/**
 * The lab's own results passed straight in: every figure and view reads a RunResult (and its
 * machine) with no adapter, and the real crash's console lines match the seed's.
 */
import { describe, expect, it } from 'vitest';
import { boot, type RunResult } from '../../lib/lab';
import { regionName } from '../../lib/linux/layout';
import {
  consoleView, faultCountsFigure, hypercallsFigure, memorySweepFigure, mimeBundle, pageTableExplorer, pageWalkView,
  ptPopulationFigure, runSummaryView,
} from '../../lib/viz';
import { walk } from '../../lib/x86/walk';

const crashRun = boot({ variant: '8170e6bed465', platform: 'xen', memory: '256M' }).run();
const crash = crashRun.result();
const bare: RunResult[] = (['v3.8', '8170e6bed465', '5b5c1af104ab'] as const)
  .map((variant) => boot({ variant, platform: 'bare-metal', memory: '256M' }).run().result());

describe('lab results in lib/viz', () => {
  it('chart without adapters: population with the crash marked, faults side by side, hypercalls, a sweep', () => {
    const pop = ptPopulationFigure(crash);
    // at 256 MiB under Xen the guest allocates only L1 pages (the domain builder made the upper tables): the x axis says so
    expect(pop.layout.title.text).toBe('Page-table pages: 8170e6bed465 / xen');
    expect(pop.layout.xaxis.title!.text).toMatch(/^page-table entries written so far<br>.*no L4 \(PML4\), L3 \(PDPT\), L2 \(PD\) page allocated by this run/);
    expect(pop.layout.annotations!.some((a) => a.text.startsWith('crash:'))).toBe(true);
    const faults = faultCountsFigure([crash, ...bare]);
    // v3.8 on bare metal takes no page fault (static early tables): no bars, so no legend entry, but a note
    expect(faults.data.filter((t) => t.xaxis === 'x2').map((t) => t.name)).toEqual([
      '8170e6bed465 / xen (crashed)', '8170e6bed465 / bare-metal', '5b5c1af104ab / bare-metal',
    ]);
    expect(faults.layout.annotations!.map((a) => a.text)).toEqual(['no page faults: v3.8 / bare-metal']);
    expect(faults.data[1].x).toContain('unhandled (crash)');
    expect(hypercallsFigure(crash).data[0].y).toContain('mmu_update');
    expect(hypercallsFigure(crash).data[1].y).toContain('MMUEXT_NEW_BASEPTR');
    const sweep = memorySweepFigure([crash, ...bare]);
    expect(sweep.data.find((t) => t.name === '8170e6bed465 / xen')!.x).toEqual([256]);
  });

  it("highlights the seed's Xen lines in the real crash console, and formats the RIP frame as the seed does", () => {
    const v = consoleView(crash.xenConsole, crash.guestStack, [
      '(XEN) d7:v0: unhandled page fault (ec=0000)',
      '(XEN) Pagetable walk from\nffffea000005b2d0:',
      '(XEN) L4[0x1d4] =\n0000000000000000 ffffffffffffffff',
      '[<\nffffffff8103feba>] xen_get_user_pgd+0x5a <--',
    ]);
    expect(v.text).toContain('4 of 4 lines of the report printed by this run');
    expect(runSummaryView(crash).html).toContain('class="pvops-outcome"');
    expect(mimeBundle(crash)['text/plain']).toMatch(/^Run 8170e6bed465 \/ xen: crashed/);
  });

  it("draws the crashed machine's walk and tables with Linux's region names and Xen's page types", () => {
    const m = crashRun.current!;
    const cr3 = BigInt(m.platform.currentCr3());
    const result = walk(m.platform.memory, { cr3, efer: { nxe: true } }, 'ffffea000005b2d0', { kind: 'read', user: false });
    const w = pageWalkView({ address: 'ffffea000005b2d0', result, regions: regionName, pageType: m.platform.pageType });
    expect(w.text).toContain('L4[0x1d4] = 0000000000000000 (table at');
    expect(w.text).toContain('PGT_l4_page_table');
    const ex = pageTableExplorer(m.platform.memory, cr3, { regions: regionName, pageType: m.platform.pageType, maxNodes: 400 });
    expect(ex.text).toContain('direct map of all physical memory');
    expect(ex.text).toContain('recursive (linear) page-table mapping');
  });
});
