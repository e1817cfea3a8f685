import { describe, expect, it } from 'vitest';
import { labError } from './lab-error';
import {
  addressFromIndices, canonicalAddress, checkVa48, formatVirtualAddress, hex16, isCanonical, parseU64,
  parseVirtualAddress, splitVirtualAddress, tableIndex,
} from '../../lib';

describe('SDM 3.3.7.1 canonical addresses', () => {
  it('SDM 3.3.7.1: accepts both halves and keeps bits 47:0 as a number', () => {
    expect(parseVirtualAddress('va', 'ffffea000005b2d0')).toBe(0xea000005b2d0);
    expect(parseVirtualAddress('va', '0x00007fffffffffff')).toBe(0x7fffffffffff);
    expect(parseVirtualAddress('va', 0xffff800000000000n)).toBe(0x800000000000);
    expect(parseVirtualAddress('va', '0')).toBe(0);
    expect(parseVirtualAddress('va', '0XFFFF_8800_0000_0000')).toBe(0x880000000000);
    expect(parseVirtualAddress('va', 'ffff`ea00`0005`b2d0')).toBe(0xea000005b2d0);
  });

  it('SDM 3.3.7.1: refuses addresses whose bits 63:47 differ, naming the argument and the ranges', () => {
    for (const bad of ['0000800000000000', 'ffff7fffffffffff', '8000000000000000', 0x0001000000000000n]) {
      const e = labError(() => parseVirtualAddress('va', bad));
      expect(e.code).toBe('NON_CANONICAL');
      expect(e.message).toContain('va ');
      expect(e.message).toContain('ffff800000000000-ffffffffffffffff');
    }
    expect(isCanonical(0x00007fffffffffffn)).toBe(true);
    expect(isCanonical(0x0000800000000000n)).toBe(false);
    expect(isCanonical(0xffff800000000000n)).toBe(true);
    expect(isCanonical(0xfffe800000000000n)).toBe(false);
  });

  it('SDM 3.3.7.1: refuses malformed hex, more than 64 bits and wrong types', () => {
    expect(labError(() => parseU64('va', 'xyz')).code).toBe('MALFORMED_ADDRESS');
    expect(labError(() => parseU64('va', '')).code).toBe('MALFORMED_ADDRESS');
    expect(labError(() => parseU64('va', '-1')).code).toBe('MALFORMED_ADDRESS');
    expect(labError(() => parseU64('va', '1ffffffffffffffff')).code).toBe('MALFORMED_ADDRESS');
    expect(labError(() => parseU64('va', 1n << 64n)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => parseU64('va', -1n)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => parseU64('va', 4096)).code).toBe('WRONG_TYPE');
    expect(labError(() => parseU64('va', null)).code).toBe('WRONG_TYPE');
    const e = labError(() => parseVirtualAddress('regs.rip', 'ffffea00zz'));
    expect(e.message).toContain('regs.rip');
    expect(e.message).toContain('"ffffea00zz"');
  });

  it('SDM 3.3.7.1: formats 48-bit values sign-extended from bit 47, and round-trips', () => {
    expect(formatVirtualAddress(0xea000005b2d0)).toBe('ffffea000005b2d0');
    expect(formatVirtualAddress(0x1000)).toBe('0000000000001000');
    expect(canonicalAddress(0x800000000000)).toBe(0xffff800000000000n);
    expect(canonicalAddress(0x7fffffffffff)).toBe(0x7fffffffffffn);
    for (const text of ['ffffea000005b2d0', '0000000000000000', '00007ffffffff000', 'ffff800000000000', 'ffffffffffffffff']) {
      expect(formatVirtualAddress(parseVirtualAddress('va', text))).toBe(text);
    }
    expect(hex16(0x1234)).toBe('0000000000001234');
    expect(hex16(0xffffffffffffffffn)).toBe('ffffffffffffffff');
  });

  it('SDM 3.3.7.1: the number helpers refuse values outside 0..2^48-1 and non-integers', () => {
    expect(labError(() => formatVirtualAddress(2 ** 48)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => canonicalAddress(-1)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => checkVa48('va48', 1.5)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => checkVa48('va48', 0xffff880000000000n)).code).toBe('WRONG_TYPE');
    expect(labError(() => hex16(-1)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => hex16(1n << 64n)).code).toBe('VALUE_OUT_OF_RANGE');
  });
});

describe('SDM 4.5 address indices (figure 4-8)', () => {
  it('SDM 4.5: splits the seed address into PML4 468, PDPT 0, PD 0, PT 91, offset 0x2d0', () => {
    expect(splitVirtualAddress('ffffea000005b2d0')).toEqual({
      address: 'ffffea000005b2d0', pml4: 468, pdpt: 0, pd: 0, pt: 91, offset: 0x2d0,
    });
  });

  it('SDM 4.5: each index takes its own 9 bits and addressFromIndices inverts the split', () => {
    const va48 = addressFromIndices(0x1d4, 0x1a3, 0x0f1, 0x1ff, 0xabc);
    expect(tableIndex(va48, 4)).toBe(0x1d4);
    expect(tableIndex(va48, 3)).toBe(0x1a3);
    expect(tableIndex(va48, 2)).toBe(0x0f1);
    expect(tableIndex(va48, 1)).toBe(0x1ff);
    expect(va48 % 4096).toBe(0xabc);
    expect(splitVirtualAddress(canonicalAddress(va48))).toMatchObject({ pml4: 0x1d4, pdpt: 0x1a3, pd: 0xf1, pt: 0x1ff, offset: 0xabc });
  });

  it('SDM 4.5: refuses out-of-range indices, offsets and levels', () => {
    expect(labError(() => addressFromIndices(512, 0, 0, 0)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => addressFromIndices(0, -1, 0, 0)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => addressFromIndices(0, 0, 0, 0, 4096)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => addressFromIndices(0, 0, 1.5, 0)).code).toBe('WRONG_TYPE');
    expect(labError(() => tableIndex(0, 5)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => splitVirtualAddress('ffff0000000000000')).code).toBe('MALFORMED_ADDRESS');
  });
});

describe('formatVirtualAddress without BigInt', () => {
  it('prints the same 16 digits as the canonical BigInt for both halves and the edges', () => {
    for (const va of [0, 1, 0xfff, 2 ** 47 - 1, 2 ** 47, 2 ** 47 + 0x1234, 2 ** 48 - 8, 0x7fff_ffff_f000, 0x0000_ea00_0005_b2d0]) {
      expect(formatVirtualAddress(va)).toBe(canonicalAddress(va).toString(16).padStart(16, '0'));
    }
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const va = (x % 2 ** 24) * 2 ** 24 + ((x * 7919) % 2 ** 24); // spread over all 48 bits
      expect(formatVirtualAddress(va)).toBe(canonicalAddress(va).toString(16).padStart(16, '0'));
    }
    expect(() => formatVirtualAddress(2 ** 48)).toThrow();
  });
});
