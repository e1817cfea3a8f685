/**
 * A bare-metal boot: the bootloader puts the image at 16 MiB, startup_64 (head_64.S) sets up the
 * first page tables and jumps to x86_64_start_kernel (head64.c), which reaches setup_arch.
 */
import type { Kernel } from '../kernel';
import { PAGE_SIZE, PMD_SIZE, pgd_index, pmd_index, pud_index } from '../layout';
import { __PAGE_KERNEL_LARGE_EXEC, _KERNPG_TABLE, entryHi, entryLo } from '../pgtable';
import { nativeMmuOps, type NativeCpuControl } from '../native/native-mmu';
import { paging_init } from '../mm/sparse';
import { early_idt_handler, x86_64_start_kernel, type PageFaultHandler } from './head64';
import { nativeCpuOps } from '../native/native-cpu';
import { X86_TRAP_PF } from '../pv-cpu-ops';
import { page_fault } from '../mm/fault';
import { x86_64_start_reservations } from './setup';

/** The machine under a bare-metal kernel: CR3/TLB control and the IDT's #PF vector. */
export interface BareMetalMachine extends NativeCpuControl {
  installPageFaultHandler(h: PageFaultHandler): void;
  /** writes physical memory directly (the bootloader) */
  writePhysical(pa: number, lo: number, hi: number): void;
  cpuHasPse: boolean;
  cpuHasGbpages: boolean;
}

/** The firmware's e820 RAM map: low memory below the EBDA, then from 1 MiB to the top. */
export function bareMetalE820Ram(memoryBytes: number): { base: number; end: number }[] {
  return [{ base: 0, end: 0x9f000 }, { base: 0x100000, end: memoryBytes }];
}

// arch/x86/kernel/head_64.S (v3.8 / 8170e6bed465): the first page tables, then x86_64_start_kernel
export function startup_64(k: Kernel, m: BareMetalMachine): void {
  // a run restored from a checkpoint (lib/linux/kernel.ts callResumable) has all of this done
  if (k.resumeDepth < 0) startup_64_asm(k, m);
  k.callResumable('startup_64', {}, () => {
    x86_64_start_kernel(k, m, () => {
      x86_64_start_reservations(k, {
        ram: bareMetalE820Ram(k.memoryBytes),
        cpuHasPse: m.cpuHasPse,
        cpuHasGbpages: m.cpuHasGbpages,
        arch_setup: () => undefined, // x86_init_noop
        pagetable_init: () => { k.callResumable('native_pagetable_init', {}, () => { paging_init(k, m.cpuHasPse); return -1; }); },
        // native_pagetable_reserve (arch/x86/mm/init.c, v3.8.13)
        pagetable_reserve: (start, end) => k.memblock.reserve(start, end - start),
      }, () => undefined);
    });
    return -1;
  }, 'jump');
}

/** head_64.S before the jump to C: the pv ops in force, the #PF vector, the first tables and CR3. */
function startup_64_asm(k: Kernel, m: BareMetalMachine): void {
  const img = k.image;
  k.pv = nativeMmuOps(k, m);
  k.cpuOps = nativeCpuOps(k);
  m.installPageFaultHandler((cr2, errorCode) => deliverPageFault(k, cr2, errorCode));
  if (k.variant.earlyPfHandler) {
    // Identity-map the kernel's physical range with two early_dynamic_pgts pages (next_early_pgt = 2)
    const pud = img.early_dynamic_pgts;
    const pmd = img.early_dynamic_pgts + PAGE_SIZE;
    m.writePhysical(img.early_level4_pgt + pgd_index(img._text) * 8, entryLo(pud / PAGE_SIZE, _KERNPG_TABLE), 0);
    m.writePhysical(pud + pud_index(img._text) * 8, entryLo(pmd / PAGE_SIZE, _KERNPG_TABLE), 0);
    for (let pa = Math.floor(img._text / PMD_SIZE) * PMD_SIZE; pa < img._end; pa += PMD_SIZE) {
      const frame = pa / PAGE_SIZE;
      m.writePhysical(pmd + pmd_index(pa) * 8, entryLo(frame, __PAGE_KERNEL_LARGE_EXEC), entryHi(frame, 0));
    }
    k.g.next_early_pgt = 2;
    k.g.native_cr3 = img.early_level4_pgt;
    m.loadCr3(img.early_level4_pgt);
  } else {
    k.g.native_cr3 = img.init_level4_pgt;
    m.loadCr3(img.init_level4_pgt);
    k.g.max_pfn_mapped = (512 * 1024 * 1024) / PAGE_SIZE; // KERNEL_IMAGE_SIZE >> PAGE_SHIFT (v3.8)
  }
}

/** The entry points a #PF gate can name, by symbol (what the IDT's offset field points at). */
const PF_ENTRIES: Readonly<Record<string, (k: Kernel, cr2: number, errorCode: number) => boolean>> = {
  early_idt_handler,
  page_fault: (k, cr2, errorCode) => {
    k.trace.emit({ type: 'page-fault', address: cr2.toString(16), errorCode, handler: 'unhandled', rip: null });
    return page_fault(k, { cr2, errorCode, rip: k.cpu.regs.rip });
  },
};

/** The CPU's #PF delivery: through the loaded IDT to the gate's entry; no IDT or no gate: unhandled. */
function deliverPageFault(k: Kernel, cr2: number, errorCode: number): boolean {
  const gate = k.g.idt_loaded ? k.idt_table[X86_TRAP_PF] : null;
  const entry = gate === null ? undefined : PF_ENTRIES[gate.handler];
  return entry === undefined ? false : entry(k, cr2, errorCode);
}
