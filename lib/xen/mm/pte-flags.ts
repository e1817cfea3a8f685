/**
 * Page-table entry flags as Xen checks them for a 64-bit PV guest: the `*_DISALLOW_MASK`s set up
 * in `arch_init_memory`, and the `adjust_guest_l*e` macros by which Xen edits every present entry
 * it installs (64-bit PV kernels run in ring 3, so their entries need _PAGE_USER). The model works
 * on an entry's two 32-bit halves: `lo` holds flag bits 11:0, `hi` bits 63:52 (Xen's 24-bit
 * "pte flags" form puts pte bits 63:52 at flag bits 23:12, get_pte_flags in x86_64/page.h).
 * // xen/arch/x86/mm.c (arch_init_memory, adjust_guest_l1e ...), xen/include/asm-x86/x86_64/page.h (Xen 4.2.0)
 */
import { PTE_A, PTE_D, PTE_G, PTE_P, PTE_PCD, PTE_PS, PTE_PWT, PTE_RW, PTE_US } from '../../x86';

export const _PAGE_PRESENT = PTE_P;
export const _PAGE_RW = PTE_RW;
export const _PAGE_USER = PTE_US;
export const _PAGE_PWT = PTE_PWT;
export const _PAGE_PCD = PTE_PCD;
export const _PAGE_ACCESSED = PTE_A;
export const _PAGE_DIRTY = PTE_D;
export const _PAGE_PSE = PTE_PS;
export const _PAGE_PAT = PTE_PS;
export const _PAGE_GLOBAL = PTE_G;
/** _PAGE_AVAIL: bits 11:9, for the guest's own use */
export const _PAGE_AVAIL = 0xe00;
/** _PAGE_NX_BIT: pte bit 63 = bit 31 of the high word */
export const _PAGE_NX_HI = 0x80000000;
/** _PAGE_GNTTAB: pte bit 62 (bit 30 of the high word); 0 on release builds (page.h: #ifdef NDEBUG #undef) */
export const _PAGE_GNTTAB_HI = 0x40000000;
/** _PAGE_GUEST_KERNEL: pte bit 52 (bit 20 of the high word), USER_MAPPINGS_ARE_GLOBAL (x86_64/page.h) */
export const _PAGE_GUEST_KERNEL_HI = 0x00100000;
/** Bits 51:32 of the frame address in the high word (PADDR_MASK & PAGE_MASK) */
export const PADDR_HI_MASK = 0x000fffff;
export const PAGE_MASK_LO = 0xfffff000;
/** Bits 62:52, the software-available high bits a guest may set */
export const AVAIL_HI_MASK = 0x7ff00000;

/** One level's disallowed flags, split into the entry's low and high words. */
export interface DisallowMask {
  lo: number;
  hi: number;
}

/**
 * The disallow masks of a host (arch_init_memory). base_disallow_mask =
 * ~(PRESENT|RW|USER|ACCESSED|DIRTY|AVAIL), minus NX when the CPU has it, minus bits 62:52.
 * L1 adds _PAGE_GNTTAB (debug builds) and drops GLOBAL; L2 drops PSE (handled by
 * get_page_from_l2e) — after XSA-148 only when `allowsuperpage` is on; L3/L4 are the base mask.
 */
export interface DisallowMasks {
  l1: DisallowMask;
  l2: DisallowMask;
  l3: DisallowMask;
  l4: DisallowMask;
}

export function disallowMasks(cpuHasNx: boolean, debug: boolean, l2AllowsPse = true): DisallowMasks {
  const baseLo = ~(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_AVAIL) & 0xfff;
  // High word: bits 62:52 allowed; bit 63 (NX) allowed with NX; the address bits are not flags.
  const baseHi = cpuHasNx ? 0 : _PAGE_NX_HI;
  return {
    l1: { lo: baseLo & ~_PAGE_GLOBAL, hi: (baseHi | (debug ? _PAGE_GNTTAB_HI : 0)) >>> 0 },
    l2: { lo: l2AllowsPse ? baseLo & ~_PAGE_PSE : baseLo, hi: baseHi },
    l3: { lo: baseLo, hi: baseHi },
    l4: { lo: baseLo, hi: baseHi },
  };
}

/** The flags of an entry in Xen's 24-bit form (get_pte_flags), for log messages and display. */
export function getPteFlags(lo: number, hi: number): number {
  return (lo & 0xfff) | ((hi >>> 20) << 12);
}

/** The frame an entry points to (l1e_get_pfn: bits 51:12). */
export function entryMfn(lo: number, hi: number): number {
  return (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
}

/**
 * adjust_guest_l1e for a 64-bit PV guest: a present entry without _PAGE_USER gets
 * _PAGE_GUEST_KERNEL|_PAGE_USER; one without _PAGE_GUEST_KERNEL gets _PAGE_GLOBAL|_PAGE_USER.
 * Writes the adjusted halves into words[i], words[i+1].
 */
export function adjust_guest_l1e(words: Uint32Array, i: number): void {
  let lo = words[i];
  if ((lo & _PAGE_PRESENT) === 0) return;
  let hi = words[i + 1];
  if ((lo & _PAGE_USER) === 0) { lo |= _PAGE_USER; hi |= _PAGE_GUEST_KERNEL_HI; }
  if ((hi & _PAGE_GUEST_KERNEL_HI) === 0) lo |= _PAGE_GLOBAL | _PAGE_USER;
  words[i] = lo >>> 0;
  words[i + 1] = hi >>> 0;
}

/** adjust_guest_l1e on a value (lo, hi) given in `e`, in place. */
export function adjustL1Value(e: { lo: number; hi: number }): void {
  if ((e.lo & _PAGE_PRESENT) === 0) return;
  if ((e.lo & _PAGE_USER) === 0) { e.lo = (e.lo | _PAGE_USER) >>> 0; e.hi = (e.hi | _PAGE_GUEST_KERNEL_HI) >>> 0; }
  if ((e.hi & _PAGE_GUEST_KERNEL_HI) === 0) e.lo = (e.lo | _PAGE_GLOBAL | _PAGE_USER) >>> 0;
}

/** adjust_guest_l2e / l3e / l4e for a 64-bit PV guest: a present entry gets _PAGE_USER. */
export function adjustUpperValue(e: { lo: number; hi: number }): void {
  if ((e.lo & _PAGE_PRESENT) !== 0) e.lo = (e.lo | _PAGE_USER) >>> 0;
}
