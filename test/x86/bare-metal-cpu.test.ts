import { describe, expect, it } from 'vitest';
import { E, Space } from './space';
import { labError } from './lab-error';
import {
  BareMetalCpu, GuestHalted, MAX_PF_NESTING, MAX_PF_RETRIES, Mmu, parseVirtualAddress, type VirtualCpu,
} from '../../lib';

const SEED = 'ffffea000005b2d0';
const seed48 = parseVirtualAddress('va', SEED);
const LEAF = E.P | E.RW;

function machine(): { s: Space; cpu: BareMetalCpu } {
  const s = new Space();
  const cpu = new BareMetalCpu(new Mmu(s.mem, { cr3: s.cr3, cr0: { wp: true } }));
  return { s, cpu };
}

/** The GuestHalted a call throws. */
function halted(fn: () => unknown): GuestHalted {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GuestHalted);
    return e as GuestHalted;
  }
  throw new Error('expected GuestHalted, but nothing was thrown');
}

describe('BareMetalCpu: accesses through the MMU', () => {
  it('SDM 4.5: reads and writes land at the translated physical address', () => {
    const { s, cpu } = machine();
    s.map(SEED, 0x1234000n, LEAF);
    const vcpu: VirtualCpu = cpu;
    vcpu.write64(seed48, 0x8000000012345067n);
    expect(s.read(0x12342d0n)).toBe(0x8000000012345067n);
    expect(vcpu.read32(seed48)).toBe(0x12345067);
    expect(vcpu.read32(seed48 + 4)).toBe(0x80000000);
    vcpu.write32(seed48 + 8, -1);
    expect(vcpu.read64(seed48 + 8)).toBe(0xffffffffn);
    vcpu.writeQword(seed48 + 16, 0x00000067, 0x80000000);
    expect(s.read(0x12342e0n)).toBe(0x8000000000000067n);
    expect(cpu.pageFaults).toBe(0);
  });

  it('SDM 4.8: clearPage zeroes the page through its mapping (a write: D set), and gives no storage to a never-written frame', () => {
    const { s, cpu } = machine();
    const base = seed48 - (seed48 % 4096);
    const e = s.map(SEED, 0x7000n, LEAF);
    cpu.write64(base + 8, 5n);
    cpu.clearPage(base);
    expect(s.read(0x7008n)).toBe(0n);
    expect(s.read(e[1]) & E.D).toBe(E.D);
    s.map('ffff888000000000', 0x123456000n, LEAF);
    const frames = s.mem.frameCount;
    cpu.clearPage(parseVirtualAddress('va', 'ffff888000000000'));
    expect(s.mem.frameCount).toBe(frames);
    expect(s.mem.hasFrame(0x123456)).toBe(false);
    expect(cpu.pageFaults).toBe(0);
  });

  it('SDM 6.15: clearPage of an unmapped page raises #PF with a write error code', () => {
    const { cpu } = machine();
    expect(halted(() => cpu.clearPage(seed48 - (seed48 % 4096))).reason).toContain('(error code 0002) with no handler');
  });

  it('SDM 4.6.1: accesses are supervisor accesses: a user-only mapping is readable, WP applies', () => {
    const { s, cpu } = machine();
    s.map(SEED, 0x1234000n, E.P | E.US);
    expect(cpu.read32(seed48)).toBe(0);
    expect(halted(() => cpu.write32(seed48, 1)).reason).toContain('error code 0003');
  });
});

describe('BareMetalCpu: #PF delivery (SDM 6.15 Interrupt 14)', () => {
  it('SDM 6.15: CR2 and the error code reach the handler; a handler that maps the page makes the access retry', () => {
    const { s, cpu } = machine();
    const seen: Array<[number, number]> = [];
    cpu.setTrapHandler(14, (cr2, errorCode) => {
      seen.push([cr2, errorCode]);
      s.map(SEED, 0x7000n, LEAF);
      return true;
    });
    cpu.write64(seed48, 42n);
    expect(seen).toEqual([[seed48, 0x2]]);
    expect(cpu.cr2).toBe(seed48);
    expect(s.read(0x72d0n)).toBe(42n);
    expect(cpu.read64(seed48)).toBe(42n);
    expect(cpu.pageFaults).toBe(1);
  });

  it('SDM 4.10.4.1: a protection fault drops the stale entry, so a handler that only rewrites the PTE succeeds without INVLPG', () => {
    const { s, cpu } = machine();
    const entries = s.map(SEED, 0x7000n, E.P);
    expect(cpu.read32(seed48)).toBe(0); // fills the TLB with a read-only entry
    cpu.setTrapHandler(14, () => {
      s.write(entries[1], s.read(entries[1]) | E.RW);
      return true;
    });
    cpu.write32(seed48, 7);
    expect(cpu.read32(seed48)).toBe(7);
    expect(cpu.pageFaults).toBe(1);
  });

  it('SDM 6.15: a fault with no handler halts with a triple fault naming the address and error code', () => {
    const { cpu } = machine();
    const e = halted(() => cpu.read64(seed48));
    expect(e.reason).toBe('triple fault: #PF at ffffea000005b2d0 (error code 0000) with no handler');
    expect(cpu.cr2).toBe(seed48);
    cpu.setTrapHandler(14, () => true);
    cpu.setTrapHandler(14, null);
    expect(halted(() => cpu.write32(seed48, 0)).reason).toContain('error code 0002) with no handler');
  });

  it('SDM 6.15: a handler that returns false halts the machine', () => {
    const { cpu } = machine();
    cpu.setTrapHandler(14, () => false);
    expect(halted(() => cpu.read32(seed48)).reason).toContain('could not fix it');
  });

  it('a handler that claims a fix it did not make halts after MAX_PF_RETRIES instead of looping forever', () => {
    const { cpu } = machine();
    let calls = 0;
    cpu.setTrapHandler(14, () => { calls++; return true; });
    expect(halted(() => cpu.read32(seed48)).reason).toContain('page-fault loop');
    expect(calls).toBe(MAX_PF_RETRIES);
    expect(cpu.pageFaults).toBe(MAX_PF_RETRIES + 1);
  });

  it('SDM 6.15: a fault inside the handler nests; the inner fix lets the outer one finish', () => {
    const { s, cpu } = machine();
    const other = parseVirtualAddress('va', 'ffff888000000000');
    const order: string[] = [];
    cpu.setTrapHandler(14, (cr2) => {
      if (cr2 === seed48) {
        order.push('outer');
        cpu.write32(other, 5); // faults: nothing maps it yet
        s.map(SEED, 0x7000n, LEAF);
      } else {
        order.push('inner');
        s.map('ffff888000000000', 0x8000n, LEAF);
      }
      return true;
    });
    cpu.write32(seed48, 9);
    expect(order).toEqual(['outer', 'inner']);
    expect(s.read(0x8000n)).toBe(5n);
    expect(cpu.read32(seed48)).toBe(9);
  });

  it('faults nested MAX_PF_NESTING deep inside the handler halt the machine', () => {
    const { cpu } = machine();
    let depth = 0;
    cpu.setTrapHandler(14, (cr2) => {
      depth++;
      cpu.read32(cr2 + 4096); // always faults again, one page further
      return true;
    });
    expect(halted(() => cpu.read32(seed48)).reason).toContain(`nested ${MAX_PF_NESTING} deep`);
    expect(depth).toBe(MAX_PF_NESTING);
  });
});

describe('BareMetalCpu: bad input is refused before any access', () => {
  it('refuses misaligned, out-of-range and wrongly typed arguments; no fault raised, memory unchanged', () => {
    const { s, cpu } = machine();
    s.map(SEED, 0x7000n, LEAF);
    const before = s.snapshot();
    const cases: Array<[() => unknown, string, string]> = [
      [() => cpu.read32(seed48 + 2), 'VALUE_OUT_OF_RANGE', '4-byte aligned'],
      [() => cpu.read64(seed48 + 4), 'VALUE_OUT_OF_RANGE', '8-byte aligned'],
      [() => cpu.write64(seed48 + 4, 1n), 'VALUE_OUT_OF_RANGE', '8-byte aligned'],
      [() => cpu.writeQword(seed48 + 4, 1, 0), 'VALUE_OUT_OF_RANGE', '8-byte aligned'],
      [() => cpu.clearPage(seed48), 'VALUE_OUT_OF_RANGE', 'a page'],
      [() => cpu.read32(2 ** 48), 'VALUE_OUT_OF_RANGE', 'va48'],
      [() => cpu.read32(-4), 'VALUE_OUT_OF_RANGE', 'va48'],
      [() => cpu.read32(0xffffea000005b2d0n as unknown as number), 'WRONG_TYPE', 'va48'],
      [() => cpu.write32(seed48, 2 ** 32), 'VALUE_OUT_OF_RANGE', 'value'],
      [() => cpu.write32(seed48, 1.5), 'VALUE_OUT_OF_RANGE', 'value'],
      [() => cpu.write32(seed48, '1' as unknown as number), 'WRONG_TYPE', 'value'],
      [() => cpu.write64(seed48, 1n << 64n), 'VALUE_OUT_OF_RANGE', 'value'],
      [() => cpu.write64(seed48, 1 as unknown as bigint), 'WRONG_TYPE', 'value'],
      [() => cpu.writeQword(seed48, 0, -(2 ** 31) - 1), 'VALUE_OUT_OF_RANGE', 'hi'],
      [() => cpu.writeQword(seed48, NaN, 0), 'VALUE_OUT_OF_RANGE', 'lo'],
      [() => cpu.setTrapHandler(256, () => true), 'VALUE_OUT_OF_RANGE', 'vector'],
      [() => cpu.setTrapHandler(14, 'fix' as unknown as () => boolean), 'WRONG_TYPE', 'handler'],
      [() => new BareMetalCpu({} as Mmu), 'WRONG_TYPE', 'mmu'],
    ];
    for (const [fn, code, text] of cases) {
      const e = labError(fn);
      expect(e.code, text).toBe(code);
      expect(e.message, text).toContain(text);
    }
    expect(s.snapshot()).toEqual(before);
    expect(cpu.pageFaults).toBe(0);
    expect(cpu.mmu.tlb.size).toBe(0);
  });

  it('refuses a handler result that is not a boolean', () => {
    const { cpu } = machine();
    cpu.setTrapHandler(14, (() => 1) as unknown as () => boolean);
    expect(labError(() => cpu.read32(seed48)).message).toContain('must return a boolean');
  });
});
