/**
 * Paging-structure entries of 4-level paging (Intel SDM vol. 3, 4.5, tables 4-14 to 4-20).
 *
 *  63  62:52  51:M   M-1:12         11:9  8  7     6  5  4    3    2    1   0
 * +--+-------+------+--------------+-----+--+-----+--+--+----+----+----+--+--+
 * |XD| avail | rsvd | frame        |avail|G |PS/PAT|D|A |PCD |PWT |U/S |RW|P |
 * +--+-------+------+--------------+-----+--+-----+--+--+----+----+----+--+--+
 *
 * In memory an entry is two 32-bit words (lo = bits 31:0, hi = bits 63:32); the hot paths work
 * on those halves as numbers. BigInt appears only in the encode/decode helpers at the API edge.
 */
import { LabError, describeValue, expectBoolean } from '../errors';
import { parseU64 } from './address';

/** P (bit 0): present. */
export const PTE_P = 1 << 0;
/** R/W (bit 1): writes allowed. */
export const PTE_RW = 1 << 1;
/** U/S (bit 2): user-mode accesses allowed. */
export const PTE_US = 1 << 2;
/** PWT (bit 3): page-level write-through. */
export const PTE_PWT = 1 << 3;
/** PCD (bit 4): page-level cache disable. */
export const PTE_PCD = 1 << 4;
/** A (bit 5): accessed (SDM 4.8). */
export const PTE_A = 1 << 5;
/** D (bit 6): dirty, leaf only (SDM 4.8). */
export const PTE_D = 1 << 6;
/** PS (bit 7): page size in a PDPTE or PDE (1 GiB / 2 MiB leaf); reserved in a PML4E; PAT in a PTE. */
export const PTE_PS = 1 << 7;
/** PAT (bit 7) of a 4 KiB PTE. */
export const PTE_PAT_4K = 1 << 7;
/** G (bit 8): global, leaf only (SDM 4.10.2.4). */
export const PTE_G = 1 << 8;
/** PAT (bit 12) of a 2 MiB or 1 GiB leaf. */
export const PTE_PAT_LARGE = 1 << 12;
/** XD (NX) is bit 63: bit 31 of the high word. */
export const PTE_HI_XD = 0x80000000;
/** Bits 51:32 of an address live in bits 19:0 of the high word. */
export const PTE_HI_ADDR = 0x000fffff;
/** Bits 31:12 of an address, in the low word. */
export const PTE_LO_FRAME = 0xfffff000;

/** 2^32, to join two 32-bit halves as numbers. */
export const TWO_32 = 4294967296;

/** The level names as Bochs prints them, indexed by level (1..4). */
export const LEVEL_NAMES = ['', 'PTE', 'PDE', 'PDPTE', 'PML4E'] as const;
/** Page size mapped by a leaf at each level. */
export const LEAF_PAGE_SIZE = [0, 4096, 2 * 1024 * 1024, 1024 * 1024 * 1024] as const;

/** The physical address in bits 51:12 of an entry (4 KiB aligned), as a number. */
export function entryAddress(lo: number, hi: number): number {
  return (hi & PTE_HI_ADDR) * TWO_32 + ((lo & PTE_LO_FRAME) >>> 0);
}

/** Splits a 64-bit bigint into its two 32-bit halves. */
export function splitU64(value: bigint): [lo: number, hi: number] {
  return [Number(value & 0xffffffffn), Number((value >> 32n) & 0xffffffffn)];
}

/** Joins two 32-bit halves into a bigint. */
export function joinU64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The fields of a paging-structure entry, decoded. */
export interface PteFields {
  present: boolean;
  writable: boolean;
  user: boolean;
  writeThrough: boolean;
  cacheDisable: boolean;
  accessed: boolean;
  dirty: boolean;
  /** PS: the entry maps a 2 MiB (level 2) or 1 GiB (level 3) page */
  pageSize: boolean;
  global: boolean;
  pat: boolean;
  noExecute: boolean;
  /** the physical address the entry points to (bits 51:12; for a large leaf, its page base) */
  address: bigint;
  /** bits 62:52 and 11:9, which the hardware ignores and software may use */
  available: number;
}

/**
 * Decodes an entry. `level` (1 = PTE .. 4 = PML4E) decides what bit 7 means: PAT in a 4 KiB
 * PTE, PS above; and where a large leaf keeps its PAT bit (12).
 */
export function decodePte(value: bigint | string, level: 1 | 2 | 3 | 4 = 1): PteFields {
  const v = parseU64('value', value);
  checkLevel(level);
  const [lo, hi] = splitU64(v);
  const ps = level !== 1 && level !== 4 && (lo & PTE_PS) !== 0;
  let address = v & 0x000ffffffffff000n;
  if (ps) address &= ~0x1000n; // bit 12 is PAT in a large leaf
  return {
    present: (lo & PTE_P) !== 0,
    writable: (lo & PTE_RW) !== 0,
    user: (lo & PTE_US) !== 0,
    writeThrough: (lo & PTE_PWT) !== 0,
    cacheDisable: (lo & PTE_PCD) !== 0,
    accessed: (lo & PTE_A) !== 0,
    dirty: (lo & PTE_D) !== 0,
    pageSize: level === 4 ? (lo & PTE_PS) !== 0 : ps,
    global: (lo & PTE_G) !== 0,
    pat: level === 1 ? (lo & PTE_PAT_4K) !== 0 : ps && (lo & PTE_PAT_LARGE) !== 0,
    noExecute: (hi & PTE_HI_XD) !== 0,
    address,
    available: ((lo >>> 9) & 7) | (((hi >>> 20) & 0x7ff) << 3),
  };
}

/** Encodes entry fields into a 64-bit value; missing flags are clear. */
export function encodePte(fields: Partial<PteFields> & { address?: bigint }, level: 1 | 2 | 3 | 4 = 1): bigint {
  if (typeof fields !== 'object' || fields === null) {
    throw new LabError('WRONG_TYPE', `fields must be an object like { present: true, address: 0x1000n }; got ${describeValue(fields)}`);
  }
  checkLevel(level);
  for (const name of FLAG_NAMES) expectBoolean(`fields.${name}`, fields[name], true);
  if (fields.pageSize && level === 1) {
    throw new LabError('BAD_CONFIG', 'fields.pageSize cannot be set at level 1: bit 7 of a PTE is PAT (use fields.pat)');
  }
  if (fields.pat && (level === 4 || (level !== 1 && !fields.pageSize))) {
    throw new LabError('BAD_CONFIG',
      `fields.pat can be set only in a PTE (level 1) or a large leaf (level 2 or 3 with pageSize); got level ${level}${level === 4 ? '' : ' without pageSize'}`);
  }
  const avail = fields.available ?? 0;
  if (typeof avail !== 'number' || !Number.isInteger(avail) || avail < 0 || avail > 0x3fff) {
    throw new LabError('VALUE_OUT_OF_RANGE',
      `fields.available must be an integer from 0 to 0x3fff (bits 11:9 then 62:52); got ${describeValue(avail)}`);
  }
  const address = fields.address ?? 0n;
  if (typeof address !== 'bigint' || address < 0n || address > 0x000ffffffffff000n || (address & 0xfffn) !== 0n) {
    throw new LabError('VALUE_OUT_OF_RANGE',
      `address must be a 4 KiB aligned bigint below 2^52; got ${describeValue(address)}`);
  }
  let lo = 0;
  if (fields.present) lo |= PTE_P;
  if (fields.writable) lo |= PTE_RW;
  if (fields.user) lo |= PTE_US;
  if (fields.writeThrough) lo |= PTE_PWT;
  if (fields.cacheDisable) lo |= PTE_PCD;
  if (fields.accessed) lo |= PTE_A;
  if (fields.dirty) lo |= PTE_D;
  if (fields.pageSize) lo |= PTE_PS;
  if (fields.global) lo |= PTE_G;
  if (fields.pat) lo |= level === 1 ? PTE_PAT_4K : PTE_PAT_LARGE;
  lo |= (avail & 7) << 9;
  let value = address | BigInt(lo >>> 0) | (BigInt((avail >>> 3) & 0x7ff) << 52n);
  if (fields.noExecute) value |= 1n << 63n;
  return value;
}

const FLAG_NAMES = [
  'present', 'writable', 'user', 'writeThrough', 'cacheDisable', 'accessed', 'dirty', 'pageSize', 'global', 'pat', 'noExecute',
] as const;

/** Throws unless `level` is 1 (PTE), 2 (PDE), 3 (PDPTE) or 4 (PML4E). */
function checkLevel(level: unknown): void {
  if (level !== 1 && level !== 2 && level !== 3 && level !== 4) {
    throw new LabError('VALUE_OUT_OF_RANGE', `level must be 1 (PTE), 2 (PDE), 3 (PDPTE) or 4 (PML4E); got ${describeValue(level)}`);
  }
}

/** Names of the set flags of an entry, in Linux ptdump order (for display). */
export function pteFlagNames(lo: number, hi: number, level: number): string[] {
  const names: string[] = [];
  if (lo & PTE_P) names.push('P');
  names.push(lo & PTE_RW ? 'RW' : 'ro');
  names.push(lo & PTE_US ? 'USR' : 'sup');
  if (lo & PTE_PWT) names.push('PWT');
  if (lo & PTE_PCD) names.push('PCD');
  if (lo & PTE_A) names.push('A');
  if (lo & PTE_D) names.push('D');
  if (level > 1 && level < 4 && lo & PTE_PS) names.push('PSE');
  if (level === 1 && lo & PTE_PAT_4K) names.push('PAT');
  if (lo & PTE_G) names.push('GLB');
  names.push(hi & PTE_HI_XD ? 'NX' : 'x');
  return names;
}
