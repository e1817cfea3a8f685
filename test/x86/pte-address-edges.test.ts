/**
 * Edges of lib/x86/pte.ts and lib/x86/address.ts that the first mutation runs left unchecked
 * (README "Mutation testing"): what bit 7 means at each level (Intel SDM vol. 3, 4.5, tables
 * 4-15 to 4-19: PAT in a PTE, PS in a PDE or PDPTE, reserved in a PML4E, whose bits 51:12 are all
 * address), the flag names a dump prints for it, and the refusals of the encoders and formatters
 * (each with its LabError code).
 */
import { describe, expect, it } from 'vitest';
import { labError } from './lab-error';
import { decodePte, encodePte, pteFlagNames, splitU64, type PteFields } from '../../lib';
import { checkVa48, hex16, parseU64 } from '../../lib/x86/address';

describe('bit 7 by level (SDM 4.5, tables 4-15 to 4-19)', () => {
  it('a PML4E has no PAT and no large page: with bit 7 set, bit 12 is still address; PAT cannot be encoded', () => {
    const f = decodePte(0x0000000123457081n, 4); // P, bit 7, address bits 12 and up
    expect(f.address).toBe(0x123457000n);
    expect(f.pat).toBe(false);
    const e = labError(() => encodePte({ present: true, pageSize: true, pat: true, address: 0x1000n }, 4));
    expect(e.code).toBe('BAD_CONFIG');
    expect(e.message).toMatch(/got level 4$/);
    expect(labError(() => encodePte({ pat: true }, 3)).message).toMatch(/got level 3 without pageSize$/);
  });

  it('flag names: P only when present; PWT, PCD; PSE only for a PDE or PDPTE with bit 7; PAT for a PTE with bit 7', () => {
    expect(pteFlagNames(0x18, 0, 1)).toEqual(['ro', 'sup', 'PWT', 'PCD', 'x']);
    expect(pteFlagNames(0x81, 0, 1)).toEqual(['P', 'ro', 'sup', 'PAT', 'x']);
    expect(pteFlagNames(0x81, 0, 2)).toEqual(['P', 'ro', 'sup', 'PSE', 'x']);
    expect(pteFlagNames(0x81, 0, 3)).toEqual(['P', 'ro', 'sup', 'PSE', 'x']);
    expect(pteFlagNames(0x81, 0, 4)).toEqual(['P', 'ro', 'sup', 'x']);
    expect(pteFlagNames(0x01, 0, 2)).toEqual(['P', 'ro', 'sup', 'x']);
    const [lo, hi] = splitU64(0x8000000000000001n);
    expect(pteFlagNames(lo, hi, 4)).toEqual(['P', 'ro', 'sup', 'NX']);
  });
});

describe('refusals: the LabError code for each bad argument', () => {
  it('encodePte: fields must be an object; available an integer 0..0x3fff; address a non-negative aligned bigint', () => {
    expect(labError(() => encodePte(5 as unknown as PteFields)).code).toBe('WRONG_TYPE');
    for (const available of [-1, 1.5, '3' as unknown as number]) {
      expect(labError(() => encodePte({ available })).code).toBe('VALUE_OUT_OF_RANGE');
    }
    expect(labError(() => encodePte({ address: -4096n })).code).toBe('VALUE_OUT_OF_RANGE');
  });

  it('parseU64 ignores surrounding blanks; checkVa48 takes numbers only', () => {
    expect(parseU64('v', '  0x1000 ')).toBe(0x1000n);
    expect(labError(() => checkVa48('va48', 5n)).code).toBe('WRONG_TYPE');
    expect(labError(() => checkVa48('va48', 1.5)).code).toBe('VALUE_OUT_OF_RANGE');
  });

  it('hex16: 0 and 2^64 - 1 format; a negative bigint is out of range; a string is the wrong type', () => {
    expect(hex16(0)).toBe('0000000000000000');
    expect(hex16(0n)).toBe('0000000000000000');
    expect(hex16(2n ** 64n - 1n)).toBe('ffffffffffffffff');
    expect(labError(() => hex16(-1n)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => hex16(2n ** 64n)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => hex16('12' as unknown as number)).code).toBe('WRONG_TYPE');
  });
});
