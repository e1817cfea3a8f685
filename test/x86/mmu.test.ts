import { describe, expect, it } from 'vitest';
import { E, Space } from './space';
import { labError } from './lab-error';
import {
  Mmu, PFEC_INSTR, PFEC_USER, PFEC_WRITE, parseVirtualAddress, walk, type MmuOptions,
} from '../../lib';

const VA = 'ffff888012345678';
const va48 = parseVirtualAddress('va', VA);
const LEAF = E.P | E.RW | E.US;

/** A space with one 4 KiB mapping of VA to 0x5000 and an MMU on it. */
function setup(leaf: bigint = LEAF, options: Omit<MmuOptions, 'cr3'> = {}): { s: Space; mmu: Mmu; entries: bigint[] } {
  const s = new Space();
  const entries = s.map(VA, 0x5000n, leaf);
  const mmu = new Mmu(s.mem, { cr3: s.cr3, ...options });
  return { s, mmu, entries };
}

describe('Mmu.translate: the walk behind a TLB (SDM 4.5, 4.10)', () => {
  it('SDM 4.10.2.2: the first access walks and fills the TLB; the next one hits', () => {
    const { mmu } = setup();
    expect(mmu.translateAddress(VA, 'read')).toEqual({ ok: true, pa: 0x5678n, tlbHit: false });
    expect(mmu.translateAddress(VA, 'read')).toEqual({ ok: true, pa: 0x5678n, tlbHit: true });
    expect(mmu.translate(va48 - 0x678, 0)).toBe(0x5000);
    expect(mmu.stats).toEqual({ tlbHits: 2, tlbMisses: 1, pageFaults: 0 });
    expect(mmu.tlb.entries()).toHaveLength(1);
  });

  it('SDM 4.7: a fault returns -1 and sets lastErrorCode, lastFaultKind, lastFaultLevel', () => {
    const { mmu } = setup();
    expect(mmu.translate(0x1000, PFEC_WRITE)).toBe(-1);
    expect([mmu.lastErrorCode, mmu.lastFaultKind, mmu.lastFaultLevel]).toEqual([PFEC_WRITE, 'not-present', 4]);
    expect(mmu.translateAddress('0000000000001000', { kind: 'write', user: true })).toEqual({
      ok: false, errorCode: PFEC_WRITE | PFEC_USER, kind: 'not-present', level: 4,
    });
    expect(mmu.stats.pageFaults).toBe(2);
  });

  it('SDM 4.10.4.1: a stale translation is used until INVLPG, as on hardware', () => {
    const { s, mmu, entries } = setup();
    expect(mmu.translate(va48, 0)).toBe(0x5678);
    s.write(entries[1], 0x9000n | LEAF);
    expect(mmu.translate(va48, 0)).toBe(0x5678);
    mmu.invlpg(VA);
    expect(mmu.translate(va48, 0)).toBe(0x9678);
  });

  it('SDM 4.10.4.1: a stale translation is used until a CR3 load (even of the same value)', () => {
    const { s, mmu, entries } = setup();
    mmu.translate(va48, 0);
    s.write(entries[1], 0n);
    expect(mmu.translate(va48, 0)).toBe(0x5678);
    mmu.loadCr3(mmu.cr3);
    expect(mmu.translate(va48, 0)).toBe(-1);
    expect(mmu.lastErrorCode).toBe(0);
  });

  it('SDM 4.10.2.4: global entries survive a CR3 load when CR4.PGE=1; non-global ones do not', () => {
    const { s, mmu, entries } = setup(LEAF | E.G, { cr4: { pge: true } });
    const other = s.map('ffff888000001000', 0x7000n, LEAF);
    const otherVa = parseVirtualAddress('va', 'ffff888000001000');
    mmu.translate(va48, 0);
    mmu.translate(otherVa, 0);
    s.write(entries[1], 0x9000n | LEAF | E.G);
    s.write(other[1], 0x8000n | LEAF);
    mmu.writeCr3(s.cr3);
    expect(mmu.translate(va48, 0)).toBe(0x5678);
    expect(mmu.translate(otherVa, 0)).toBe(0x8000);
    expect(mmu.tlb.entries().find((e) => e.pa === '0000000000005000')?.global).toBe(true);
  });

  it('SDM 4.10.2.4: with CR4.PGE=0 the G bit is ignored: a CR3 load drops the entry', () => {
    const { s, mmu, entries } = setup(LEAF | E.G);
    mmu.translate(va48, 0);
    s.write(entries[1], 0x9000n | LEAF | E.G);
    mmu.loadCr3(mmu.cr3);
    expect(mmu.translate(va48, 0)).toBe(0x9678);
  });

  it('SDM 4.10.4.1: toggling CR4.PGE flushes global entries; INVLPG drops one; rewriting PGE unchanged does not', () => {
    const { s, mmu, entries } = setup(LEAF | E.G, { cr4: { pge: true } });
    mmu.translate(va48, 0);
    s.write(entries[1], 0x9000n | LEAF | E.G);
    mmu.setCr4({ pge: true, smap: false });
    expect(mmu.translate(va48, 0)).toBe(0x5678);
    mmu.setCr4({ pge: false });
    expect(mmu.translate(va48, 0)).toBe(0x9678);
    mmu.setCr4({ pge: true });
    mmu.translate(va48, 0);
    s.write(entries[1], 0xa000n | LEAF | E.G);
    mmu.invlpg(va48);
    expect(mmu.translate(va48, 0)).toBe(0xa678);
  });

  it('SDM 4.8: the first write through an entry filled by a read re-walks and sets D; later writes hit', () => {
    const { s, mmu, entries } = setup();
    mmu.translate(va48, 0);
    expect(s.read(entries[1]) & (E.A | E.D)).toBe(E.A);
    const misses = mmu.stats.tlbMisses;
    expect(mmu.translate(va48, PFEC_WRITE)).toBe(0x5678);
    expect(mmu.stats.tlbMisses).toBe(misses + 1);
    expect(s.read(entries[1]) & E.D).toBe(E.D);
    // Now the entry caches D=1: a write hits and does not touch memory (clear D to see it).
    s.write(entries[1], s.read(entries[1]) & ~E.D);
    expect(mmu.translate(va48, PFEC_WRITE)).toBe(0x5678);
    expect(mmu.stats.tlbMisses).toBe(misses + 1);
    expect(s.read(entries[1]) & E.D).toBe(0n);
  });

  it('SDM 4.8: a leaf whose D is already set is cached writable by a read', () => {
    const { mmu } = setup(LEAF | E.D | E.A);
    mmu.translate(va48, 0);
    mmu.translate(va48, PFEC_WRITE);
    expect(mmu.stats).toEqual({ tlbHits: 1, tlbMisses: 1, pageFaults: 0 });
  });

  it('SDM 4.6.1 (kvm-unit-tests check_toggle_cr0_wp): a CR0.WP change takes effect without a flush', () => {
    const { mmu } = setup(E.P); // supervisor, read-only
    expect(mmu.translate(va48, 0)).toBe(0x5678);
    mmu.setCr0Wp(true);
    expect(mmu.translate(va48, PFEC_WRITE)).toBe(-1);
    expect(mmu.lastErrorCode).toBe(1 | 2);
    mmu.setCr0Wp(false);
    expect(mmu.translate(va48, PFEC_WRITE)).toBe(0x5678);
    expect(mmu.translate(va48, PFEC_WRITE)).toBe(0x5678);
    mmu.setCr0Wp(true);
    expect(mmu.translate(va48, PFEC_WRITE)).toBe(-1);
    expect(mmu.translate(va48, 0)).toBe(0x5678);
  });

  it('SDM 4.6.1: SMAP and RFLAGS.AC, and SMEP, take effect on cached translations', () => {
    const { mmu } = setup();
    mmu.translate(va48, 0);
    mmu.setCr4({ smap: true });
    expect(mmu.translate(va48, 0)).toBe(-1);
    mmu.setAc(true);
    expect(mmu.translate(va48, 0)).toBe(0x5678);
    expect(mmu.translate(va48, PFEC_INSTR)).toBe(0x5678);
    mmu.setCr4({ smep: true });
    expect(mmu.translate(va48, PFEC_INSTR)).toBe(-1);
    expect(mmu.lastErrorCode).toBe(1 | 16);
  });

  it('SDM 4.5/4.6.1: EFER.NXE changes take effect on cached translations (XD honoured, then reserved)', () => {
    const { mmu } = setup(LEAF | E.NX, { efer: { nxe: true } });
    expect(mmu.translate(va48, 0)).toBe(0x5678);
    expect(mmu.translate(va48, PFEC_INSTR)).toBe(-1);
    expect(mmu.lastErrorCode).toBe(1 | 16);
    mmu.translate(va48, 0);
    mmu.setNxe(false);
    expect(mmu.translate(va48, 0)).toBe(-1);
    expect([mmu.lastErrorCode, mmu.lastFaultKind]).toEqual([1 | 8, 'reserved-bit']);
  });

  it('SDM 4.10.4.1: a page fault drops the faulting page\'s stale entry', () => {
    const { s, mmu, entries } = setup();
    mmu.translate(va48, 0);
    s.write(entries[1], 0n);
    expect(mmu.translate(va48, 0)).toBe(0x5678); // stale, as hardware
    expect(mmu.translate(va48, PFEC_WRITE)).toBe(-1); // D clear: re-walks, finds P=0
    expect(mmu.translate(va48, 0)).toBe(-1); // the fault dropped the entry
  });

  it('SDM 4.10.4.1: INVLPG anywhere in a 2 MiB page drops its translation', () => {
    const s = new Space();
    const e = s.map(VA, 0x40000000n, LEAF | E.PS, { level: 2 });
    const mmu = new Mmu(s.mem, { cr3: s.cr3 });
    const base = va48 - (va48 % 2 ** 21);
    expect(mmu.translate(base + 0x1000, 0)).toBe(0x40001000);
    expect(mmu.translate(base + 0x1ff000, 0)).toBe(0x401ff000);
    expect(mmu.tlb.size).toBe(1);
    s.write(e[2], 0x80000000n | LEAF | E.PS);
    mmu.invlpg(base + 0x77000);
    expect(mmu.translate(base + 0x1000, 0)).toBe(0x80001000);
  });

  it('SDM 4.6.1 (kvm-unit-tests check_effective_sp_permissions): rights follow the path, per page', () => {
    const s = new Space();
    const rw = s.map('ffff888000000000', 0x5000n, LEAF);
    const pd = s.read(rw[3]) & 0x000ffffffffff000n;
    // A second PDPTE, read-only, pointing at the same PD.
    s.map('ffff888040000000', 0n, 0n);
    const ro = s.map('ffff888040000000', 0x5000n, LEAF);
    s.write(ro[3], pd | E.P | E.US);
    const mmu = new Mmu(s.mem, { cr3: s.cr3, cr0: { wp: true } });
    const a = parseVirtualAddress('va', 'ffff888000000000');
    const b = parseVirtualAddress('va', 'ffff888040000000');
    expect(mmu.translate(a, 0)).toBe(0x5000);
    expect(mmu.translate(b, 0)).toBe(0x5000);
    expect(mmu.translate(a, PFEC_WRITE)).toBe(0x5000);
    expect(mmu.translate(b, PFEC_WRITE)).toBe(-1);
  });

  it('SDM 4.10.2.2: a small TLB evicts and stays correct over many pages', () => {
    const s = new Space();
    const mmu = new Mmu(s.mem, { cr3: s.cr3, tlbEntries: 16 });
    for (let i = 0; i < 64; i++) s.map(0xffff888000000000n + BigInt(i) * 4096n, BigInt(0x100000 + i * 4096), LEAF);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 64; i++) expect(mmu.translate(0x888000000000 + i * 4096 + 8, 0)).toBe(0x100000 + i * 4096 + 8);
    }
    expect(mmu.tlb.size).toBeLessThanOrEqual(16);
  });

  it('the registers round-trip to walk() and describe the same tables', () => {
    const { s, mmu } = setup(LEAF, { cr0: { wp: true }, cr4: { pge: true, smap: true }, efer: { nxe: true }, rflags: { ac: true } });
    expect(mmu.registers).toEqual({
      cr3: s.cr3, cr0: { wp: true }, cr4: { pge: true, smep: false, smap: true }, efer: { nxe: true }, rflags: { ac: true }, maxPhysAddr: 46,
    });
    const r = walk(s.mem, mmu.registers, VA, { kind: 'read', user: false });
    expect(r.ok && r.pa).toBe(0x5678n);
  });
});

describe('Mmu: bad input is refused before anything changes', () => {
  it('refuses each bad argument with its code, naming it; TLB, registers and memory unchanged', () => {
    const { s, mmu } = setup(LEAF | E.G, { cr4: { pge: true } });
    mmu.translate(va48, 0);
    const memBefore = s.snapshot();
    const regsBefore = mmu.registers;
    const tlbBefore = mmu.tlb.entries();
    const cases: Array<[() => unknown, string, string]> = [
      [() => mmu.translate(2 ** 48, 0), 'VALUE_OUT_OF_RANGE', 'va48'],
      [() => mmu.translate(-4096, 0), 'VALUE_OUT_OF_RANGE', 'va48'],
      [() => mmu.translate(4096.5, 0), 'VALUE_OUT_OF_RANGE', 'va48'],
      [() => mmu.translate(0xffff888000000000n as unknown as number, 0), 'WRONG_TYPE', 'va48'],
      [() => mmu.translate(va48, 1), 'UNKNOWN_ACCESS_KIND', 'access'],
      [() => mmu.translate(va48, PFEC_WRITE | PFEC_INSTR), 'UNKNOWN_ACCESS_KIND', 'access'],
      [() => mmu.translate(va48, 'read' as unknown as number), 'WRONG_TYPE', 'access'],
      [() => mmu.translateAddress('0000800000000000', 'read'), 'NON_CANONICAL', 'va'],
      [() => mmu.translateAddress(VA, 'exec' as 'read'), 'UNKNOWN_ACCESS_KIND', 'access.kind'],
      [() => mmu.translateAddress(VA, { kind: 'read' } as { kind: 'read'; user: boolean }), 'WRONG_TYPE', 'access.user'],
      [() => mmu.loadCr3(-4096), 'ADDRESS_OUT_OF_RANGE', 'pa'],
      [() => mmu.loadCr3(2 ** 46), 'ADDRESS_OUT_OF_RANGE', 'MAXPHYADDR'],
      [() => mmu.loadCr3(0x1000n as unknown as number), 'WRONG_TYPE', 'pa'],
      [() => mmu.writeCr3('0x1000zz'), 'MALFORMED_ADDRESS', 'cr3'],
      [() => mmu.writeCr3(1n << 63n), 'ADDRESS_OUT_OF_RANGE', 'cr3'],
      [() => mmu.invlpg(2 ** 48), 'VALUE_OUT_OF_RANGE', 'va'],
      [() => mmu.invlpg('0000800000000000'), 'NON_CANONICAL', 'va'],
      [() => mmu.setCr4(null as unknown as { pge: boolean }), 'WRONG_TYPE', 'bits'],
      [() => mmu.setCr4({ pge: false, smep: 1 as unknown as boolean }), 'WRONG_TYPE', 'bits.smep'],
      [() => mmu.setCr0Wp('yes' as unknown as boolean), 'WRONG_TYPE', 'wp'],
      [() => mmu.setNxe(undefined as unknown as boolean), 'WRONG_TYPE', 'nxe'],
      [() => mmu.setAc(0 as unknown as boolean), 'WRONG_TYPE', 'ac'],
      [() => new Mmu({} as Space['mem']), 'WRONG_TYPE', 'mem'],
      [() => new Mmu(s.mem, { tlbEntries: 3 }), 'VALUE_OUT_OF_RANGE', 'options.tlbEntries'],
      [() => new Mmu(s.mem, { cr0: { wp: 1 as unknown as boolean } }), 'WRONG_TYPE', 'options.cr0.wp'],
      [() => new Mmu(s.mem, { cr3: 'xyz' }), 'MALFORMED_ADDRESS', 'options.cr3'],
      [() => new Mmu(s.mem, null as unknown as MmuOptions), 'WRONG_TYPE', 'options'],
    ];
    for (const [fn, code, text] of cases) {
      const e = labError(fn);
      expect(e.code, text).toBe(code);
      expect(e.message, text).toContain(text);
    }
    expect(s.snapshot()).toEqual(memBefore);
    expect(mmu.registers).toEqual(regsBefore);
    expect(mmu.tlb.entries()).toEqual(tlbBefore);
  });
});
