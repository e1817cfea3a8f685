import { describe, expect, it } from 'vitest';
import { boot, reproduce } from '../../lib/lab/boot';
import { sweep } from '../../lib/lab/sweep';
import { earlyTablesExperiment } from '../../lib/lab/early-tables';
import { LabError } from '../../lib/errors';
import { expectLabError } from '../support/lab-error';

describe('a run: step, run to a symbol, breakpoints, snapshots', () => {
  it('steps routine by routine and replays to the same point', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' });
    expect(run.outcome).toBe('not-started');
    run.step(3);
    expect(run.stepCount).toBe(3);
    const chain3 = run.result().callChain;
    const snap = run.snapshot();
    run.runTo('paging_init');
    expect(run.routine).toBe('paging_init');
    run.restore(snap);
    expect(run.stepCount).toBe(3);
    expect(run.result().callChain).toEqual(chain3);
  });

  it('restoring a snapshot taken at the end gives the end back, crash and all', () => {
    const run = boot({ memory: '256M' }).run();
    const end = run.snapshot();
    run.restore({ step: 5, routine: null, outcome: 'paused' });
    expect(run.outcome).toBe('paused');
    run.restore(end);
    expect(run.outcome).toBe('crashed');
    expect(run.result().xenConsole.length).toBeGreaterThan(6);
    expect(() => run.restore({ step: -3, routine: null, outcome: 'paused' })).toThrow(LabError);
  });

  it('stops at breakpoints on continue(), then runs to the end', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' }).breakAt('xen_alloc_pte_init').breakAt('paging_init');
    run.continue();
    expect(run.routine).toBe('xen_alloc_pte_init');
    const first = run.stepCount;
    run.continue();
    expect(run.routine).toBe('xen_alloc_pte_init');
    expect(run.stepCount).toBeGreaterThan(first);
    expect(run.run().outcome).toBe('booted');
  });

  it('refuses an unknown symbol and a bad step count with a LabError, and the walk before any step', () => {
    const run = boot();
    expect(() => run.runTo('init_mem_maping')).toThrow(/no routine "init_mem_maping"/);
    expectLabError(() => run.step(0), 'VALUE_OUT_OF_RANGE');
    expect(() => run.walk('ffffea000005b2d0')).toThrow(/has not started/);
  });

  it('walks and diffs the page tables: paging_init adds the vmemmap under L4[0x1d4]', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '512M' });
    const before = run.runTo('paging_init').snapshot();
    expect(run.walk('ffffea000005b2d0').ok).toBe(false);
    const after = run.run().snapshot();
    expect(run.walk('ffffea000005b2d0').ok).toBe(true);
    const diff = run.pageTableDiff(before, after);
    expect(diff.added.some((r) => r.start >= 0xffffea0000000000n && r.start < 0xffffeb0000000000n)).toBe(true);
    expect(diff.mappedAfter).toBeGreaterThan(diff.mappedBefore);
  });
});

describe('after the boot: the late pv ops and the first mm switch under Xen', () => {
  it('xen_post_allocator_init installs the late ops; the fix also puts back xen_write_cr3', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' }).run();
    const pv = run.current!.kernel.pv;
    expect([pv.write_cr3.name, pv.set_pmd.name, pv.set_pgd.name, pv.alloc_pte.name, pv.pgd_alloc.name])
      .toEqual(['xen_write_cr3', 'xen_set_pmd', 'xen_set_pgd', 'xen_alloc_pte', 'xen_pgd_alloc']);
  });

  it('the first mm switch reaches xen_get_user_pgd with page->private set: MMUEXT_NEW_USER_BASEPTR gets a table', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' }).run();
    expect(run.result().counters.mmuextOps.MMUEXT_NEW_USER_BASEPTR ?? 0).toBe(0);
    const r = run.firstMmSwitch();
    expect(r.outcome).toBe('booted');
    expect(r.counters.mmuextOps.MMUEXT_NEW_USER_BASEPTR).toBe(1);
    const vcpu = run.current!.platform.xen!.vcpu;
    expect(vcpu.guestTableUser).not.toBe(0);
    expect(vcpu.guestTableUser).not.toBe(vcpu.guestTable);
    expect(run.current!.platform.pageType(vcpu.guestTableUser)).toBe('PGT_l4_page_table');
  });

  it('is refused for a run that did not boot', () => {
    expect(() => boot({ memory: '256M' }).run().firstMmSwitch()).toThrow(/needs a Xen run that booted/);
  });
});

describe('what-ifs and sweeps', () => {
  it('with the #PF handler registered early, Xen bounces the fault and the guest oopses instead', () => {
    const r = reproduce({ trapsEarly: true, memory: '512M' });
    expect(r.outcome).toBe('crashed');
    expect(r.haltReason).toBe('Kernel panic - not syncing: Attempted to kill the idle task!'); // kernel/exit.c:720 (v3.9.6)
    expect(r.counters.pageFaults).toMatchObject({ bounced: 1, unhandled: 0 });
    expect(r.xenConsole.filter((l) => l.includes('unhandled page fault'))).toEqual([]);
    expect(r.guestConsole).toContain('BUG: unable to handle kernel paging request at ffffea000005b2d0');
  });

  it('sweeps sizes with progress, and more memory means more L1 pages under Xen', () => {
    const seen: string[] = [];
    const results = sweep({ variants: ['5b5c1af104ab'], platforms: ['xen'], memories: ['128M', '512M'] }, (p) => seen.push(`${p.done}/${p.total}`));
    expect(seen).toEqual(['1/2', '2/2']);
    expect(results[1].counters.ptPages.l1).toBeGreaterThan(results[0].counters.ptPages.l1);
    expectLabError(() => sweep({ variants: ['5b5c1af104ab'], platforms: ['xen'], memories: ['lots'] }), 'BAD_CONFIG');
  });

  it('the early page tables of 8170e6bed465 reset after 64 are in use', () => {
    const e = earlyTablesExperiment(70);
    expect(e.resetsAfter).toEqual([62]);
    expect(Math.max(...e.inUse)).toBe(64);
  });
});
