import { describe, expect, it } from 'vitest';
import { RoutineLog } from '../../lib/trace/routine-log';

describe('routine log in chunks', () => {
  it('gives back every record in order across chunk boundaries', () => {
    const log = new RoutineLog();
    const n = 3 * 65536 + 17; // the small first chunk, its growth, then three more chunks
    for (let i = 0; i < n; i++) log.add(i * 2, i % 3 !== 2, i % 5 === 0 ? 'a' : `r${i % 7}`, i % 40, i < 70000 ? 'p1' : 'p2');
    expect(log.length).toBe(n);
    const ev = log.events();
    expect(ev.length).toBe(n);
    for (const i of [0, 4095, 4096, 65535, 65536, 131072, n - 1]) {
      expect(ev[i]).toEqual({
        type: i % 3 !== 2 ? 'routine-enter' : 'routine-leave', name: i % 5 === 0 ? 'a' : `r${i % 7}`,
        depth: i % 40, seq: i * 2, phase: i < 70000 ? 'p1' : 'p2',
      });
    }
    const copy = new RoutineLog();
    copy.appendFrom(log);
    expect(copy.events()).toEqual(ev);
  });
});

describe('routine log seqs', () => {
  it('keeps seqs exactly when they jump by more than 2^32 (a new chunk starts there)', () => {
    const log = new RoutineLog();
    const seqs = [0, 5, 2 ** 32 + 7, 2 ** 32 + 8, 2 ** 45, 2 ** 52 + 1];
    seqs.forEach((q, i) => log.add(q, i % 2 === 0, 'f', 1, 'p'));
    for (let i = 0; i < 5000; i++) log.add(2 ** 52 + 2 + i, true, 'g', 2, 'p'); // fills and grows chunks after a partial one
    const ev = log.events();
    expect(ev.slice(0, seqs.length).map((e) => e.seq)).toEqual(seqs);
    expect(ev.length).toBe(seqs.length + 5000);
    expect(ev[ev.length - 1]).toEqual({ type: 'routine-enter', name: 'g', depth: 2, seq: 2 ** 52 + 2 + 4999, phase: 'p' });
  });
});
