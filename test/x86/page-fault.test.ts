import { describe, expect, it } from 'vitest';
import { labError } from './lab-error';
import { PFEC_INSTR, PFEC_PRESENT, PFEC_RSVD, PFEC_USER, PFEC_WRITE, decodeErrorCode } from '../../lib';

describe('SDM 4.7 page-fault error code (figure 4-12)', () => {
  it('SDM 4.7: the bits are P=0, W/R=1, U/S=2, RSVD=3, I/D=4', () => {
    expect([PFEC_PRESENT, PFEC_WRITE, PFEC_USER, PFEC_RSVD, PFEC_INSTR]).toEqual([1, 2, 4, 8, 16]);
  });

  it('SDM 4.7: decodes each bit on its own, and prints as Xen does (%04X)', () => {
    for (const [value, field] of [[1, 'present'], [2, 'write'], [4, 'user'], [8, 'reserved'], [16, 'fetch']] as const) {
      const d = decodeErrorCode(value);
      expect(d[field]).toBe(true);
      for (const other of ['present', 'write', 'user', 'reserved', 'fetch'] as const) {
        if (other !== field) expect(d[other]).toBe(false);
      }
    }
    expect(decodeErrorCode(0).hex).toBe('0000');
    expect(decodeErrorCode(0x1b).hex).toBe('001B');
    expect(decodeErrorCode(0).bits[0]).toContain('not present');
    expect(decodeErrorCode(9).bits[3]).toContain('reserved bit');
  });

  it('SDM 4.7: refuses a non-integer or negative error code', () => {
    expect(labError(() => decodeErrorCode(-1)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => decodeErrorCode(1.5)).code).toBe('WRONG_TYPE');
    expect(labError(() => decodeErrorCode('2' as unknown as number)).message).toContain('errorCode');
  });
});
