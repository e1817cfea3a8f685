import { describe, expect, it } from 'vitest';
import { boot } from '../../lib/lab/boot';
import { LabError } from '../../lib/errors';
import type { Run } from '../../lib/lab/run';
import { stateHash } from '../../lib/lab/time-travel/state-hash';
import { stepOfSeq } from '../../lib/lab/time-travel/step-index';
import { trapTableHistory } from '../../lib/lab/time-travel/trap-table';
import { TraceRecorder } from '../../lib/trace/recorder';
import { SEED_XEN_LINES } from '../support/seed';

const hash = (run: Run): string => stateHash(run.current, run.result().trace).all;
/** A fresh run of the same configuration stepped to `step` from its start, one routine at a time. */
const freshAt = (variant: '8170e6bed465' | '5b5c1af104ab', step: number): Run => boot({ variant, memory: '256M' }).step(step);
/** Throws `code`, and the run's state (hash, step, routine) is as before. */
function refusesUnchanged(run: Run, code: string, f: () => unknown): void {
  const before = [hash(run), run.stepCount, run.routine, run.outcome];
  let caught: unknown = null;
  try { f(); } catch (e) { caught = e; }
  expect(caught).toBeInstanceOf(LabError);
  expect((caught as LabError).code).toBe(code);
  expect([hash(run), run.stepCount, run.routine, run.outcome]).toEqual(before);
}

describe('stepping back', () => {
  it('stepBack(n) leaves the run where a fresh run stands after stepCount - n steps, and stepping forward again gives the state back', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' }).runTo('init_mem_mapping').step(40);
    const n = run.stepCount;
    const there = hash(run);
    const chain = run.result().callChain;
    run.stepBack(7);
    const fresh = freshAt('5b5c1af104ab', n - 7);
    expect(run.stepCount).toBe(n - 7);
    expect(run.routine).toBe(fresh.routine);
    expect(run.result().callChain).toEqual(fresh.result().callChain);
    expect(hash(run)).toBe(hash(fresh));
    expect(hash(run)).not.toBe(there);
    run.step(7);
    expect(run.stepCount).toBe(n);
    expect(run.result().callChain).toEqual(chain);
    expect(hash(run)).toBe(there);
  });

  it('one step back from the crash is the entry of the routine that faulted, paused, before the fault', () => {
    const run = boot({ memory: '256M' }).run();
    const n = run.stepCount;
    run.stepBack();
    expect(run.outcome).toBe('paused');
    expect(run.stepCount).toBe(n - 1);
    expect(hash(run)).toBe(hash(freshAt('8170e6bed465', n - 1)));
    expect(run.result().xenConsole.filter((l) => l.includes('unhandled page fault'))).toEqual([]);
  });

  it('stepBack to step 0 is the run before it started; from step 0 or past it is NO_EARLIER_STEP and nothing changes', () => {
    const run = boot({ memory: '256M' }).step(3);
    refusesUnchanged(run, 'NO_EARLIER_STEP', () => run.stepBack(4));
    run.stepBack(3);
    expect([run.outcome, run.stepCount, run.current]).toEqual(['not-started', 0, null]);
    refusesUnchanged(run, 'NO_EARLIER_STEP', () => run.stepBack());
    refusesUnchanged(run, 'VALUE_OUT_OF_RANGE', () => run.stepBack(0));
  });

  it('runBackTo lands on the last entry of the routine before the current point', () => {
    // Where xen_write_cr3 is entered, found by running forward to it again and again.
    const probe = boot({ memory: '256M' });
    const entries: number[] = [];
    for (probe.runTo('xen_write_cr3'); probe.outcome === 'paused'; probe.runTo('xen_write_cr3')) entries.push(probe.stepCount);
    expect(entries.length).toBeGreaterThan(0);
    const run = boot({ memory: '256M' }).run();
    run.runBackTo('xen_write_cr3');
    expect([run.routine, run.stepCount]).toEqual(['xen_write_cr3', entries[entries.length - 1]]);
    // From that entry, the one before it is the previous entry (or there is none).
    if (entries.length > 1) {
      run.runBackTo('xen_write_cr3');
      expect(run.stepCount).toBe(entries[entries.length - 2]);
    } else {
      refusesUnchanged(run, 'NO_EARLIER_STEP', () => run.runBackTo('xen_write_cr3'));
    }
    refusesUnchanged(run, 'UNKNOWN_SYMBOL', () => run.runBackTo('xen_write_cr4'));
  });
});

describe('run.at(step): a view of any step so far', () => {
  it('shows what a fresh run shows at that step, and the run does not move', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' }).run();
    const end = hash(run);
    const mid = boot({ variant: '5b5c1af104ab', memory: '256M' }).runTo('paging_init');
    const view = run.at(mid.stepCount);
    expect([view.step, view.routine, view.callChain]).toEqual([mid.stepCount, 'paging_init', mid.result().callChain]);
    expect(view.walk('ffffea0000000000')).toEqual(mid.walk('ffffea0000000000'));
    expect(view.walk('ffffea0000000000').ok).toBe(false); // the vmemmap is made in paging_init
    expect(run.walk('ffffea0000000000').ok).toBe(true);
    expect(view.pageTables().mappedBytes).toBe(mid.pageTables().mappedBytes);
    // by paging_init the fixed kernel has run early_trap_pf_init (3.9.6 setup.c:1106): #PF has reached Xen
    expect(view.trapTable()).toEqual(mid.xenTrapTable());
    expect(view.trapTable().map((t) => t.vector)).toEqual([1, 3, 14]);
    expect(hash(run)).toBe(end);
  });

  it('refuses a step out of range, leaving the run as it was', () => {
    const run = boot({ memory: '256M' }).step(20);
    refusesUnchanged(run, 'VALUE_OUT_OF_RANGE', () => run.at(21));
    refusesUnchanged(run, 'VALUE_OUT_OF_RANGE', () => run.at(-1));
    refusesUnchanged(run, 'VALUE_OUT_OF_RANGE', () => run.at(2.5));
    expect(run.at(0).outcome).toBe('not-started');
    // after a step back, the steps seen before stay in range
    run.stepBack(10);
    expect(run.at(20).step).toBe(20);
  });
});

describe('entryHistory: where an entry\'s value came from', () => {
  it('5b5c1af104ab: the vmemmap L4 entry is written once, by vmemmap_populate in paging_init, after init_mem_mapping loaded CR3', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' }).run();
    const h = run.entryHistory('ffffea0000000000', 4);
    expect(h).toHaveLength(1);
    const w = h[0];
    expect(w.callChain).toContain('paging_init');
    expect(w.callChain).toContain('vmemmap_populate');
    expect(w.via).toBe('mmu_update');
    expect(w.before).toBe('0000000000000000');
    // the value written is the one the tables hold now, at the address the walk reads it from
    const l4 = run.walk('ffffea0000000000').steps[0];
    expect(w.after).toBe(l4.entry.toString(16).padStart(16, '0'));
    expect(w.entryPa).toBe(l4.entryAddress.toString(16).padStart(16, '0'));
    // the CR3 loads made inside init_mem_mapping all come before the write
    const trace = run.result().trace;
    const stepOf = stepOfSeq(trace);
    const loads = trace.events.filter((e) => e.type === 'cr3-load' && e.phase === 'init_mem_mapping').map((e) => stepOf(e.seq));
    expect(loads.length).toBeGreaterThan(0);
    expect(Math.max(...loads)).toBeLessThan(w.step);
    // the write shows from the step after it, not before
    expect(run.at(w.step).walk('ffffea0000000000').steps[0].entry).toBe(0n);
    expect(run.at(w.step + 1).walk('ffffea0000000000').steps[0].entry.toString(16).padStart(16, '0')).toBe(w.after);
  });

  it('8170e6bed465: up to the crash nothing has written that entry', () => {
    const run = boot({ memory: '256M' }).run();
    expect(run.outcome).toBe('crashed');
    expect(run.entryHistory('ffffea0000000000', 4)).toEqual([]);
  });

  it('shows the domain builder\'s writes for the entries it made, then the kernel\'s', () => {
    // At xen_start_kernel's entry CR3 is still the builder's L4.
    const first = boot({ variant: '5b5c1af104ab', memory: '256M' }).step(1);
    const l4 = first.entryHistory('ffffffff81000000', 4);
    expect(l4.map((w) => [w.step, w.via, w.routine])).toEqual([[0, 'the domain builder', 'xc_dom_build_image']]);
    expect(l4[0].after).toBe(first.walk('ffffffff81000000').steps[0].entry.toString(16).padStart(16, '0'));
    // Later the kernel's tables point at the builder's L1 pages: the L2 entry was first the builder's, then rewritten.
    const later = boot({ variant: '5b5c1af104ab', memory: '256M' }).runTo('paging_init');
    const l2 = later.entryHistory('ffffffff81000000', 2);
    expect(l2[0].via).toBe('the domain builder');
    expect(l2.slice(1).every((w) => w.step > 0 && w.callChain.length > 0)).toBe(true);
    expect(l2[l2.length - 1].after).toBe(later.walk('ffffffff81000000').steps[2].entry.toString(16).padStart(16, '0'));
  });

  it('refuses a level not 1..4, a non-canonical address and a run not started, changing nothing', () => {
    const run = boot({ memory: '256M' }).step(30);
    refusesUnchanged(run, 'VALUE_OUT_OF_RANGE', () => run.entryHistory('ffffea0000000000', 0));
    refusesUnchanged(run, 'VALUE_OUT_OF_RANGE', () => run.entryHistory('ffffea0000000000', 5));
    refusesUnchanged(run, 'WRONG_TYPE', () => run.entryHistory('ffffea0000000000', '4' as unknown as number));
    refusesUnchanged(run, 'NON_CANONICAL', () => run.entryHistory('0000800000000000', 4));
    refusesUnchanged(run, 'WRONG_TYPE', () => run.entryHistory(12 as unknown as string, 4));
    const idle = boot({ memory: '256M' });
    expect(() => idle.entryHistory('ffffea0000000000', 4)).toThrow(/has not started/);
  });
});

describe('trapTableHistory', () => {
  it('lists each trap-table event with the step it happened in', () => {
    const t = new TraceRecorder();
    t.routine(true, 'xen_start_kernel', 1);
    t.routine(true, 'xen_load_idt', 2);
    t.emit({ type: 'trap-table', vectors: [0, 1, 3], by: 'xen_load_idt' });
    t.routine(false, 'xen_load_idt', 2);
    t.routine(true, 'xen_write_idt_entry', 2);
    t.emit({ type: 'trap-table', vectors: [0, 1, 3, 14], by: 'xen_write_idt_entry' });
    expect(trapTableHistory(t)).toEqual([
      { step: 2, routine: 'xen_load_idt', vectors: [0, 1, 3] },
      { step: 3, routine: 'xen_write_idt_entry', vectors: [0, 1, 3, 14] },
    ]);
  });

  it('follows the run\'s own trace and is Xen-only', () => {
    const run = boot({ memory: '256M' }).run();
    const events = run.result().trace.events.filter((e) => e.type === 'trap-table');
    expect(run.trapTableHistory().map((c) => c.routine)).toEqual(events.map((e) => (e as { by: string }).by));
    const bare = boot({ memory: '256M', platform: 'bare-metal' }).step(2);
    refusesUnchanged(bare, 'NOT_XEN', () => bare.trapTableHistory());
  });
});

describe('explainFault', () => {
  it('reproduces the report\'s walk and says the #PF vector had no entry in Xen\'s trap table', () => {
    const run = boot({ memory: '256M' }).run();
    const before = hash(run);
    const e = run.explainFault();
    expect(hash(run)).toBe(before);
    expect(e.address).toBe(SEED_XEN_LINES[1].replace(/.* from (\w+):$/, '$1'));
    expect(e.failingLevel).toBe(4);
    expect(e.failingBit).toMatch(/^P \(bit 0\)/);
    expect(e.routine).toBe('xen_get_user_pgd');
    const l4 = e.xen!.levels[0];
    // Xen's side of the walk, in show_page_walk's format, is the report's line
    expect(`(XEN)  L4[0x${l4.index.toString(16).padStart(3, '0')}] = ${l4.entry} ${l4.m2p}`).toBe(SEED_XEN_LINES[2]);
    expect(l4.tableType).toBe('PGT_l4_page_table');
    expect(l4.pinned).toBe(true);
    expect(e.xen!.pfEntry).toBeNull();
    expect(e.xen!.bounced).toBe(false);
    expect(e.xen!.trapTable.some((t) => t.vector === 14)).toBe(false);
    expect(e.xen!.why).toMatch(/no entry for vector 14/);
    expect(e.text).toContain('L4[0x1d4]');
  });

  it('with the #PF gate set early, the same fault is bounced to the guest\'s page_fault', () => {
    const e = boot({ memory: '256M', trapsEarly: true }).run().explainFault();
    expect(e.xen!.bounced).toBe(true);
    expect(e.xen!.pfEntry!.symbol).toBe('page_fault');
    expect(e.failingLevel).toBe(4);
  });

  it('on bare metal, names the IDT entry and the early handler\'s decision, with the walk as it was before the handler', () => {
    const run = boot({ memory: '256M', platform: 'bare-metal' }).runTo('init_mem_mapping');
    expect(run.result().counters.pageFaults.earlyPf).toBeGreaterThan(0);
    const e = run.explainFault();
    expect(e.walk.ok).toBe(false);
    expect(e.bareMetal!.idtEntry).toMatch(/^early_idt_handlers\[14\]/);
    expect(e.bareMetal!.decision).toMatch(/early_make_pgtable built/);
    expect(e.xen).toBeNull();
    expect(run.walk(`0x${e.address}`).ok).toBe(true); // the handler made the mapping
  });

  it('with no fault it is NO_FAULT and nothing changes', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' }).step(5);
    refusesUnchanged(run, 'NO_FAULT', () => run.explainFault());
    const idle = boot({ memory: '256M' });
    refusesUnchanged(idle, 'NO_FAULT', () => idle.explainFault());
  });
});

describe('after firstMmSwitch, which no replay repeats', () => {
  it('going back into the mm switch, or replaying for a history, is INVALID_STATE; back into the boot works', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '256M' }).run();
    const end = run.stepCount;
    run.firstMmSwitch();
    expect(run.stepCount).toBeGreaterThan(end + 1);
    refusesUnchanged(run, 'INVALID_STATE', () => run.stepBack(1));
    refusesUnchanged(run, 'INVALID_STATE', () => run.entryHistory('ffffea0000000000', 4));
    refusesUnchanged(run, 'BAD_SNAPSHOT', () => run.restore(run.snapshot()));
    run.stepBack(run.stepCount - end + 1);
    expect([run.stepCount, run.outcome]).toEqual([end - 1, 'paused']);
  });
});
