/**
 * The static page tables the kernel image carries (arch/x86/kernel/head_64.S, v3.9 with
 * CONFIG_XEN): entries hold pfns, as the linker wrote them. The loader (a bootloader, or Xen's
 * domain builder) copies them into memory with the image.
 */
import type { KernelImageLayout } from '../image';
import { PAGE_SIZE, PMD_SIZE, pgd_index, __PAGE_OFFSET } from '../layout';
import { __PAGE_KERNEL_LARGE_EXEC, _KERNPG_TABLE, _PAGE_TABLE, entryHi, entryLo } from '../pgtable';

/** A sink for one 64-bit word of the image at a physical address. */
export type ImageWriter = (pa: number, lo: number, hi: number) => void;

/** KERNEL_IMAGE_SIZE: 512 MiB of kernel mapping at __START_KERNEL_map */
const KERNEL_IMAGE_SIZE = 512 * 1024 * 1024;

// arch/x86/kernel/head_64.S (v3.9): NEXT_PAGE(init_level4_pgt) ... NEXT_PAGE(level1_fixmap_pgt)
export function writeStaticPageTables(img: KernelImageLayout, write: ImageWriter, earlyPgt: boolean): void {
  const link = (table: number, index: number, target: number, flags: number): void =>
    write(table + index * 8, entryLo(target / PAGE_SIZE, flags), entryHi(target / PAGE_SIZE, 0));
  // init_level4_pgt: identity (0), direct map (L4_PAGE_OFFSET) and kernel (L4_START_KERNEL)
  link(img.init_level4_pgt, 0, img.level3_ident_pgt, _KERNPG_TABLE);
  link(img.init_level4_pgt, pgd_index(__PAGE_OFFSET), img.level3_ident_pgt, _KERNPG_TABLE);
  link(img.init_level4_pgt, 511, img.level3_kernel_pgt, _PAGE_TABLE);
  link(img.level3_ident_pgt, 0, img.level2_ident_pgt, _KERNPG_TABLE);
  // level2_ident_pgt: PMDS(0, __PAGE_KERNEL_IDENT_LARGE_EXEC, PTRS_PER_PMD): 1 GiB of 2 MiB pages
  for (let i = 0; i < 512; i++) {
    const frame = i * (PMD_SIZE / PAGE_SIZE);
    write(img.level2_ident_pgt + i * 8, entryLo(frame, __PAGE_KERNEL_LARGE_EXEC), entryHi(frame, 0));
  }
  link(img.level3_kernel_pgt, 510, img.level2_kernel_pgt, _KERNPG_TABLE);
  link(img.level3_kernel_pgt, 511, img.level2_fixmap_pgt, _PAGE_TABLE);
  // level2_kernel_pgt: PMDS(0, __PAGE_KERNEL_LARGE_EXEC, KERNEL_IMAGE_SIZE/PMD_SIZE)
  for (let i = 0; i < KERNEL_IMAGE_SIZE / PMD_SIZE; i++) {
    const frame = i * (PMD_SIZE / PAGE_SIZE);
    write(img.level2_kernel_pgt + i * 8, entryLo(frame, __PAGE_KERNEL_LARGE_EXEC), entryHi(frame, 0));
  }
  link(img.level2_fixmap_pgt, 506, img.level1_fixmap_pgt, _PAGE_TABLE);
  // 8170e6bed465: early_level4_pgt in __INITDATA, only the kernel's slot filled
  if (earlyPgt) link(img.early_level4_pgt, 511, img.level3_kernel_pgt, _PAGE_TABLE);
}
