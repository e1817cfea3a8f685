/**
 * A page-table dump of one address space, in the manner of Linux's arch/x86/mm/dump_pagetables.c
 * (/sys/kernel/debug/page_tables) and QEMU's `info mem`: every translation the tables hold,
 * merged into runs of consecutive pages that have the same page size and the same effective
 * flags (Intel SDM vol. 3, 4.5 for the entries, 4.6.1 for effective rights).
 *
 * Effective flags are those a walk would produce: RW and USR are the AND over the levels, NX the
 * OR (Linux prints the leaf's own bits; this dump prints what an access would get), GLB is the
 * leaf's G. An entry with a reserved bit set maps nothing (a walk through it faults, SDM 4.5), so
 * it is counted in `reservedEntries` and left out of the runs. A run never crosses the
 * non-canonical hole between 00007fffffffffff and ffff800000000000.
 *
 * `ptdumpCore` does the work in numbers straight from `mem.frames`; `ptdump` is the bigint edge.
 */
import { LabError, describeValue, expectBoolean } from '../errors';
import { canonicalAddress, parseU64 } from './address';
import type { PhysicalMemory } from './physical-memory';
import { PTE_G, PTE_HI_ADDR, PTE_HI_XD, PTE_LO_FRAME, PTE_P, PTE_PS, PTE_RW, PTE_US, TWO_32 } from './pte';
import { cr3Pml4, reservedHighMask } from './walk';

// Module-level copies of imported bindings used on the hot path: compiled to CommonJS, each use
// of an import is a property read (a getter under tsx); see walk.ts.
const K_PTE_G = PTE_G;
const K_PTE_HI_ADDR = PTE_HI_ADDR;
const K_PTE_HI_XD = PTE_HI_XD;
const K_PTE_LO_FRAME = PTE_LO_FRAME;
const K_PTE_P = PTE_P;
const K_PTE_PS = PTE_PS;
const K_PTE_RW = PTE_RW;
const K_PTE_US = PTE_US;
const K_TWO_32 = TWO_32;

/** Effective-flag bit of a run: writable. */
export const PTDUMP_RW = 1;
/** Effective-flag bit of a run: user-accessible. */
export const PTDUMP_USR = 2;
/** Effective-flag bit of a run: no-execute. */
export const PTDUMP_NX = 4;
/** Effective-flag bit of a run: global. */
export const PTDUMP_GLB = 8;

const RSVD_1G_LO = 0x3fffe000; // bits 29:13 of a 1 GiB PDPTE
const RSVD_2M_LO = 0x001fe000; // bits 20:13 of a 2 MiB PDE
const HOLE = 2 ** 47; // the first upper-half address, as 48 bits
const SIZE_1G = 2 ** 30;
const SIZE_2M = 2 ** 21;

/** The dump in numbers: run i covers `pages[i]` pages of `pageSizes[i]` bytes from `starts[i]` (48-bit). */
export interface RawPtdump {
  starts: number[];
  pages: number[];
  pageSizes: number[];
  /** PTDUMP_RW | PTDUMP_USR | PTDUMP_NX | PTDUMP_GLB */
  flags: number[];
  /** paging structures visited at each level (a table reached twice counts twice) */
  tables: { pml4: number; pdpt: number; pd: number; pt: number };
  /** present entries skipped because a reserved bit is set */
  reservedEntries: number;
}

/**
 * Walks every table under the PML4 at `pml4Pa` (a 4 KiB aligned number) and returns the runs.
 * `nxe` decides whether XD is honoured (NX) or reserved; `maxPhysAddr` which high bits are
 * reserved. Tables in frames never written read as empty.
 */
export function ptdumpCore(mem: PhysicalMemory, pml4Pa: number, nxe: boolean, maxPhysAddr: number): RawPtdump {
  const frames = mem.frames;
  const rsvdHi = reservedHighMask(maxPhysAddr, nxe);
  const out: RawPtdump = {
    starts: [], pages: [], pageSizes: [], flags: [], tables: { pml4: 0, pdpt: 0, pd: 0, pt: 0 }, reservedEntries: 0,
  };
  let runStart = -1;
  let runEnd = 0;
  let runSize = 0;
  let runFlags = 0;
  const close = (): void => {
    if (runStart < 0) return;
    out.starts.push(runStart);
    out.pages.push((runEnd - runStart) / runSize);
    out.pageSizes.push(runSize);
    out.flags.push(runFlags);
  };
  const leaf = (va: number, size: number, rights: number, xd: number, lo: number): void => {
    const flags = ((rights & K_PTE_RW) !== 0 ? PTDUMP_RW : 0) | ((rights & K_PTE_US) !== 0 ? PTDUMP_USR : 0)
      | ((xd & K_PTE_HI_XD) !== 0 ? PTDUMP_NX : 0) | ((lo & K_PTE_G) !== 0 ? PTDUMP_GLB : 0);
    if (va === runEnd && size === runSize && flags === runFlags && va !== HOLE && runStart >= 0) {
      runEnd += size;
      return;
    }
    close();
    runStart = va;
    runEnd = va + size;
    runSize = size;
    runFlags = flags;
  };
  const next = (lo: number, hi: number): Uint32Array | undefined =>
    frames.get(((hi & K_PTE_HI_ADDR) * K_TWO_32 + ((lo & K_PTE_LO_FRAME) >>> 0)) / 4096);

  const t4 = frames.get(Math.floor(pml4Pa / 4096));
  out.tables.pml4 = 1;
  if (t4 === undefined) return out;
  for (let i4 = 0; i4 < 512; i4++) {
    const lo4 = t4[i4 * 2];
    const hi4 = t4[i4 * 2 + 1];
    if ((lo4 & K_PTE_P) === 0) continue;
    if ((hi4 & rsvdHi) !== 0 || (lo4 & K_PTE_PS) !== 0) { out.reservedEntries++; continue; }
    out.tables.pdpt++;
    const t3 = next(lo4, hi4);
    if (t3 === undefined) continue;
    const va4 = i4 * 2 ** 39;
    for (let i3 = 0; i3 < 512; i3++) {
      const lo3 = t3[i3 * 2];
      const hi3 = t3[i3 * 2 + 1];
      if ((lo3 & K_PTE_P) === 0) continue;
      const large3 = (lo3 & K_PTE_PS) !== 0;
      if ((hi3 & rsvdHi) !== 0 || (large3 && (lo3 & RSVD_1G_LO) !== 0)) { out.reservedEntries++; continue; }
      const va3 = va4 + i3 * SIZE_1G;
      const rights3 = lo4 & lo3;
      const xd3 = hi4 | hi3;
      if (large3) { leaf(va3, SIZE_1G, rights3, xd3, lo3); continue; }
      out.tables.pd++;
      const t2 = next(lo3, hi3);
      if (t2 === undefined) continue;
      for (let i2 = 0; i2 < 512; i2++) {
        const lo2 = t2[i2 * 2];
        const hi2 = t2[i2 * 2 + 1];
        if ((lo2 & K_PTE_P) === 0) continue;
        const large2 = (lo2 & K_PTE_PS) !== 0;
        if ((hi2 & rsvdHi) !== 0 || (large2 && (lo2 & RSVD_2M_LO) !== 0)) { out.reservedEntries++; continue; }
        const va2 = va3 + i2 * SIZE_2M;
        const rights2 = rights3 & lo2;
        const xd2 = xd3 | hi2;
        if (large2) { leaf(va2, SIZE_2M, rights2, xd2, lo2); continue; }
        out.tables.pt++;
        const t1 = next(lo2, hi2);
        if (t1 === undefined) continue;
        for (let i1 = 0; i1 < 512; i1++) {
          const lo1 = t1[i1 * 2];
          const hi1 = t1[i1 * 2 + 1];
          if ((lo1 & K_PTE_P) === 0) continue;
          if ((hi1 & rsvdHi) !== 0) { out.reservedEntries++; continue; }
          leaf(va2 + i1 * 4096, 4096, rights2 & lo1, xd2 | hi1, lo1);
        }
      }
    }
  }
  close();
  return out;
}

/** The effective flags of a run. */
export interface PtdumpFlags {
  /** writable: R/W=1 at every level */
  rw: boolean;
  /** user-accessible: U/S=1 at every level */
  user: boolean;
  /** no-execute: XD=1 at some level (EFER.NXE=1) */
  nx: boolean;
  /** global: G=1 in the leaf */
  global: boolean;
  /** a large page (PS=1 in the leaf: 2 MiB or 1 GiB) */
  pse: boolean;
}

/** The level of a run's leaves, with Linux's names: pte (4 KiB), pmd (2 MiB), pud (1 GiB). */
export type PtdumpLevel = 'pte' | 'pmd' | 'pud';

/** Consecutive pages of one size with the same effective flags. */
export interface PtdumpRun {
  /** first virtual address (canonical, 64-bit) */
  start: bigint;
  /** the address after the run (exclusive; 2^64 for a run that ends the address space) */
  end: bigint;
  /** bytes covered */
  size: number;
  /** 4096, 2 MiB or 1 GiB */
  pageSize: number;
  /** number of pages of `pageSize` */
  pages: number;
  level: PtdumpLevel;
  flags: PtdumpFlags;
}

/** A dump of one address space. */
export interface PageTableDump {
  runs: PtdumpRun[];
  /** paging structures visited at each level */
  tables: { pml4: number; pdpt: number; pd: number; pt: number };
  /** present entries skipped because a reserved bit is set (a walk through them faults) */
  reservedEntries: number;
  /** bytes mapped in total */
  mappedBytes: number;
}

/** Options of `ptdump`. */
export interface PtdumpOptions {
  /** EFER.NXE: XD is honoured (default true); when false, entries with XD are reserved */
  nxe?: boolean;
  /** MAXPHYADDR, 36 to 52 (default: the memory's) */
  maxPhysAddr?: number;
}

/**
 * Dumps the address space whose PML4 is at `pml4` (a CR3 value: bigint or hex string; bits
 * 11:0 are ignored), as runs of equal effective flags. Refuses a malformed or out-of-range CR3.
 */
export function ptdump(mem: PhysicalMemory, pml4: bigint | string, options: PtdumpOptions = {}): PageTableDump {
  if (typeof options !== 'object' || options === null) {
    throw new LabError('WRONG_TYPE', `options must be an object like { nxe: true }; got ${describeValue(options)}`);
  }
  const maxPhysAddr = options.maxPhysAddr ?? mem.maxPhysAddr;
  if (typeof maxPhysAddr !== 'number' || !Number.isInteger(maxPhysAddr) || maxPhysAddr < 36 || maxPhysAddr > 52) {
    throw new LabError('VALUE_OUT_OF_RANGE', `options.maxPhysAddr must be an integer from 36 to 52; got ${describeValue(maxPhysAddr)}`);
  }
  const nxe = expectBoolean('options.nxe', options.nxe, true) ?? true;
  const pa = cr3Pml4('pml4', parseU64('pml4', pml4), maxPhysAddr);
  const raw = ptdumpCore(mem, pa, nxe, maxPhysAddr);
  const runs: PtdumpRun[] = [];
  let mappedBytes = 0;
  for (let i = 0; i < raw.starts.length; i++) {
    const pageSize = raw.pageSizes[i];
    const size = raw.pages[i] * pageSize;
    const f = raw.flags[i];
    const start = canonicalAddress(raw.starts[i]);
    mappedBytes += size;
    runs.push({
      start,
      end: start + BigInt(size),
      size,
      pageSize,
      pages: raw.pages[i],
      level: pageSize === 4096 ? 'pte' : pageSize === SIZE_2M ? 'pmd' : 'pud',
      flags: {
        rw: (f & PTDUMP_RW) !== 0,
        user: (f & PTDUMP_USR) !== 0,
        nx: (f & PTDUMP_NX) !== 0,
        global: (f & PTDUMP_GLB) !== 0,
        pse: pageSize !== 4096,
      },
    });
  }
  return { runs, tables: raw.tables, reservedEntries: raw.reservedEntries, mappedBytes };
}

/**
 * Formats a dump one run per line, in the layout of Linux's page_tables file: the range, its size
 * in the largest unit that divides it, then USR, RW/ro, PSE, GLB, NX/x and the level:
 *
 *   0xffff888000000000-0xffff888040000000           1G     RW PSE GLB NX pud
 */
export function formatPtdump(dump: PageTableDump | PtdumpRun[]): string {
  const runs = Array.isArray(dump) ? dump : dump?.runs;
  if (!Array.isArray(runs)) {
    throw new LabError('WRONG_TYPE', `dump must be the result of ptdump() or its runs; got ${describeValue(dump)}`);
  }
  return runs.map((r) => {
    const f = r.flags;
    return `0x${hexAddress(r.start)}-0x${hexAddress(r.end)}   ${formatSize(r.size)} `
      + `${f.user ? 'USR' : '   '} ${f.rw ? 'RW' : 'ro'} ${f.pse ? 'PSE' : '   '} ${f.global ? 'GLB' : '   '} ${f.nx ? 'NX' : 'x '} ${r.level}`;
  }).join('\n');
}

/** A size as Linux's dump prints it: in K, M, G, T or P, the largest unit that divides it, 9 columns. */
function formatSize(bytes: number): string {
  const units = 'KMGTP';
  let value = bytes / 1024;
  let unit = 0;
  while (value % 1024 === 0 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${String(value).padStart(9)}${units[unit]}`;
}

function hexAddress(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}
