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
