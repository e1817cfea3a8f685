/**
 * Edges of lib/x86/ptdump.ts the mutation run left unchecked (README "Mutation testing"): an entry
 * the hardware would fault on with the RSVD bit (Intel SDM vol. 3, 4.5 tables 4-15 to 4-19: bit 7 of
 * a PML4E; bits 51:MAXPHYADDR at any level; bits 29:13 of a 1 GiB PDPTE) maps nothing, so the dump
 * counts it in reservedEntries and leaves it out of the runs; the tables it visits are counted per
 * level; the options are checked (MAXPHYADDR an integer from 36 to 52).
 */
import { describe, expect, it } from 'vitest';
import { E, Space } from './space';
import { labError } from './lab-error';
import { ptdump } from '../../lib';

describe('ptdump: reserved entries and table counts', () => {
  it('a PML4E with bit 7, a PDPTE with an address bit above MAXPHYADDR and a 1 GiB PDPTE with bit 13 map nothing', () => {
    const s = new Space(); // MAXPHYADDR 46
    s.map('ffff888000000000', 0x0n, E.P | E.RW, { level: 3 });
    s.mem.write64(BigInt(s.pml4) + 0x111n * 8n, s.mem.read64(BigInt(s.pml4) + 0x111n * 8n) | E.PS); // PML4E bit 7
    s.map('0000008000000000', 0x40000000n | (1n << 46n), E.P | E.RW | E.PS, { level: 3 }); // address bit 46
    s.map('0000010000000000', 0x80000000n | 0x2000n, E.P | E.RW | E.PS, { level: 3 }); // bit 13 of a 1 GiB page
    s.map('0000018000000000', 0xc0000000n, E.P | E.RW | E.PS, { level: 3 }); // a good 1 GiB page
    const dump = ptdump(s.mem, s.cr3);
    expect(dump.reservedEntries).toBe(3);
    expect(dump.runs.map((r) => [r.start.toString(16), r.size])).toEqual([['18000000000', 2 ** 30]]);
    expect(dump.tables).toEqual({ pml4: 1, pdpt: 3, pd: 0, pt: 0 });
  });

  it('options must be an object; options.maxPhysAddr an integer from 36 to 52', () => {
    const s = new Space();
    expect(labError(() => ptdump(s.mem, s.cr3, 5 as unknown as object)).code).toBe('WRONG_TYPE');
    for (const maxPhysAddr of [35, 40.5, 53]) expect(labError(() => ptdump(s.mem, s.cr3, { maxPhysAddr })).code).toBe('VALUE_OUT_OF_RANGE');
    expect(ptdump(s.mem, s.cr3, { maxPhysAddr: 36 }).runs).toEqual([]);
  });
});
