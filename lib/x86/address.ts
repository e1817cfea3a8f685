/**
 * Canonical 48-bit virtual addresses (Intel SDM vol. 3, 4.5 "4-level paging", and 3.3.7.1
 * "Canonical addressing").
 *
 * A linear address under 4-level paging has 48 significant bits; bits 63:48 must copy bit 47.
 * The model keeps an address inside its hot paths as a number holding bits 47:0 only (below
 * 2^48, so exact in a double); the upper 16 bits are implied by bit 47.
 *
 *   47      39 38      30 29      21 20      12 11         0
 *  +----------+----------+----------+----------+------------+
 *  |  PML4    |  PDPT    |   PD     |   PT     |   offset   |
 *  +----------+----------+----------+----------+------------+
 */
import { LabError, describeValue, expectInteger } from '../errors';

/** log2 of the 4 KiB page size. */
export const PAGE_SHIFT = 12;
/** The 4 KiB page size. */
export const PAGE_SIZE = 4096;
/** The lowest address bit of the PT index (bits 20:12). */
export const PT_SHIFT = 12;
/** The lowest address bit of the PD index (bits 29:21). */
export const PD_SHIFT = 21;
/** The lowest address bit of the PDPT index (bits 38:30). */
export const PDPT_SHIFT = 30;
/** The lowest address bit of the PML4 index (bits 47:39). */
export const PML4_SHIFT = 39;
/** Entries in every paging structure of 4-level paging (4 KiB of 8-byte entries). */
export const ENTRIES_PER_TABLE = 512;
/** Significant bits of a linear address under 4-level paging. */
export const VA_BITS = 48;
/** 2^48: the size of the space a 48-bit address indexes. */
export const VA_SPACE = 2 ** 48;
const VA_HALF = 2 ** 47;

const TWO_64 = 1n << 64n;
const LOW_48 = (1n << 48n) - 1n;
const UPPER_CANONICAL = 0xffffn << 48n;

/** Parses a bigint or hex string ("0x" optional, "_" and "`" separators allowed) to a 64-bit bigint. */
export function parseU64(name: string, value: unknown): bigint {
  let v: bigint;
  if (typeof value === 'bigint') {
    v = value;
  } else if (typeof value === 'string') {
    const text = value.trim().replace(/[_`]/g, '');
    if (!/^(0[xX])?[0-9a-fA-F]{1,16}$/.test(text)) {
      throw new LabError('MALFORMED_ADDRESS',
        `${name} must be a bigint or a hex string of 1 to 16 digits (e.g. "ffff880001a0c000" or "0x1000"); got ${describeValue(value)}`);
    }
    v = BigInt(text.startsWith('0x') || text.startsWith('0X') ? text : `0x${text}`);
  } else {
    throw new LabError('WRONG_TYPE', `${name} must be a bigint or a hex string; got ${describeValue(value)}`);
  }
  if (v < 0n || v >= TWO_64) {
    throw new LabError('VALUE_OUT_OF_RANGE', `${name} must fit 64 bits (0 to 0xffffffffffffffff); got 0x${v.toString(16)}`);
  }
  return v;
}

/** True when bits 63:47 of a 64-bit value are all equal (SDM 3.3.7.1). */
export function isCanonical(va: bigint): boolean {
  const upper = va >> 47n;
  return upper === 0n || upper === 0x1ffffn;
}

/**
 * Parses a virtual address (bigint or hex string) and returns bits 47:0 as a number.
 * A non-canonical address is refused: the hardware raises #GP for it, never #PF.
 */
export function parseVirtualAddress(name: string, value: unknown): number {
  const v = parseU64(name, value);
  if (!isCanonical(v)) {
    throw new LabError('NON_CANONICAL',
      `${name} 0x${v.toString(16).padStart(16, '0')} is not canonical: bits 63:47 must all be 0 or all be 1 ` +
      `(0000000000000000-00007fffffffffff or ffff800000000000-ffffffffffffffff); the CPU raises #GP, not #PF, for it`);
  }
  return Number(v & LOW_48);
}

/** Throws unless `va48` is an integer from 0 to 2^48 - 1 (bits 47:0 of an address as a number). */
export function checkVa48(name: string, va48: unknown): number {
  if (typeof va48 !== 'number' || !(va48 >= 0 && va48 < VA_SPACE) || Math.floor(va48) !== va48) {
    throw new LabError(typeof va48 === 'number' ? 'VALUE_OUT_OF_RANGE' : 'WRONG_TYPE',
      `${name} must be bits 47:0 of a canonical address as an integer number from 0 to 0xffffffffffff ` +
      `(pass a bigint or a hex string for a full 64-bit address); got ${describeValue(va48)}`);
  }
  return va48;
}

/** The full 64-bit canonical address of a 48-bit value (sign-extended from bit 47). */
export function canonicalAddress(va48: number): bigint {
  checkVa48('va48', va48);
  const low = BigInt(va48);
  return va48 >= VA_HALF ? low | UPPER_CANONICAL : low;
}

const HEX_DIGITS = '0123456789abcdef';
const HEX_CODES: number[] = new Array<number>(16).fill(0x30);

/** Formats a 48-bit address as Xen and Linux print it: 16 lower-case hex digits, sign-extended. */
export function formatVirtualAddress(va48: number): string {
  // Without a BigInt for the common case (a trace formats one per page fault), digit by digit into
  // one flat string (a concatenation would keep two strings and a cons cell: twice the memory).
  if (!(Number.isInteger(va48) && va48 >= 0 && va48 < 2 ** 48)) return canonicalAddress(va48).toString(16).padStart(16, '0');
  let lo = va48 % 2 ** 24;
  let hi = (va48 - lo) / 2 ** 24;
  for (let i = 15; i >= 10; i--) { HEX_CODES[i] = HEX_DIGITS.charCodeAt(lo & 15); lo >>>= 4; }
  for (let i = 9; i >= 4; i--) { HEX_CODES[i] = HEX_DIGITS.charCodeAt(hi & 15); hi >>>= 4; }
  const top = va48 >= VA_HALF ? 0x66 : 0x30; // bits 63:48 copy bit 47: 'ffff' or '0000'
  HEX_CODES[0] = top; HEX_CODES[1] = top; HEX_CODES[2] = top; HEX_CODES[3] = top;
  return String.fromCharCode.apply(null, HEX_CODES);
}

/** The index of `va48` in the table at a level (4 = PML4 ... 1 = PT). */
export function tableIndex(va48: number, level: number): number {
  checkVa48('va48', va48);
  expectInteger('level', level, 1, 4);
  return Math.floor(va48 / 2 ** (PT_SHIFT + 9 * (level - 1))) % ENTRIES_PER_TABLE;
}

/** A virtual address split into its table indices (SDM 4.5, figure 4-8). */
export interface AddressIndices {
  /** the address as 16 hex digits */
  address: string;
  pml4: number;
  pdpt: number;
  pd: number;
  pt: number;
  offset: number;
}

/** Splits a virtual address into its PML4, PDPT, PD and PT indices and the page offset. */
export function splitVirtualAddress(va: bigint | string): AddressIndices {
  const va48 = parseVirtualAddress('va', va);
  return {
    address: formatVirtualAddress(va48),
    pml4: tableIndex(va48, 4),
    pdpt: tableIndex(va48, 3),
    pd: tableIndex(va48, 2),
    pt: tableIndex(va48, 1),
    offset: va48 % PAGE_SIZE,
  };
}

/** The 48-bit address whose indices are the given ones (inverse of splitVirtualAddress). */
export function addressFromIndices(pml4: number, pdpt: number, pd: number, pt: number, offset = 0): number {
  expectInteger('pml4', pml4, 0, 511);
  expectInteger('pdpt', pdpt, 0, 511);
  expectInteger('pd', pd, 0, 511);
  expectInteger('pt', pt, 0, 511);
  expectInteger('offset', offset, 0, PAGE_SIZE - 1);
  return (((pml4 * 512 + pdpt) * 512 + pd) * 512 + pt) * PAGE_SIZE + offset;
}

/** Formats a non-negative integer below 2^64 (number or bigint) as 16 hex digits. */
export function hex16(value: number | bigint): string {
  if (typeof value === 'number' ? !(Number.isInteger(value) && value >= 0) : typeof value !== 'bigint' || value < 0n || value >= TWO_64) {
    throw new LabError(typeof value === 'number' || typeof value === 'bigint' ? 'VALUE_OUT_OF_RANGE' : 'WRONG_TYPE',
      `value must be a non-negative integer below 2^64 (number or bigint); got ${describeValue(value)}`);
  }
  return value.toString(16).padStart(16, '0');
}
