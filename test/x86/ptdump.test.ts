import { describe, expect, it } from 'vitest';
import { E, Space } from './space';
import { labError } from './lab-error';
import { formatPtdump, ptdump, walk } from '../../lib';

const KRW = E.P | E.RW | E.G | E.NX;

/** A layout like a small Linux kernel's: direct map in 1 GiB and 2 MiB pages, text and data in 4 KiB pages, some user pages. */
function layout(): Space {
  const s = new Space();
  // Direct map: two 1 GiB pages, then three 2 MiB pages, all RW GLB NX.
  s.map('ffff888000000000', 0x0n, KRW | E.PS, { level: 3 });
  s.map('ffff888040000000', 0x40000000n, KRW | E.PS, { level: 3 });
  for (let i = 0n; i < 3n; i++) s.map(0xffff888080000000n + i * 0x200000n, 0x80000000n + i * 0x200000n, KRW | E.PS, { level: 2 });
  // Kernel text (ro, executable) then data (RW NX), 4 KiB pages.
  for (let i = 0n; i < 16n; i++) s.map(0xffffffff81000000n + i * 4096n, 0x1000000n + i * 4096n, E.P | E.G);
  for (let i = 16n; i < 24n; i++) s.map(0xffffffff81000000n + i * 4096n, 0x1000000n + i * 4096n, KRW);
  // User: 4 pages of text; the last lower-half page, and the first upper-half page with the same flags.
  for (let i = 0n; i < 4n; i++) s.map(0x400000n + i * 4096n, 0x2000000n + i * 4096n, E.P | E.US, { upper: E.P | E.RW | E.US });
  s.map('00007ffffffff000', 0x3000000n, E.P | E.RW | E.US | E.NX, { upper: E.P | E.RW | E.US });
  s.map('ffff800000000000', 0x3001000n, E.P | E.RW | E.US | E.NX, { upper: E.P | E.RW | E.US });
  return s;
}

describe('ptdump: runs of equal effective flags (Linux dump_pagetables.c, QEMU info mem)', () => {
  it('SDM 4.5: merges pages of one size and equal flags, splits on size, flags, gaps and the canonical hole', () => {
    const dump = ptdump(layout().mem, layout().cr3);
    const rows = dump.runs.map((r) => [r.start.toString(16), r.end.toString(16), r.pageSize, r.pages, r.level,
      `${r.flags.user ? 'U' : '-'}${r.flags.rw ? 'W' : '-'}${r.flags.nx ? 'N' : '-'}${r.flags.global ? 'G' : '-'}${r.flags.pse ? 'P' : '-'}`]);
    expect(rows).toEqual([
      ['400000', '404000', 4096, 4, 'pte', 'U----'],
      ['7ffffffff000', '800000000000', 4096, 1, 'pte', 'UWN--'],
      ['ffff800000000000', 'ffff800000001000', 4096, 1, 'pte', 'UWN--'],
      ['ffff888000000000', 'ffff888080000000', 2 ** 30, 2, 'pud', '-WNGP'],
      ['ffff888080000000', 'ffff888080600000', 2 ** 21, 3, 'pmd', '-WNGP'],
      ['ffffffff81000000', 'ffffffff81010000', 4096, 16, 'pte', '---G-'],
      ['ffffffff81010000', 'ffffffff81018000', 4096, 8, 'pte', '-WNG-'],
    ]);
    expect(dump.mappedBytes).toBe(2 * 2 ** 30 + 3 * 2 ** 21 + (16 + 8 + 4 + 2) * 4096);
    expect(dump.reservedEntries).toBe(0);
    expect(dump.tables.pml4).toBe(1);
  });

  it('SDM 4.5/4.6.1: every run\'s first and last byte translate with the rights the run shows; the byte after faults unless another run starts there', () => {
    const s = layout();
    const dump = ptdump(s.mem, s.cr3);
    const starts = new Set(dump.runs.map((r) => r.start));
    // the layout has 7 runs (the test above lists them): an empty dump must not pass this sweep
    expect(dump.runs).toHaveLength(7);
    let checked = 0;
    for (const r of dump.runs) {
      checked++;
      for (const va of [r.start, r.end - 1n]) {
        const w = walk(s.mem, { cr3: s.cr3, efer: { nxe: true } }, va, { kind: 'read', user: false });
        expect(w.ok && w.rights).toEqual({ writable: r.flags.rw, user: r.flags.user, noExecute: r.flags.nx });
        expect(w.ok && w.pageSize).toBe(r.pageSize);
      }
      if (!starts.has(r.end) && r.end !== 0x800000000000n) {
        expect(walk(s.mem, { cr3: s.cr3, efer: { nxe: true } }, r.end, { kind: 'read', user: false }).ok).toBe(false);
      }
    }
    expect(checked).toBe(7);
  });

  it('SDM 4.6.1: flags are effective: a RW PTE under a read-only PDE shows ro; NX anywhere above shows NX', () => {
    const s = new Space();
    s.map('ffffc90000000000', 0x5000n, E.P | E.RW, { upper: [E.P | E.RW, E.P | E.RW | E.NX, E.P] });
    const [run] = ptdump(s.mem, s.cr3).runs;
    expect(run.flags).toEqual({ rw: false, user: false, nx: true, global: false, pse: false });
  });

  it('SDM 4.5: entries with reserved bits map nothing and are counted; NX is reserved when nxe is false', () => {
    const s = new Space();
    const e = s.map('ffffc90000000000', 0x5000n, E.P | E.RW | E.NX);
    s.map('ffffc90000200000', 0x40000000n | (1n << 13n), E.P | E.PS, { level: 2 });
    s.write(e[1] + 8n, 0x6000n | E.P | E.RW | E.NX | (1n << 51n));
    const dump = ptdump(s.mem, s.cr3);
    expect(dump.runs).toHaveLength(1);
    expect(dump.reservedEntries).toBe(2);
    const noNxe = ptdump(s.mem, s.cr3, { nxe: false });
    expect(noNxe.runs).toHaveLength(0);
    expect(noNxe.reservedEntries).toBe(3);
    // MAXPHYADDR 52 makes bit 51 an address bit.
    expect(ptdump(s.mem, s.cr3, { maxPhysAddr: 52 }).runs.map((r) => r.pages)).toEqual([2]);
  });

  it('formats one line per run in the Linux layout, sizes in the largest unit that divides them', () => {
    const text = formatPtdump(ptdump(layout().mem, layout().cr3));
    const lines = text.split('\n');
    expect(lines[0]).toBe('0x0000000000400000-0x0000000000404000          16K USR ro         x  pte');
    expect(lines[3]).toBe('0xffff888000000000-0xffff888080000000           2G     RW PSE GLB NX pud');
    expect(lines[4]).toBe('0xffff888080000000-0xffff888080600000           6M     RW PSE GLB NX pmd');
    expect(lines[5]).toBe('0xffffffff81000000-0xffffffff81010000          64K     ro     GLB x  pte');
    expect(lines).toHaveLength(7);
    expect(formatPtdump([])).toBe('');
  });

  it('handles a full 1 GiB of 4 KiB pages (512 page tables) and splits it where one entry differs', () => {
    const s = new Space();
    const words = (pa: bigint) => s.mem.words(Number(pa / 4096n));
    s.map('ffffc90000000000', 0n, E.P | E.RW); // creates PML4E, PDPTE, PD and one PT
    const pml4e = s.read(s.cr3 + 0x192n * 8n);
    const pdpte = s.read(pml4e & 0xfffffffff000n); // index 0: bits 38:30 of c90000000000 are 0
    const pd = words(pdpte & 0xfffffffff000n);
    for (let i2 = 0; i2 < 512; i2++) {
      const pt = s.mem.allocFrame();
      pd[i2 * 2] = pt * 4096 + 0x3;
      const w = s.mem.words(pt);
      for (let i1 = 0; i1 < 512; i1++) w[i1 * 2] = ((i2 * 512 + i1) * 4096 + 0x3) >>> 0;
    }
    const whole = ptdump(s.mem, s.cr3);
    expect(whole.runs).toHaveLength(1);
    expect(whole.runs[0].pages).toBe(262144);
    expect(whole.tables.pt).toBe(512);
    s.mem.words(pd[300 * 2] >>> 12)[7 * 2] &= ~0x2; // one read-only page in the middle
    const split = ptdump(s.mem, s.cr3);
    expect(split.runs.map((r) => r.pages)).toEqual([300 * 512 + 7, 1, 262144 - 300 * 512 - 8]);
  });

  it('refuses a malformed or out-of-range CR3 and bad options', () => {
    const s = layout();
    const cases: Array<[() => unknown, string, string]> = [
      [() => ptdump(s.mem, 'cr3'), 'MALFORMED_ADDRESS', 'pml4'],
      [() => ptdump(s.mem, 1n << 60n), 'ADDRESS_OUT_OF_RANGE', 'pml4'],
      [() => ptdump(s.mem, 1n << 46n), 'ADDRESS_OUT_OF_RANGE', 'MAXPHYADDR'],
      [() => ptdump(s.mem, 4096 as unknown as bigint), 'WRONG_TYPE', 'pml4'],
      [() => ptdump(s.mem, s.cr3, { nxe: 1 as unknown as boolean }), 'WRONG_TYPE', 'options.nxe'],
      [() => ptdump(s.mem, s.cr3, { maxPhysAddr: 64 }), 'VALUE_OUT_OF_RANGE', 'options.maxPhysAddr'],
      [() => ptdump(s.mem, s.cr3, null as unknown as object), 'WRONG_TYPE', 'options'],
      [() => formatPtdump({} as unknown as []), 'WRONG_TYPE', 'dump'],
    ];
    for (const [fn, code, text] of cases) {
      const e = labError(fn);
      expect(e.code, text).toBe(code);
      expect(e.message, text).toContain(text);
    }
  });
});
