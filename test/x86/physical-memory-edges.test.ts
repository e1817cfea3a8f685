/**
 * Edges of lib/x86/physical-memory.ts and lib/x86/cpu.ts the mutation runs left unchecked (README
 * "Mutation testing"): the frame allocator never hands out a frame that already holds data; its
 * refusal at the top of physical memory says so; a clone keeps MAXPHYADDR (SDM vol. 3, 4.1.4); the
 * refusals state the valid range computed from MAXPHYADDR; a fresh register file is all zero.
 */
import { describe, expect, it } from 'vitest';
import { labError } from './lab-error';
import { PhysicalMemory } from '../../lib';
import { emptyRegisterFile } from '../../lib/x86/cpu';

describe('PhysicalMemory edges', () => {
  it('allocFrame skips frames the guest already wrote; their data stays', () => {
    const mem = new PhysicalMemory();
    mem.write64(0n, 0x1234n);
    mem.write64(2n * 4096n, 0x5678n);
    expect([mem.allocFrame(), mem.allocFrame()]).toEqual([1, 3]);
    expect([mem.read64(0n), mem.read64(2n * 4096n)]).toEqual([0x1234n, 0x5678n]);
  });

  it('past the last frame allocFrame says no frame is left below MAXPHYADDR', () => {
    const mem = new PhysicalMemory({ maxPhysAddr: 36 });
    (mem as unknown as { nextFree: number }).nextFree = mem.frameLimit - 1;
    expect(mem.allocFrame()).toBe(2 ** 24 - 1);
    const e = labError(() => mem.allocFrame());
    expect(e.code).toBe('FRAME_OUT_OF_RANGE');
    expect(e.message).toContain('no frame left below MAXPHYADDR (36 bits');
  });

  it('a clone keeps MAXPHYADDR: an address valid only below 2^40 is refused in the copy too', () => {
    const mem = new PhysicalMemory({ maxPhysAddr: 40 });
    mem.write64(0x1000n, 7n);
    const copy = mem.clone();
    expect(copy.maxPhysAddr).toBe(40);
    expect(copy.read64(0x1000n)).toBe(7n);
    expect(labError(() => copy.read64(1n << 40n)).code).toBe('ADDRESS_OUT_OF_RANGE');
  });

  it('refusals give the valid range computed from MAXPHYADDR (36 bits: frames 0..0xffffff, addresses 0..0xfffffffff)', () => {
    const mem = new PhysicalMemory({ maxPhysAddr: 36 });
    expect(labError(() => mem.checkFrame('frame', 2 ** 24)).message).toContain('frames run from 0 to 0xffffff with MAXPHYADDR 36');
    expect(labError(() => mem.read64(1n << 36n)).message).toContain('36 bits: 0 to 0xfffffffff)');
  });
});

describe('emptyRegisterFile', () => {
  it('every general register and selector is zero', () => {
    const r = emptyRegisterFile();
    const general = ['rip', 'rsp', 'rbp', 'rflags', 'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
    for (const name of general) expect(r[name]).toBe(0n);
    for (const name of ['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const) expect(r[name]).toBe(0);
    expect(Object.keys(r)).toHaveLength(24);
  });
});
