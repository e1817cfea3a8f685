/**
 * Where things sit in the kernel image (physical addresses; the image is loaded at 16 MiB and
 * mapped at __START_KERNEL_map + pa). init_thread_union and init_level4_pgt are where the crash
 * report puts them (the stack at ffffffff81a00000, the pgd at pfn 0x1a0c); the other static
 * tables follow init_level4_pgt in head_64.S's order (NEXT_PAGE(...) in .data), and the BRK area
 * starts where Konrad Wilk's 3.9 boot log shows its first PGTABLE page.
 */
export interface KernelImageLayout {
  /** _text: the first byte of the image */
  _text: number;
  /** init_thread_union: the boot stack (THREAD_SIZE) */
  init_thread_union: number;
  init_level4_pgt: number;
  level3_ident_pgt: number;
  level2_ident_pgt: number;
  level3_kernel_pgt: number;
  level2_kernel_pgt: number;
  level2_fixmap_pgt: number;
  level1_fixmap_pgt: number;
  /** level3_user_vsyscall (arch/x86/xen/mmu.c, __page_aligned_bss) */
  level3_user_vsyscall: number;
  /** early_level4_pgt and the EARLY_DYNAMIC_PAGE_TABLES pages after it (__INITDATA, 8170e6bed465) */
  early_level4_pgt: number;
  early_dynamic_pgts: number;
  /** boot_params (struct boot_params, 4 KiB) */
  boot_params: number;
  /** __brk_base: the BRK area (RESERVE_BRK) */
  __brk_base: number;
  /** the size of the BRK area */
  brk_size: number;
  /** _end */
  _end: number;
}

export const KERNEL_IMAGE: KernelImageLayout = {
  _text: 0x1000000,
  // FITTED: the full report's stack (rbp chain from ffffffff81a01dd8 up) lies in this THREAD_SIZE
  init_thread_union: 0x1a00000,
  // FITTED: pfn 0x1a0c is the report's fault address less VMEMMAP_START and offsetof(private), over 56
  init_level4_pgt: 0x1a0c000,
  level3_ident_pgt: 0x1a0d000,
  level2_ident_pgt: 0x1a0e000,
  level3_kernel_pgt: 0x1a0f000,
  level2_kernel_pgt: 0x1a10000,
  level2_fixmap_pgt: 0x1a11000,
  level1_fixmap_pgt: 0x1a12000,
  early_level4_pgt: 0x1b00000,
  early_dynamic_pgts: 0x1b01000,
  boot_params: 0x1b80000,
  level3_user_vsyscall: 0x1c00000,
  __brk_base: 0x1cd2000,
  brk_size: 0x20000,
  _end: 0x1cf2000,
};

/** Physical address of the bootloader's real-mode data (bare metal: struct boot_params copy source). */
export const REAL_MODE_DATA = 0x14000;

/**
 * The end of the image as its ELF program headers give it (elf.pend: the kernel Xen's dom0 builder
 * loads runs from _text to here). FITTED to the dom0 report's "elf_parse_binary: memory:
 * 0x1000000 -> 0x20d7000": the report's build reserves far more BRK (the p2m's reservations among
 * it) than the model's brk_size; the domU builder keeps using _end.
 */
export const KERNEL_ELF_PEND = 0x20d7000;
