import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../lib/trace/recorder';

describe('the trace recorder', () => {
  it('keeps routine entries and exits compactly and gives them back as typed events, in order with the rest', () => {
    const t = new TraceRecorder();
    t.enterPhase('setup_arch');
    t.routine(true, 'init_mem_mapping', 4);
    t.emit({ type: 'hypercall', name: 'mmu_update', op: null, result: 0, domid: 7 });
    t.countPteWrites(1, 512);
    t.routine(false, 'init_mem_mapping', 4);
    expect(t.events.map((e) => e.type)).toEqual(['phase', 'hypercall']);
    expect(t.routines.events()).toEqual([
      { type: 'routine-enter', name: 'init_mem_mapping', depth: 4, seq: 1, phase: 'setup_arch' },
      { type: 'routine-leave', name: 'init_mem_mapping', depth: 4, seq: 515, phase: 'setup_arch' },
    ]);
    expect(t.allEvents().map((e) => e.type)).toEqual(['phase', 'routine-enter', 'hypercall', 'routine-leave']);
    expect(t.counters.pteWrites.l1).toBe(512);
    expect(t.countersByPhase.get('setup_arch')?.hypercalls).toEqual({ mmu_update: 1 });
    expect(t.now).toBe(516);
  });

  it('grows past its first block and clones with everything', () => {
    const t = new TraceRecorder();
    for (let i = 0; i < 10000; i++) t.routine(i % 2 === 0, `r${i % 7}`, i % 9);
    const c = t.clone();
    expect(c.routines.length).toBe(10000);
    expect(c.routines.events()[9999]).toEqual(t.routines.events()[9999]);
    expect(c.now).toBe(t.now);
  });

  it('keeps hypercalls, page faults and page-table allocations compactly and gives them back whole, in order with the rest', () => {
    const t = new TraceRecorder();
    const expected: unknown[] = [];
    t.enterPhase('setup_arch');
    expected.push({ type: 'phase', name: 'setup_arch', seq: 0, phase: 'setup_arch' });
    // past the first small block and past one full chunk (16384 records)
    for (let i = 0; i < 40000; i++) {
      const seq = t.now;
      if (i % 3 === 0) {
        t.hypercall('mmu_update', i % 2 === 0 ? null : 'MMU_NORMAL_PT_UPDATE', -i - 1, 7);
        expected.push({ type: 'hypercall', name: 'mmu_update', op: i % 2 === 0 ? null : 'MMU_NORMAL_PT_UPDATE', result: -i - 1, domid: 7, seq, phase: 'setup_arch' });
      } else if (i % 3 === 1) {
        t.emit({ type: 'pt-page-alloc', level: 1, pfn: 0x100000000 + i, by: 'alloc_low_pages' });
        expected.push({ type: 'pt-page-alloc', level: 1, pfn: 0x100000000 + i, by: 'alloc_low_pages', seq, phase: 'setup_arch' });
      } else {
        t.emit({ type: 'page-fault', address: `ffffea${i.toString(16).padStart(10, '0')}`, errorCode: 2, handler: 'bounced', rip: i % 5 === 0 ? null : 'ffff82c480000000' });
        expected.push({ type: 'page-fault', address: `ffffea${i.toString(16).padStart(10, '0')}`, errorCode: 2, handler: 'bounced', rip: i % 5 === 0 ? null : 'ffff82c480000000', seq, phase: 'setup_arch' });
      }
      if (i === 20000) {
        t.emit({ type: 'cr3-load', value: '1a0c000', by: 'xen_write_cr3' });
        expected.push({ type: 'cr3-load', value: '1a0c000', by: 'xen_write_cr3', seq: seq + 1, phase: 'setup_arch' });
      }
    }
    expect(t.events).toEqual(expected);
    expect(t.events).toBe(t.events); // built once while nothing changes
    expect(t.eventsOfType('cr3-load')).toEqual([expected[expected.length - 1 - (40000 - 20001)]]);
    expect(t.eventsOfType('page-fault').length).toBe(13333);
    expect(t.counters.hypercalls).toEqual({ mmu_update: 13334 });
    expect(t.counters.ptPages.l1).toBe(13333);
    expect(t.counters.pageFaults.byHandler.bounced).toBe(13333);
    // a copy made by spreading, by clone and through JSON keeps the events
    expect({ ...t }.events).toEqual(expected);
    expect(t.clone().events).toEqual(expected);
    expect((JSON.parse(JSON.stringify(t)) as { events: unknown[] }).events).toEqual(expected);
  });
});
