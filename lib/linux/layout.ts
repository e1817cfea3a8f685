/**
 * The x86-64 virtual memory layout of Linux 3.8/3.9 (4-level paging), with the kernel's names.
 * Sources: arch/x86/include/asm/page_64_types.h, pgtable_64_types.h, fixmap.h, vsyscall.h (v3.9);
 * Documentation/x86/x86_64/mm.txt (v3.9). Addresses are bits 47:0 as numbers (see lib/x86/address).
 */
import { PAGE_SHIFT, PAGE_SIZE, formatVirtualAddress } from '../x86/address';

export { PAGE_SHIFT, PAGE_SIZE };

const va48 = (hex: string): number => Number(BigInt(`0x${hex}`) & ((1n << 48n) - 1n));

export const PMD_SHIFT = 21;
export const PUD_SHIFT = 30;
export const PGDIR_SHIFT = 39;
export const PMD_SIZE = 2 ** PMD_SHIFT;
export const PUD_SIZE = 2 ** PUD_SHIFT;
export const PGDIR_SIZE = 2 ** PGDIR_SHIFT;
export const PTRS_PER_PTE = 512;

/** __PAGE_OFFSET: the start of the direct mapping of all physical memory (L4 slot 272) */
export const __PAGE_OFFSET = va48('ffff880000000000');
/** PAGE_OFFSET (= __PAGE_OFFSET, the name C code uses) */
export const PAGE_OFFSET = __PAGE_OFFSET;
/** __START_KERNEL_map: where the kernel image is mapped (L4 511, L3 510) */
export const __START_KERNEL_map = va48('ffffffff80000000');
/** VMALLOC_START .. VMALLOC_END (L4 402 ..) */
export const VMALLOC_START = va48('ffffc90000000000');
export const VMALLOC_END = va48('ffffe8ffffffffff');
/** VMEMMAP_START: the struct page array (L4 468) */
export const VMEMMAP_START = va48('ffffea0000000000');
export const MODULES_VADDR = va48('ffffffffa0000000');
export const MODULES_END = va48('ffffffffff000000');
/** VSYSCALL_START = -10UL << 20 */
export const VSYSCALL_START = va48('ffffffffff600000');
/** FIXADDR_TOP = VSYSCALL_END - PAGE_SIZE */
export const FIXADDR_TOP = va48('ffffffffffdff000');
/** MAXMEM = 1UL << MAX_PHYSMEM_BITS (46): the direct map's size */
export const MAXMEM = 2 ** 46;
/** __PHYSICAL_START (CONFIG_PHYSICAL_START): the kernel is loaded at 16 MiB */
export const __PHYSICAL_START = 0x1000000;
/** ISA_END_ADDRESS */
export const ISA_END_ADDRESS = 0x100000;
/** USER_LIMIT in arch/x86/xen/mmu.c: just beyond the highest user address, rounded to a PGD */
export const USER_LIMIT = 2 ** 47;
/** THREAD_SIZE on 3.8/3.9 x86-64: PAGE_SIZE << THREAD_SIZE_ORDER (1) */
export const THREAD_SIZE = 2 * PAGE_SIZE;
/** EARLY_DYNAMIC_PAGE_TABLES (arch/x86/include/asm/pgtable_64_types.h, from 8170e6bed465) */
export const EARLY_DYNAMIC_PAGE_TABLES = 64;
/** The Xen hole: L4 slots 256 .. 271 belong to the hypervisor (the 16-slot gap below __PAGE_OFFSET) */
export const XEN_HOLE_FIRST_SLOT = 256;
export const XEN_HOLE_LAST_SLOT = 271;

export const pgd_index = (va: number): number => Math.floor(va / PGDIR_SIZE) % 512;
export const pud_index = (va: number): number => Math.floor(va / PUD_SIZE) % 512;
export const pmd_index = (va: number): number => Math.floor(va / PMD_SIZE) % 512;
export const pte_index = (va: number): number => Math.floor(va / PAGE_SIZE) % 512;

/** A named region of the kernel's address space, as Documentation/x86/x86_64/mm.txt lists them. */
export interface LayoutRegion {
  name: string;
  start: number;
  /** exclusive end */
  end: number;
}

export const LAYOUT_REGIONS: readonly LayoutRegion[] = [
  { name: 'user space', start: 0, end: USER_LIMIT },
  { name: 'Xen hypervisor hole', start: va48('ffff800000000000'), end: __PAGE_OFFSET },
  { name: 'direct map of all physical memory', start: __PAGE_OFFSET, end: __PAGE_OFFSET + MAXMEM },
  { name: 'vmalloc/ioremap space', start: VMALLOC_START, end: VMALLOC_END + 1 },
  { name: 'virtual memory map (vmemmap: struct page array)', start: VMEMMAP_START, end: VMEMMAP_START + 2 ** 40 },
  { name: 'kernel text mapping (__START_KERNEL_map)', start: __START_KERNEL_map, end: MODULES_VADDR },
  { name: 'module mapping space', start: MODULES_VADDR, end: MODULES_END },
  { name: 'fixmap and vsyscalls', start: MODULES_END, end: 2 ** 48 },
];

/** The name of the region `va48` falls in, or 'unused hole'. */
export function regionName(va: number): string {
  for (const r of LAYOUT_REGIONS) if (va >= r.start && va < r.end) return r.name;
  return 'unused hole';
}

/** Formats a layout constant as the kernel prints it (16 hex digits). */
export const hexVa = formatVirtualAddress;
