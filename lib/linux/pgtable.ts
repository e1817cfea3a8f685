/**
 * Page-table entry flags and helpers with the kernel's names
 * (arch/x86/include/asm/pgtable_types.h, v3.9). Entries are handled as two 32-bit halves.
 */
export const _PAGE_PRESENT = 1 << 0;
export const _PAGE_RW = 1 << 1;
export const _PAGE_USER = 1 << 2;
export const _PAGE_PWT = 1 << 3;
export const _PAGE_PCD = 1 << 4;
export const _PAGE_ACCESSED = 1 << 5;
export const _PAGE_DIRTY = 1 << 6;
export const _PAGE_PSE = 1 << 7;
export const _PAGE_GLOBAL = 1 << 8;
/** _PAGE_NX is bit 63: bit 31 of the high half */
export const _PAGE_NX_HI = 0x80000000;

/** _PAGE_TABLE: a user-accessible table entry */
export const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;
/** _KERNPG_TABLE: a kernel table entry */
export const _KERNPG_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
/** __PAGE_KERNEL_EXEC (low half) */
export const __PAGE_KERNEL_EXEC = _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_GLOBAL;
/** __PAGE_KERNEL_LARGE_EXEC */
export const __PAGE_KERNEL_LARGE_EXEC = __PAGE_KERNEL_EXEC | _PAGE_PSE;

/** A protection: the low and high halves of the flags. */
export interface PgProt {
  lo: number;
  hi: number;
}

/** PAGE_KERNEL (= __PAGE_KERNEL & __supported_pte_mask): RW, NX; global unless masked out. */
export function PAGE_KERNEL(global: boolean): PgProt {
  return { lo: global ? __PAGE_KERNEL_EXEC : __PAGE_KERNEL_EXEC & ~_PAGE_GLOBAL, hi: _PAGE_NX_HI };
}

/** PAGE_KERNEL_LARGE: PAGE_KERNEL with PSE (a 2 MiB or 1 GiB leaf). */
export function PAGE_KERNEL_LARGE(global: boolean): PgProt {
  const p = PAGE_KERNEL(global);
  return { lo: p.lo | _PAGE_PSE, hi: p.hi };
}

/** The low half of an entry for frame `frame` with flags `flagsLo`. */
export function entryLo(frame: number, flagsLo: number): number {
  return ((frame % 1048576) * 4096 + (flagsLo & 0xfff)) >>> 0;
}

/** The high half of an entry for frame `frame` with flags `flagsHi` (NX). */
export function entryHi(frame: number, flagsHi: number): number {
  return (Math.floor(frame / 1048576) | flagsHi) >>> 0;
}

/** The frame number in an entry (bits 51:12). */
export function entryFrame(lo: number, hi: number): number {
  return (hi & 0xfffff) * 1048576 + (lo >>> 12);
}
