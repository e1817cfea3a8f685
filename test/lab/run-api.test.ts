import { describe, expect, it } from 'vitest';
import { boot, reproduce } from '../../lib/lab/boot';
import { sweep } from '../../lib/lab/sweep';
import { earlyTablesExperiment } from '../../lib/lab/early-tables';
import { stateHash } from '../../lib/lab/time-travel/state-hash';
import { LabError } from '../../lib/errors';
import { expectLabError } from '../support/lab-error';
import type { Run, RunSnapshot } from '../../lib/lab/run';

describe('a run: step, run to a symbol, breakpoints, snapshots', () => {
  it('steps routine by routine, and a snapshot brings back the same point', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' });
    expect(run.outcome).toBe('not-started');
    run.step(3);
    expect(run.stepCount).toBe(3);
    const chain3 = run.result().callChain;
    const walk3 = run.walk('ffffffff81000000');
    const snap = run.snapshot();
    expect(snap).toMatchObject({ step: 3, routine: run.routine, outcome: 'paused' });
    run.runTo('paging_init');
    expect(run.routine).toBe('paging_init');
    expect(run.result().callChain).not.toEqual(chain3);
    run.restore(snap);
    expect([run.stepCount, run.routine, run.outcome]).toEqual([3, snap.routine, 'paused']);
    expect(run.result().callChain).toEqual(chain3);
    expect(run.walk('ffffffff81000000')).toEqual(walk3);
    // the guest console and the trace are the ones of step 3, not of paging_init
    expect(run.result().trace.routines.length).toBe(boot({ variant: '5b5c1af104ab', memory: '256M' }).step(3).result().trace.routines.length);
  });

  it('restoring a snapshot taken at the end gives the end back, crash and all', () => {
    const run = boot({ memory: '256M' }).run();
    const end = run.snapshot();
    const console = run.result().xenConsole;
    expect(end.outcome).toBe('crashed');
    const early = run.restore({ ...end, step: 0, routine: null, outcome: 'not-started' });
    expect([early.outcome, early.stepCount, early.current]).toEqual(['not-started', 0, null]);
    run.restore(end);
    expect([run.outcome, run.stepCount]).toEqual(['crashed', end.step]);
    expect(run.result().xenConsole).toEqual(console);
  });

  describe('restore refuses what is not a point of this run (BAD_SNAPSHOT), and changes nothing', () => {
    const refuses = (run: Run, s: unknown, message: RegExp): void => {
      const state = (): unknown[] => [run.stepCount, run.routine, run.outcome, run.current, stateHash(run.current, run.result().trace).all];
      const before = state();
      let caught: unknown = null;
      try { run.restore(s as RunSnapshot); } catch (e) { caught = e; }
      expect(caught).toBeInstanceOf(LabError);
      expect((caught as LabError).code).toBe('BAD_SNAPSHOT');
      expect((caught as LabError).message).toMatch(message);
      // the run's one machine, in the same state (result().trace is a copy each time: compared by hash)
      const after = state();
      expect(after).toEqual(before);
      for (let i = 0; i < before.length; i++) expect(Object.is(after[i], before[i])).toBe(true);
    };

    it('a snapshot of another configuration', () => {
      const other = boot({ memory: '512M' }).step(5).snapshot();
      const run = boot({ memory: '256M' }).step(10);
      refuses(run, other, /another run/);
      refuses(run, boot({ memory: '256M', variant: '5b5c1af104ab' }).step(5).snapshot(), /another run/);
      refuses(run, boot({ memory: '256M', platform: 'bare-metal' }).step(5).snapshot(), /another run/);
      // the same configuration from another run object is this run (the model is deterministic)
      const same = boot({ memory: '256M' }).step(5).snapshot();
      expect(run.restore(same).stepCount).toBe(5);
    });

    it('a step beyond the furthest step the run has reached', () => {
      const run = boot({ memory: '256M' }).step(10);
      const ahead = boot({ memory: '256M' }).step(11).snapshot();
      refuses(run, ahead, /beyond this run/);
      refuses(run, { ...run.snapshot(), step: 10_000_000 }, /beyond this run/);
      run.step(1).stepBack(5);
      expect(run.restore(ahead).stepCount).toBe(11); // reached once, so allowed now
    });

    it('an end this run did not have, or a routine it did not enter there', () => {
      const run = boot({ memory: '256M' }).step(10);
      refuses(run, { ...run.snapshot(), step: 4, outcome: 'crashed', routine: null }, /went on past step 4/);
      // at the furthest step, an end is checked by running to the end (this run goes on past step 10)
      refuses(run, { ...run.snapshot(), outcome: 'crashed', routine: null }, /it crashed at step \d+/);
      refuses(run, { ...run.snapshot(), step: 4, routine: 'paging_init' }, /entered \w+ at step 4/);
      refuses(run, { ...run.snapshot(), step: 0 }, /step 0 is the run before its first routine/);
      const ended = boot({ memory: '256M' }).run();
      refuses(ended, { ...ended.snapshot(), outcome: 'booted' }, /crashed at step/);
    });

    it('anything that is not a snapshot', () => {
      const run = boot({ memory: '256M' }).step(10);
      const good = run.snapshot();
      refuses(run, null, /got null/);
      refuses(run, 'step 3', /got "step 3"/);
      refuses(run, { step: 3, routine: null, outcome: 'paused' }, /without the snapshot kind/);
      refuses(run, { ...good, step: -3 }, /integer >= 0/);
      refuses(run, { ...good, step: 2.5 }, /integer >= 0/);
      refuses(run, { ...good, outcome: 'asleep' }, /outcome must be one of/);
      refuses(run, { ...good, routine: 7 }, /routine must be a string or null/);
      refuses(run, { ...good, config: undefined }, /fingerprint must be a string/);
    });
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
    // At start_kernel copy_bootdata's fault has taken a PUD and a PMD page from early_dynamic_pgts;
    // each touch of a new GiB under the same PUD takes one more PMD page, so the pool of
    // EARLY_DYNAMIC_PAGE_TABLES (64) runs out at the touch after capacity - inUseAtStart more pages.
    const inUseAtStart = boot({ variant: '8170e6bed465', platform: 'bare-metal', memory: '1T' }).runTo('start_kernel').current!.kernel.g.next_early_pgt;
    expect(inUseAtStart).toBe(2);
    expect(e.capacity).toBe(64);
    expect(e.inUse[0]).toBe(inUseAtStart + 1);
    expect(e.resetsAfter).toEqual([e.capacity - inUseAtStart]); // 62
    expect(Math.max(...e.inUse)).toBe(e.capacity);
    // after the reset the walk starts again with a fresh PUD and PMD page
    expect(e.inUse[e.capacity - inUseAtStart]).toBe(2);
  });
});
