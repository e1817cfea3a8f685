/**
 * Edges of lib/x86/mmu.ts the mutation run left unchecked (README "Mutation testing"), against the
 * Intel SDM vol. 3: MOV to CR3 drops bits 11:0 (PWT, PCD; 4.5, table 4-12); a translation to
 * physical address 0 is a translation; a kind given alone is a supervisor access; MOV to CR4
 * flushes the TLB when it changes PGE or sets SMEP, not when it changes SMAP (4.10.4.1), and a
 * TLB hit is checked against the SMEP now in force (4.6); the refusals of bad arguments.
 */
import { describe, expect, it } from 'vitest';
import { E, Space } from './space';
import { labError } from './lab-error';
import { Mmu, PFEC_INSTR, PhysicalMemory, parseVirtualAddress, type MmuOptions } from '../../lib';

const VA = 'ffff888012345678';
const va48 = parseVirtualAddress('va', VA);
const READ = 0;

function setup(leaf: bigint, pa = 0x5000n, options: Omit<MmuOptions, 'cr3'> = {}): { s: Space; mmu: Mmu } {
  const s = new Space();
  s.map(VA, pa, leaf);
  return { s, mmu: new Mmu(s.mem, { cr3: s.cr3, ...options }) };
}

describe('Mmu edges', () => {
  it('MOV to CR3 ignores bits 11:0 (PWT and PCD): the same PML4 is used', () => {
    const { s, mmu } = setup(E.P | E.RW);
    mmu.loadCr3(s.pml4 | 0x18);
    expect(mmu.translate(va48, READ)).toBe(0x5678);
    expect(labError(() => mmu.loadCr3(1.5)).code).toBe('ADDRESS_OUT_OF_RANGE');
  });

  it('a page at physical address 0 translates (pa 0 is not a fault)', () => {
    const { mmu } = setup(E.P | E.RW, 0n);
    expect(mmu.translateAddress(VA, 'read')).toEqual({ ok: true, pa: 0x678n, tlbHit: false });
    expect(mmu.translateAddress('ffff888012345000', 'read')).toEqual({ ok: true, pa: 0n, tlbHit: true });
  });

  it('an access kind given alone is a supervisor access: a supervisor-only page can be read', () => {
    const { mmu } = setup(E.P | E.RW); // U/S = 0 in the leaf
    expect(mmu.translateAddress(VA, 'read').ok).toBe(true);
    expect(mmu.translateAddress(VA, { kind: 'read', user: true }).ok).toBe(false);
  });

  it('MOV to CR4 changing only SMAP keeps the TLB, PGE included; setting SMEP flushes it', () => {
    const { s, mmu } = setup(E.P | E.RW | E.US | E.G, 0x5000n, { cr4: { pge: true } });
    expect(mmu.translateAddress(VA, 'read').tlbHit).toBe(false);
    mmu.setCr4({ smap: true });
    mmu.setCr4({ smap: false });
    expect(mmu.translateAddress(VA, 'read').tlbHit).toBe(true);
    mmu.loadCr3(s.pml4); // CR4.PGE is still set: the global entry survives
    expect(mmu.translateAddress(VA, 'read').tlbHit).toBe(true);
    mmu.setCr4({ smep: true });
    expect(mmu.translateAddress(VA, 'read').tlbHit).toBe(false);
  });

  it('SMEP set after a user page was cached: a supervisor fetch from it faults even on a TLB hit', () => {
    const { mmu } = setup(E.P | E.RW | E.US);
    mmu.setCr4({ smep: true });
    expect(mmu.translate(va48, READ)).toBe(0x5678); // a supervisor read is fine, and fills the TLB
    expect(mmu.translate(va48, PFEC_INSTR)).toBe(-1);
    expect(mmu.lastFaultKind).toBe('protection');
  });

  it('refuses bad arguments: options and CR4 bits must be objects; va48 an integer below 2^48', () => {
    const mem = new PhysicalMemory();
    expect(labError(() => new Mmu(mem, 5 as unknown as MmuOptions)).code).toBe('WRONG_TYPE');
    const { mmu } = setup(E.P);
    expect(labError(() => mmu.setCr4(5 as unknown as { pge: boolean })).code).toBe('WRONG_TYPE');
    for (const bad of [-1, 2 ** 48, 1.5]) expect(labError(() => mmu.translate(bad, READ)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(labError(() => mmu.translate('0' as unknown as number, READ)).code).toBe('WRONG_TYPE');
    expect(mmu.translate(0, READ)).toBe(-1); // address 0 is valid: it just is not mapped
  });
});
