import { describe, expect, it } from 'vitest';
import { labError } from './lab-error';
import { PhysicalMemory } from '../../lib';

describe('physical memory (SDM 4.1.4 MAXPHYADDR)', () => {
  it('SDM 4.1.4: frames are sparse: reading an unwritten frame gives zero and allocates nothing', () => {
    const mem = new PhysicalMemory();
    expect(mem.read64(0x123456780n)).toBe(0n);
    expect(mem.readWord(0x99999000)).toBe(0);
    expect(mem.frameCount).toBe(0);
    expect(mem.hasFrame(0x123456)).toBe(false);
  });

  it('SDM 4.1.4: a write allocates one zeroed frame and reads back; neighbours stay zero', () => {
    const mem = new PhysicalMemory();
    mem.write64('0x3ffff8', 0x8000000012345067n);
    expect(mem.frameCount).toBe(1);
    expect(mem.hasFrame(0x3ff)).toBe(true);
    expect(mem.read64(0x3ffff8n)).toBe(0x8000000012345067n);
    expect(mem.read64(0x3ffff0n)).toBe(0n);
    expect(mem.readWord(0x3ffff8)).toBe(0x12345067);
    expect(mem.readWord(0x3ffffc)).toBe(0x80000000);
    mem.writeWord(0x3ff000, 0xdeadbeef);
    expect(mem.read64(0x3ff000n)).toBe(0xdeadbeefn);
    expect(Array.from(mem.words(0x3ff)).filter((w) => w !== 0)).toHaveLength(3);
  });

  it('SDM 4.1.4: allocFrame hands out distinct zeroed frames; clearFrame and clone behave', () => {
    const mem = new PhysicalMemory();
    const a = mem.allocFrame();
    const b = mem.allocFrame();
    expect(a).not.toBe(b);
    mem.write64(BigInt(a * 4096), 7n);
    const copy = mem.clone();
    mem.clearFrame(a);
    expect(mem.read64(BigInt(a * 4096))).toBe(0n);
    expect(copy.read64(BigInt(a * 4096))).toBe(7n);
    expect(copy.allocFrame()).not.toBe(b);
    mem.write64(BigInt(b * 4096 + 8), 1n);
    expect(copy.read64(BigInt(b * 4096 + 8))).toBe(0n);
  });

  it('SDM 4.1.4: refuses addresses above MAXPHYADDR, misaligned or malformed ones, bad values, and leaves memory unchanged', () => {
    const mem = new PhysicalMemory({ maxPhysAddr: 36 });
    mem.write64(0x1000n, 5n);
    const before = Array.from(mem.words(1));
    const cases: Array<[() => unknown, string, string]> = [
      [() => mem.write64(1n << 36n, 1n), 'ADDRESS_OUT_OF_RANGE', 'MAXPHYADDR'],
      [() => mem.write64(0x1004n, 1n), 'ADDRESS_OUT_OF_RANGE', '8-byte aligned'],
      [() => mem.write64('0x10g0', 1n), 'MALFORMED_ADDRESS', 'pa'],
      [() => mem.write64(0x1000n, 1n << 64n), 'VALUE_OUT_OF_RANGE', 'value'],
      [() => mem.write64(0x1000n, -1n), 'VALUE_OUT_OF_RANGE', 'value'],
      [() => mem.write64(0x1000n, 1 as unknown as bigint), 'WRONG_TYPE', 'value'],
      [() => mem.read64(0x1000 as unknown as bigint), 'WRONG_TYPE', 'pa'],
      [() => mem.words(2 ** 24), 'FRAME_OUT_OF_RANGE', 'frame'],
      [() => mem.words(-1), 'FRAME_OUT_OF_RANGE', 'frame'],
      [() => mem.checkFrame('pfn', 1.5), 'WRONG_TYPE', 'pfn'],
      [() => mem.writeWord(2 ** 36, 1), 'FRAME_OUT_OF_RANGE', 'frame'],
    ];
    for (const [fn, code, text] of cases) {
      const e = labError(fn);
      expect(e.code).toBe(code);
      expect(e.message).toContain(text);
    }
    expect(Array.from(mem.words(1))).toEqual(before);
    expect(mem.frameCount).toBe(1);
    expect(labError(() => new PhysicalMemory({ maxPhysAddr: 53 })).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => new PhysicalMemory({ maxPhysAddr: 35 })).code).toBe('VALUE_OUT_OF_RANGE');
  });

  it('SDM 4.1.4: allocFrame refuses once every frame below MAXPHYADDR is used', () => {
    const mem = new PhysicalMemory({ maxPhysAddr: 36 });
    // Occupy the last frame and move the cursor next to it without allocating 2^24 frames.
    (mem as unknown as { nextFree: number }).nextFree = mem.frameLimit - 1;
    expect(mem.allocFrame()).toBe(mem.frameLimit - 1);
    expect(labError(() => mem.allocFrame()).code).toBe('FRAME_OUT_OF_RANGE');
  });
});
