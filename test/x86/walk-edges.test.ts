/**
 * Edges of lib/x86/walk.ts the first mutation run left unchecked (README "Mutation testing"):
 * a 4 KiB PTE's bit 7 is PAT and its bits 20:13 are address (Intel SDM vol. 3, 4.5, table 4-20),
 * unlike a 2 MiB PDE's, where they are reserved (table 4-18); and the refusals of the public
 * walk's arguments (MAXPHYADDR from 36 to 52, SDM 4.1.4; register groups and the access must be
 * objects), each with its LabError code.
 */
import { describe, expect, it } from 'vitest';
import { E, Space } from './space';
import { labError } from './lab-error';
import { walk, type Access, type PagingRegisters } from '../../lib';
import { newWalkScratch, walkCore } from '../../lib/x86/walk';

const VA = 'ffff888012345678';
const READ: Access = { kind: 'read', user: false };

describe('SDM 4.5 table 4-20: a PTE\'s bit 7 is PAT, its bits 20:13 address', () => {
  it('a PTE with PAT and address bits 20:13 set translates (no reserved-bit fault)', () => {
    const s = new Space();
    s.map(VA, 0xabc1fe000n, E.P | E.PS); // E.PS is bit 7: PAT in a PTE
    const r = walk(s.mem, { cr3: s.cr3 }, VA, READ);
    expect(r.ok).toBe(true);
    expect(r.pa).toBe(0xabc1fe678n);
  });

  it('the same bits 20:13 in a 2 MiB PDE are reserved (table 4-18): fault with RSVD', () => {
    const s = new Space();
    s.map(VA, 0xabc000000n | 0x1fe000n, E.P | E.PS, { level: 2 });
    const r = walk(s.mem, { cr3: s.cr3 }, VA, READ);
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.kind, r.level, r.errorCode]).toEqual(['reserved-bit', 2, 0b1001]);
  });
});

describe('refusals of walk\'s arguments', () => {
  const s = new Space();
  const call = (regs: unknown, access: unknown = READ) => () => walk(s.mem, regs as PagingRegisters, VA, access as Access);

  it('regs must be an object; MAXPHYADDR an integer from 36 to 52', () => {
    const e = labError(call(5));
    expect(e.code).toBe('WRONG_TYPE');
    expect(e.message).toContain('regs must be an object');
    for (const maxPhysAddr of [35, 40.5, 53]) {
      expect(labError(call({ cr3: s.cr3, maxPhysAddr })).code).toBe('VALUE_OUT_OF_RANGE');
    }
    expect(walk(s.mem, { cr3: s.cr3, maxPhysAddr: 36 }, VA, READ).ok).toBe(false); // nothing mapped: a fault, not a refusal
  });

  it('a register group given as null, and a null access, are the wrong type', () => {
    expect(labError(call({ cr3: s.cr3, cr0: null })).code).toBe('WRONG_TYPE');
    expect(labError(call({ cr3: s.cr3, efer: null })).code).toBe('WRONG_TYPE');
    expect(labError(call({ cr3: s.cr3 }, null)).code).toBe('WRONG_TYPE');
  });
});

describe('walkCore names the leaf entry it used (the entry a caller rewrites to move a mapping)', () => {
  it('for a 4 KiB page the PTE, for a 2 MiB page the PDE: the addresses the tables were built at', () => {
    const ctl = (s: Space) => ({ pml4: s.pml4, wp: false, smep: false, smap: false, ac: false, nxe: true, maxPhysAddr: 46 });
    const va4k = 'ffff888012345678';
    const s = new Space();
    const pas = s.map(va4k, 0x1234000n, E.P);
    const out = newWalkScratch();
    expect(walkCore(s.mem, ctl(s), 0x888012345678, 0, out, null)).toBe(true);
    expect(out.leafEntryPa).toBe(Number(pas[1]));
    const s2 = new Space();
    const pas2 = s2.map(va4k, 0x40000000n, E.P | E.PS, { level: 2 });
    expect(walkCore(s2.mem, ctl(s2), 0x888012345678, 0, out, null)).toBe(true);
    expect(out.leafEntryPa).toBe(Number(pas2[2]));
  });
});
