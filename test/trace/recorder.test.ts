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
});
