import { describe, expect, it } from 'vitest';
import { labError } from './lab-error';
import { decodePte, encodePte, entryAddress, joinU64, pteFlagNames, splitU64, type PteFields } from '../../lib';

type Flag = 'present' | 'writable' | 'user' | 'writeThrough' | 'cacheDisable' | 'accessed' | 'dirty' | 'pageSize' | 'global' | 'pat' | 'noExecute';

/** Each flag with the bit it must set at each level (undefined where the flag is refused there). */
const FLAG_BITS: Array<[Flag, (level: number) => bigint | undefined]> = [
  ['present', () => 1n << 0n],
  ['writable', () => 1n << 1n],
  ['user', () => 1n << 2n],
  ['writeThrough', () => 1n << 3n],
  ['cacheDisable', () => 1n << 4n],
  ['accessed', () => 1n << 5n],
  ['dirty', () => 1n << 6n],
  ['pageSize', (l) => (l === 1 ? undefined : 1n << 7n)],
  ['global', () => 1n << 8n],
  ['pat', (l) => (l === 1 ? 1n << 7n : undefined)],
  ['noExecute', () => 1n << 63n],
];

describe('SDM 4.5 paging-structure entries (tables 4-14 to 4-20)', () => {
  for (const level of [1, 2, 3, 4] as const) {
    it(`SDM 4.5: every flag of a level-${level} entry encodes to its bit and decodes back`, () => {
      for (const [flag, bitAt] of FLAG_BITS) {
        const bit = bitAt(level);
        if (bit === undefined) continue;
        const fields: Partial<PteFields> = { [flag]: true, address: 0x123456000n };
        const value = encodePte(fields, level);
        expect(value).toBe(0x123456000n | bit);
        const back = decodePte(value, level);
        expect(back[flag]).toBe(true);
        for (const [other] of FLAG_BITS) if (other !== flag) expect(back[other]).toBe(false);
        expect(back.address).toBe(0x123456000n);
        expect(encodePte(back, level)).toBe(value);
      }
    });
  }

  it('SDM 4.5: PAT is bit 12 in a large leaf and is not part of its address', () => {
    const value = encodePte({ present: true, pageSize: true, pat: true, address: 0x40000000n }, 3);
    expect(value).toBe(0x40000000n | 0x1000n | 0x80n | 1n);
    const fields = decodePte(value, 3);
    expect(fields.pat).toBe(true);
    expect(fields.address).toBe(0x40000000n);
    expect(encodePte(fields, 3)).toBe(value);
  });

  it('SDM 4.5: the available bits (11:9 and 62:52) round-trip', () => {
    for (const available of [0, 1, 7, 8, 0x3ff8, 0x3fff, 0x1555]) {
      const value = encodePte({ present: true, available, address: 0xfffff000n });
      expect(decodePte(value).available).toBe(available);
    }
    expect(encodePte({ available: 0x3fff })).toBe((7n << 9n) | (0x7ffn << 52n));
  });

  it('SDM 4.5: addresses up to bit 51 survive; entryAddress joins the halves as a number', () => {
    const value = encodePte({ present: true, address: 0x000ffffffffff000n });
    expect(decodePte(value).address).toBe(0x000ffffffffff000n);
    const [lo, hi] = splitU64(value);
    expect(entryAddress(lo, hi)).toBe(2 ** 52 - 4096);
    expect(joinU64(lo, hi)).toBe(value);
    expect(decodePte('8000000000000067', 1)).toMatchObject({ noExecute: true, dirty: true, accessed: true, user: true, writable: true });
  });

  it('SDM 4.5: refuses bad values, levels, flag types and meaningless combinations, naming the argument', () => {
    expect(labError(() => decodePte('zz')).code).toBe('MALFORMED_ADDRESS');
    expect(labError(() => decodePte(1n << 64n)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => decodePte(1n, 5 as 1)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => encodePte({ address: 0x1001n })).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => encodePte({ address: 1n << 52n })).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => encodePte({ address: 4096 as unknown as bigint })).code).toBe('VALUE_OUT_OF_RANGE');
    const e = labError(() => encodePte({ present: 'yes' as unknown as boolean }));
    expect(e.code).toBe('WRONG_TYPE');
    expect(e.message).toContain('fields.present');
    expect(labError(() => encodePte({ pageSize: true }, 1)).code).toBe('BAD_CONFIG');
    expect(labError(() => encodePte({ pat: true }, 4)).code).toBe('BAD_CONFIG');
    expect(labError(() => encodePte({ pat: true }, 2)).code).toBe('BAD_CONFIG');
    expect(labError(() => encodePte({ available: 0x4000 })).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => encodePte(null as unknown as PteFields)).code).toBe('WRONG_TYPE');
    expect(labError(() => encodePte({}, 0 as 1)).code).toBe('VALUE_OUT_OF_RANGE');
  });

  it('SDM 4.5: flag names follow Linux ptdump order', () => {
    const [lo, hi] = splitU64(0x8000000000000163n);
    expect(pteFlagNames(lo, hi, 1)).toEqual(['P', 'RW', 'sup', 'A', 'D', 'GLB', 'NX']);
    expect(pteFlagNames(0x85, 0, 2)).toEqual(['P', 'ro', 'USR', 'PSE', 'x']);
  });
});
