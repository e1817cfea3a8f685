/**
 * start_kernel (init/main.c) and setup_arch (arch/x86/kernel/setup.c) as far as the page tables
 * and the early trap gates go, at v3.8 and v3.9-rc1, with the x86_init hooks as the platform's.
 * The order is setup.c's (v3.9.6 lines 847-1150, v3.8.13 lines 749-1059): memblock_reserve of the
 * image, early_trap_init, x86_init.oem.arch_setup, the BRK buffer, memblock, the direct map
 * (init_mem_mapping, or 3.8's init_memory_mapping calls), early_trap_pf_init (from 8170e6bed465
 * on), initmem_init, x86_init.paging.pagetable_init.
 */
import type { Kernel } from '../kernel';
import { PAGE_SIZE } from '../layout';
import { early_alloc_pgt_buf, init_mem_mapping, init_memory_mapping_3_8, probe_page_size_mask } from '../mm/init';
import { memblock_find_in_range, memblock_reserve } from '../mm/memblock-ops';
import { early_trap_init, early_trap_pf_init } from '../traps';
import { BIOS_BEGIN, BIOS_END, E820_RAM, E820_RESERVED, E820Map } from '../e820';

/** What setup_arch needs from the platform. */
export interface ArchHooks {
  /** the e820 RAM ranges the firmware (or xen_memory_setup) reports */
  ram: { base: number; end: number }[];
  cpuHasPse: boolean;
  cpuHasGbpages: boolean;
  /** x86_init.oem.arch_setup: nothing on bare metal, xen_arch_setup under Xen */
  arch_setup: () => void;
  /** x86_init.paging.pagetable_init: paging_init on bare metal, xen_pagetable_init under Xen */
  pagetable_init: () => void;
  /** x86_init.mapping.pagetable_reserve (3.8 only): memblock_reserve, or xen_mapping_pagetable_reserve */
  pagetable_reserve: (start: number, end: number) => void;
  /**
   * x86_init.resources.memory_setup when the model runs it (dom0: xen_memory_setup): fills the
   * kernel's e820 table and returns the name its entries are printed with; `ram` is then unused
   */
  memory_setup?: (e820: E820Map) => string;
}

/** The banner start_kernel prints before setup_arch (linux_banner: release, then the build's tag). */
export function linuxBanner(k: Kernel): string {
  return `Linux version ${k.variant.release} (${k.variant.id}) #1 SMP`;
}

// arch/x86/kernel/setup.c (v3.8 / v3.9); resumable between its calls (lib/linux/kernel.ts callResumable)
export function setup_arch(k: Kernel, arch: ArchHooks): void {
  k.callResumable('setup_arch', {}, (_l, pc) => {
    const g = k.g;
    switch (pc) {
      case 0:
        // memblock_reserve(__pa_symbol(_text), (unsigned long)__bss_stop - (unsigned long)_text)
        memblock_reserve(k, k.image._text, k.image.__brk_base - k.image._text);
        return 1;
      case 1:
        early_trap_init(k); // #DB, #BP (and #PF where the variant sets it here), then load_idt
        return 2;
      case 2:
        arch.arch_setup(); // x86_init.oem.arch_setup()
        return 3;
      case 3: {
        let ram = arch.ram;
        const memory_setup = arch.memory_setup;
        if (memory_setup !== undefined) {
          const e820 = new E820Map((line) => k.printk(line));
          k.call('setup_memory_map', () => {
            const who = memory_setup(e820);
            k.printk('e820: BIOS-provided physical RAM map:');
            e820.e820_print_map(who);
          });
          k.call('trim_bios_range', () => {
            e820.e820_update_range(0, PAGE_SIZE, E820_RAM, E820_RESERVED); // the BIOS-owned first 4 KiB
            e820.e820_remove_range(BIOS_BEGIN, BIOS_END - BIOS_BEGIN, E820_RAM, true); // 640 KiB .. 1 MiB is not RAM
            e820.sanitize();
          });
          g.max_pfn = k.call('e820_end_of_ram_pfn', () => e820.e820_end_of_ram_pfn());
          ram = e820.ramRanges();
        } else {
          g.max_pfn = Math.max(...arch.ram.map((r) => r.end)) / PAGE_SIZE; // e820_end_of_ram_pfn()
        }
        g.max_low_pfn = Math.min(g.max_pfn, 2 ** 32 / PAGE_SIZE);
        if (k.variant.memoryMapping === '3.9') early_alloc_pgt_buf(k);
        // reserve_brk(): the BRK area is in use from here
        k.call('reserve_brk', () => k.memblock.reserve(k.image.__brk_base, k.image.brk_size));
        // memblock_x86_fill(): memblock.memory from e820
        k.call('memblock_x86_fill', () => { for (const r of ram) k.memblock.add(r.base, r.end - r.base); });
        // reserve_real_mode(): the trampoline below 1 MiB
        const size = 24576;
        const mem = memblock_find_in_range(k, 0, 1 << 20, size, PAGE_SIZE);
        memblock_reserve(k, mem, size);
        k.printk(`Base memory trampoline at [${k.__va(mem).toString(16).padStart(16, 'f')}] ${mem.toString(16)} size ${size}`);
        return 4;
      }
      case 4:
        if (k.variant.memoryMapping === '3.9') {
          init_mem_mapping(k, arch.cpuHasPse, arch.cpuHasGbpages);
        } else {
          // v3.8: max_low_pfn_mapped = init_memory_mapping(0, max_low_pfn << PAGE_SHIFT) and above 4G
          probe_page_size_mask(k, arch.cpuHasPse, arch.cpuHasGbpages);
          g.max_pfn_mapped = init_memory_mapping_3_8(k, 0, g.max_low_pfn * PAGE_SIZE, arch.pagetable_reserve);
          if (g.max_pfn > g.max_low_pfn) g.max_pfn_mapped = init_memory_mapping_3_8(k, 2 ** 32, g.max_pfn * PAGE_SIZE, arch.pagetable_reserve);
        }
        return 5;
      case 5:
        // early_trap_pf_init came with the early #PF handler (8170e6bed465): kernels before it have none
        if (k.variant.earlyPfHandler) early_trap_pf_init(k);
        k.memblock.current_limit = g.max_pfn_mapped * PAGE_SIZE; // get_max_mapped()
        k.call('initmem_init', () => undefined);
        return 6;
      case 6:
        arch.pagetable_init();
        return 7;
      default:
        g.setup_arch_done = true;
        return -1;
    }
  });
}

// init/main.c (v3.9): as far as setup_arch
export function start_kernel(k: Kernel, arch: ArchHooks): void {
  k.callResumable('start_kernel', {}, (_l, pc) => {
    if (pc === 0) {
      k.printk(linuxBanner(k)); // pr_notice("%s", linux_banner)
      return 1;
    }
    setup_arch(k, arch);
    return -1;
  });
}

// arch/x86/kernel/head64.c (v3.9)
export function x86_64_start_reservations(k: Kernel, arch: ArchHooks, reserveEbda: () => void): void {
  k.callResumable('x86_64_start_reservations', {}, (_l, pc) => {
    if (pc === 0) {
      k.call('reserve_ebda_region', reserveEbda);
      return 1;
    }
    start_kernel(k, arch);
    return -1;
  });
}
