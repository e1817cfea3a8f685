import { describe, expect, it } from 'vitest';
import { E, Space, UPPER_ALL } from './space';
import { labError } from './lab-error';
import { walk, type Access, type PagingRegisters, type WalkFault, type WalkSuccess } from '../../lib';

const READ: Access = { kind: 'read', user: false };
const WRITE: Access = { kind: 'write', user: false };
const FETCH: Access = { kind: 'fetch', user: false };
const UREAD: Access = { kind: 'read', user: true };
const UWRITE: Access = { kind: 'write', user: true };
const UFETCH: Access = { kind: 'fetch', user: true };

const VA = 'ffff888012345678';
const LEAF = E.P | E.RW | E.US;

function ok(result: ReturnType<typeof walk>): WalkSuccess {
  if (!result.ok) throw new Error(`expected a translation, got a fault with error code ${result.errorCode} (${result.kind} at level ${result.level})`);
  return result;
}

function faulted(result: ReturnType<typeof walk>): WalkFault {
  if (result.ok) throw new Error(`expected a fault, got pa 0x${result.pa.toString(16)}`);
  return result;
}

function regs(space: Space, extra: Omit<PagingRegisters, 'cr3'> = {}): PagingRegisters {
  return { cr3: space.cr3, ...extra };
}

describe('SDM 4.5 the 4-level walk', () => {
  it('SDM 4.5: a 4 KiB page goes through four levels and keeps bits 11:0 of the address', () => {
    const s = new Space();
    const entries = s.map(VA, 0xabcdef000n, LEAF);
    const r = ok(walk(s.mem, regs(s), VA, READ));
    expect(r.pa).toBe(0xabcdef678n);
    expect(r.pageSize).toBe(4096);
    expect(r.steps.map((x) => x.level)).toEqual([4, 3, 2, 1]);
    expect(r.steps.map((x) => x.name)).toEqual(['PML4E', 'PDPTE', 'PDE', 'PTE']);
    expect(r.steps.map((x) => x.index)).toEqual([0x111, 0x000, 0x091, 0x145]);
    expect(r.steps.map((x) => x.entryAddress)).toEqual([entries[4], entries[3], entries[2], entries[1]]);
    expect(r.steps[0].entryAddress).toBe(s.cr3 + 0x111n * 8n);
    expect(r.rights).toEqual({ writable: true, user: true, noExecute: false });
  });

  it('SDM 4.5 (table 4-18): a 2 MiB PDE leaf maps bits 20:0 of the address onto its page', () => {
    const s = new Space();
    s.map(VA, 0x40000000n, LEAF | E.PS, { level: 2 });
    const r = ok(walk(s.mem, regs(s), VA, READ));
    expect(r.pa).toBe(0x40000000n + (0xffff888012345678n & 0x1fffffn));
    expect(r.pageSize).toBe(2 * 1024 * 1024);
    expect(r.steps).toHaveLength(3);
  });

  it('SDM 4.5 (table 4-16): a 1 GiB PDPTE leaf maps bits 29:0 of the address onto its page', () => {
    const s = new Space();
    s.map(VA, 0x7c0000000n, LEAF | E.PS, { level: 3 });
    const r = ok(walk(s.mem, regs(s), VA, READ));
    expect(r.pa).toBe(0x7c0000000n + (0xffff888012345678n & 0x3fffffffn));
    expect(r.pageSize).toBe(1024 * 1024 * 1024);
    expect(r.steps).toHaveLength(2);
  });

  it('SDM 4.5: bit 12 of a large leaf is PAT, not an address bit', () => {
    const s = new Space();
    s.map(VA, 0x40000000n, LEAF | E.PS | E.PAT_LARGE, { level: 2 });
    expect(ok(walk(s.mem, regs(s), VA, READ)).pa).toBe(0x40000000n + 0x145678n);
    const t = new Space();
    t.map(VA, 0x40000000n, LEAF | E.PS | E.PAT_LARGE, { level: 3 });
    expect(ok(walk(t.mem, regs(t), VA, READ)).pa).toBe(0x40000000n + 0x12345678n);
  });

  it('SDM 4.5: a physical address above 4 GiB and up to MAXPHYADDR-1 comes out exactly', () => {
    const s = new Space(52);
    s.map(VA, 0x000ffffffffff000n, LEAF);
    expect(ok(walk(s.mem, regs(s), VA, READ)).pa).toBe(0x000ffffffffff678n);
  });

  it('SDM 4.5: the walk never touches the final page: it need not be allocated', () => {
    const s = new Space();
    s.map(VA, 0x3333333000n, LEAF);
    const frames = s.mem.frameCount;
    ok(walk(s.mem, regs(s), VA, WRITE));
    expect(s.mem.frameCount).toBe(frames);
    expect(s.mem.hasFrame(0x3333333)).toBe(false);
  });
});

describe('SDM 4.7 not-present entries', () => {
  for (const level of [4, 3, 2, 1] as const) {
    it(`SDM 4.7: a not-present entry at level ${level} faults with P=0 and stops there`, () => {
      const s = new Space();
      const entries = s.map(VA, 0x5000n, LEAF);
      s.write(entries[level], s.read(entries[level]) & ~E.P);
      for (const [access, code] of [[READ, 0], [WRITE, 2], [UREAD, 4], [UWRITE, 6]] as const) {
        const f = faulted(walk(s.mem, regs(s), VA, access));
        expect(f.errorCode).toBe(code);
        expect(f.kind).toBe('not-present');
        expect(f.level).toBe(level);
        expect(f.steps).toHaveLength(5 - level);
      }
    });
  }

  it('SDM 4.7: an empty PML4 (a frame never written) faults at level 4', () => {
    const s = new Space();
    const f = faulted(walk(s.mem, regs(s), '0000000000001000', READ));
    expect(f).toMatchObject({ errorCode: 0, kind: 'not-present', level: 4 });
  });
});

describe('SDM 4.5/4.7 reserved bits give P|RSVD', () => {
  const RSVD = 1 | 8;

  for (const level of [4, 3, 2, 1] as const) {
    it(`SDM 4.5: XD at level ${level} with EFER.NXE=0 is reserved; with NXE=1 it is not`, () => {
      const s = new Space();
      const entries = s.map(VA, 0x5000n, LEAF);
      s.write(entries[level], s.read(entries[level]) | E.NX);
      const f = faulted(walk(s.mem, regs(s), VA, READ));
      expect(f).toMatchObject({ errorCode: RSVD, kind: 'reserved-bit', level });
      expect(ok(walk(s.mem, regs(s, { efer: { nxe: true } }), VA, READ)).rights.noExecute).toBe(true);
    });
  }

  it('SDM 4.5 (table 4-15): PS in a PML4E is reserved', () => {
    const s = new Space();
    const entries = s.map(VA, 0x5000n, LEAF);
    s.write(entries[4], s.read(entries[4]) | E.PS);
    expect(faulted(walk(s.mem, regs(s), VA, WRITE))).toMatchObject({ errorCode: RSVD | 2, level: 4, kind: 'reserved-bit' });
  });

  for (const bit of [13, 16, 20]) {
    it(`SDM 4.5 (table 4-18): bit ${bit} of a 2 MiB PDE is reserved`, () => {
      const s = new Space();
      s.map(VA, 0x40000000n | (1n << BigInt(bit)), LEAF | E.PS, { level: 2 });
      expect(faulted(walk(s.mem, regs(s), VA, UREAD))).toMatchObject({ errorCode: RSVD | 4, level: 2 });
    });
  }

  it('SDM 4.5 (table 4-19): bits 20:13 of a PDE that points to a page table are address bits', () => {
    const s = new Space();
    const entries = s.map(VA, 0x5000n, LEAF);
    // Move the page table to a frame whose number has bits 20:13 set, and point the PDE at it.
    const ptPa = s.read(entries[2]) & 0x000ffffffffff000n;
    const newPt = 0x1fe000n;
    for (let i = 0n; i < 512n; i++) s.write(newPt + i * 8n, s.read(ptPa + i * 8n));
    s.write(entries[2], newPt | UPPER_ALL);
    expect(ok(walk(s.mem, regs(s), VA, READ)).pa).toBe(0x5678n);
  });

  for (const bit of [13, 21, 29]) {
    it(`SDM 4.5 (table 4-16): bit ${bit} of a 1 GiB PDPTE is reserved`, () => {
      const s = new Space();
      s.map(VA, 0x40000000n | (1n << BigInt(bit)), LEAF | E.PS, { level: 3 });
      expect(faulted(walk(s.mem, regs(s), VA, READ))).toMatchObject({ errorCode: RSVD, level: 3 });
    });
  }

  for (const level of [4, 3, 2, 1] as const) {
    it(`SDM 4.5: bit 51 at level ${level} is reserved under MAXPHYADDR 46`, () => {
      const s = new Space(46);
      const entries = s.map(VA, 0x5000n, LEAF);
      s.write(entries[level], s.read(entries[level]) | (1n << 51n));
      expect(faulted(walk(s.mem, regs(s), VA, READ))).toMatchObject({ errorCode: RSVD, level });
    });

    it(`SDM 4.5: with MAXPHYADDR 36, bit 36 at level ${level} is reserved and bit 35 is an address bit`, () => {
      const s = new Space(36);
      const entries = s.map(VA, 0x5000n, LEAF);
      const clean = s.read(entries[level]);
      s.write(entries[level], clean | (1n << 36n));
      expect(faulted(walk(s.mem, regs(s), VA, READ))).toMatchObject({ errorCode: RSVD, level });
      s.write(entries[level], clean | (1n << 35n));
      const r = walk(s.mem, regs(s), VA, READ);
      // Bit 35 moves the next table (or the page) to an address never written: no RSVD fault.
      if (level === 1) expect(ok(r).pa).toBe((1n << 35n) + 0x5678n);
      else expect(faulted(r)).toMatchObject({ errorCode: 0, kind: 'not-present', level: level - 1 });
    });
  }

  it('SDM 4.5: with MAXPHYADDR 52, bit 51 is an address bit, not reserved', () => {
    const s = new Space(52);
    const entries = s.map(VA, 0x5000n, LEAF);
    s.write(entries[1], s.read(entries[1]) | (1n << 51n));
    expect(ok(walk(s.mem, regs(s), VA, READ)).pa).toBe((1n << 51n) + 0x5678n);
  });

  it('SDM 4.5: regs.maxPhysAddr overrides the memory\'s', () => {
    const s = new Space(46);
    const entries = s.map(VA, 0x5000n, LEAF);
    s.write(entries[1], s.read(entries[1]) | (1n << 40n));
    expect(ok(walk(s.mem, regs(s), VA, READ)).pa).toBe((1n << 40n) + 0x5678n);
    expect(faulted(walk(s.mem, { ...regs(s), maxPhysAddr: 36 }, VA, READ)).errorCode).toBe(RSVD);
  });

  it('SDM 4.7: RSVD is reported with P=1 even when a lower level is not present', () => {
    const s = new Space();
    const entries = s.map(VA, 0x5000n, LEAF);
    s.write(entries[3], s.read(entries[3]) | (1n << 51n));
    s.write(entries[1], 0n);
    expect(faulted(walk(s.mem, regs(s), VA, READ))).toMatchObject({ errorCode: RSVD, level: 3 });
  });
});

describe('SDM 4.6.1 access rights', () => {
  /** One mapping whose leaf and upper entries have the given flags. */
  function space(leaf: bigint, upper: bigint = UPPER_ALL): Space {
    const s = new Space();
    s.map(VA, 0x5000n, leaf, { upper });
    return s;
  }
  const code = (s: Space, access: Access, extra: Omit<PagingRegisters, 'cr3'> = {}): number | 'ok' => {
    const r = walk(s.mem, regs(s, extra), VA, access);
    return r.ok ? 'ok' : r.errorCode;
  };

  it('SDM 4.6.1: a user access to a supervisor page faults (P|U), at any level', () => {
    expect(code(space(E.P | E.RW), UREAD)).toBe(1 | 4);
    expect(code(space(LEAF, E.P | E.RW), UREAD)).toBe(1 | 4);
    expect(code(space(LEAF), UREAD)).toBe('ok');
    expect(code(space(E.P | E.RW), READ)).toBe('ok');
  });

  it('SDM 4.6.1: a user write to a read-only page faults (P|W|U), whatever CR0.WP', () => {
    expect(code(space(E.P | E.US), UWRITE)).toBe(1 | 2 | 4);
    expect(code(space(E.P | E.US), UWRITE, { cr0: { wp: false } })).toBe(1 | 2 | 4);
    expect(code(space(LEAF, E.P | E.US), UWRITE)).toBe(1 | 2 | 4);
  });

  it('SDM 4.6.1: R/W is ANDed across levels: read-only at any level makes the page read-only', () => {
    for (let level = 0; level < 3; level++) {
      const upper: [bigint, bigint, bigint] = [UPPER_ALL, UPPER_ALL, UPPER_ALL];
      upper[level] = E.P | E.US;
      const s = new Space();
      s.map(VA, 0x5000n, LEAF, { upper });
      expect(code(s, UWRITE)).toBe(1 | 2 | 4);
      expect(code(s, WRITE, { cr0: { wp: true } })).toBe(1 | 2);
      expect(ok(walk(s.mem, regs(s), VA, UREAD)).rights.writable).toBe(false);
    }
  });

  it('SDM 4.6.1: a supervisor write to a read-only page faults only with CR0.WP=1', () => {
    expect(code(space(E.P), WRITE, { cr0: { wp: true } })).toBe(1 | 2);
    expect(code(space(E.P), WRITE, { cr0: { wp: false } })).toBe('ok');
    expect(code(space(E.P | E.US), WRITE, { cr0: { wp: false } })).toBe('ok');
  });

  it('SDM 4.6.1: with EFER.NXE=1 a fetch from an XD page faults (P|I), user or supervisor', () => {
    const s = space(LEAF | E.NX);
    expect(code(s, FETCH, { efer: { nxe: true } })).toBe(1 | 16);
    expect(code(s, UFETCH, { efer: { nxe: true } })).toBe(1 | 4 | 16);
    expect(code(s, READ, { efer: { nxe: true } })).toBe('ok');
    const upperNx = space(LEAF, UPPER_ALL | E.NX);
    expect(code(upperNx, FETCH, { efer: { nxe: true } })).toBe(1 | 16);
  });

  it('SDM 4.6.1: SMEP refuses a supervisor fetch from a user page (P|I) but not from a supervisor page', () => {
    expect(code(space(LEAF), FETCH, { cr4: { smep: true } })).toBe(1 | 16);
    expect(code(space(LEAF), FETCH)).toBe('ok');
    expect(code(space(E.P | E.RW), FETCH, { cr4: { smep: true } })).toBe('ok');
    expect(code(space(LEAF), UFETCH, { cr4: { smep: true } })).toBe('ok');
  });

  it('SDM 4.6.1: SMAP refuses supervisor data accesses to user pages unless RFLAGS.AC=1', () => {
    const s = space(LEAF);
    expect(code(s, READ, { cr4: { smap: true } })).toBe(1);
    expect(code(s, WRITE, { cr4: { smap: true } })).toBe(1 | 2);
    expect(code(s, READ, { cr4: { smap: true }, rflags: { ac: true } })).toBe('ok');
    expect(code(s, WRITE, { cr4: { smap: true }, rflags: { ac: true } })).toBe('ok');
    expect(code(s, FETCH, { cr4: { smap: true } })).toBe('ok');
    expect(code(s, UREAD, { cr4: { smap: true } })).toBe('ok');
    expect(code(space(E.P | E.RW), READ, { cr4: { smap: true } })).toBe('ok');
    // AC lifts SMAP but not WP.
    expect(code(space(E.P | E.US), WRITE, { cr4: { smap: true }, rflags: { ac: true }, cr0: { wp: true } })).toBe(1 | 2);
  });

  it('SDM 4.7: I/D is reported only when SMEP or NXE is on', () => {
    const s = new Space();
    expect(code(s, FETCH)).toBe(0);
    expect(code(s, FETCH, { efer: { nxe: true } })).toBe(16);
    expect(code(s, FETCH, { cr4: { smep: true } })).toBe(16);
    expect(code(s, UFETCH, { efer: { nxe: true } })).toBe(4 | 16);
    // A fetch refused for U/S without NXE or SMEP: no I/D.
    expect(code(space(E.P | E.RW), UFETCH)).toBe(1 | 4);
  });
});

describe('SDM 4.8 accessed and dirty flags', () => {
  it('SDM 4.8: a read sets A on every level used and no D', () => {
    const s = new Space();
    const entries = s.map(VA, 0x5000n, LEAF);
    ok(walk(s.mem, regs(s), VA, READ));
    for (const level of [4, 3, 2, 1]) {
      expect(s.read(entries[level]) & E.A).toBe(E.A);
      expect(s.read(entries[level]) & E.D).toBe(0n);
    }
  });

  it('SDM 4.8: a write sets D on the leaf only (4 KiB and 2 MiB leaves)', () => {
    const s = new Space();
    const entries = s.map(VA, 0x5000n, LEAF);
    ok(walk(s.mem, regs(s), VA, WRITE));
    expect(s.read(entries[1]) & (E.A | E.D)).toBe(E.A | E.D);
    for (const level of [4, 3, 2]) expect(s.read(entries[level]) & (E.A | E.D)).toBe(E.A);
    const t = new Space();
    const large = t.map(VA, 0x40000000n, LEAF | E.PS, { level: 2 });
    ok(walk(t.mem, regs(t), VA, UWRITE));
    expect(t.read(large[2]) & (E.A | E.D)).toBe(E.A | E.D);
    expect(t.read(large[3]) & (E.A | E.D)).toBe(E.A);
  });

  it('SDM 4.8: a fault of any kind changes nothing in memory (no A, no D at any level)', () => {
    const cases: Array<[string, (s: Space, e: bigint[]) => void, Access, Omit<PagingRegisters, 'cr3'>]> = [
      ['not present', (s, e) => s.write(e[1], 0n), READ, {}],
      ['reserved', (s, e) => s.write(e[2], s.read(e[2]) | (1n << 51n)), READ, {}],
      ['protection', (s, e) => s.write(e[1], s.read(e[1]) & ~E.RW), WRITE, { cr0: { wp: true } }],
      ['smap', () => undefined, READ, { cr4: { smap: true } }],
    ];
    for (const [name, spoil, access, extra] of cases) {
      const s = new Space();
      const e = s.map(VA, 0x5000n, LEAF);
      spoil(s, e);
      const before = s.snapshot();
      expect(walk(s.mem, regs(s, extra), VA, access).ok, name).toBe(false);
      expect(s.snapshot(), name).toEqual(before);
    }
  });
});

describe('walk(): bad input is refused before anything changes', () => {
  it('SDM 3.3.7.1 / 4.5: refuses each bad argument with its code, naming it, and leaves memory unchanged', () => {
    const s = new Space();
    s.map(VA, 0x5000n, LEAF);
    const before = s.snapshot();
    const cases: Array<[() => unknown, string, string]> = [
      [() => walk(s.mem, regs(s), '0000800000000000', READ), 'NON_CANONICAL', 'va'],
      [() => walk(s.mem, regs(s), 'ffff88801234567g', READ), 'MALFORMED_ADDRESS', 'va'],
      [() => walk(s.mem, regs(s), 1n << 64n, READ), 'VALUE_OUT_OF_RANGE', 'va'],
      [() => walk(s.mem, regs(s), 0x1000 as unknown as bigint, READ), 'WRONG_TYPE', 'va'],
      [() => walk(s.mem, regs(s), VA, { kind: 'exec' as 'read', user: false }), 'UNKNOWN_ACCESS_KIND', 'access.kind'],
      [() => walk(s.mem, regs(s), VA, { kind: 'write' } as Access), 'WRONG_TYPE', 'access.user'],
      [() => walk(s.mem, regs(s), VA, 'write' as unknown as Access), 'WRONG_TYPE', 'access'],
      [() => walk(s.mem, { cr3: 'not hex' }, VA, READ), 'MALFORMED_ADDRESS', 'regs.cr3'],
      [() => walk(s.mem, { cr3: 1n << 63n }, VA, READ), 'ADDRESS_OUT_OF_RANGE', 'regs.cr3'],
      [() => walk(s.mem, { cr3: 1n << 47n }, VA, READ), 'ADDRESS_OUT_OF_RANGE', 'MAXPHYADDR'],
      [() => walk(s.mem, null as unknown as PagingRegisters, VA, READ), 'WRONG_TYPE', 'regs'],
      [() => walk(s.mem, { ...regs(s), cr0: true as unknown as { wp: boolean } }, VA, READ), 'WRONG_TYPE', 'regs.cr0'],
      [() => walk(s.mem, { ...regs(s), cr0: { wp: 1 as unknown as boolean } }, VA, READ), 'WRONG_TYPE', 'regs.cr0.wp'],
      [() => walk(s.mem, { ...regs(s), cr4: { pge: 'on' as unknown as boolean } }, VA, READ), 'WRONG_TYPE', 'regs.cr4.pge'],
      [() => walk(s.mem, { ...regs(s), efer: { nxe: null as unknown as boolean } }, VA, READ), 'WRONG_TYPE', 'regs.efer.nxe'],
      [() => walk(s.mem, { ...regs(s), maxPhysAddr: 60 }, VA, READ), 'VALUE_OUT_OF_RANGE', 'regs.maxPhysAddr'],
    ];
    for (const [fn, code, text] of cases) {
      const e = labError(fn);
      expect(e.code, text).toBe(code);
      expect(e.message, text).toContain(text);
    }
    expect(s.snapshot()).toEqual(before);
  });
});
