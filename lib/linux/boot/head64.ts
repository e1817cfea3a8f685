/**
 * Bare-metal entry: startup_64 (arch/x86/kernel/head_64.S) and x86_64_start_kernel with the early
 * page-fault handler that materialises mappings on demand (arch/x86/kernel/head64.c), at v3.8 and
 * at 8170e6bed465.
 */
import { PTE_P } from '../../x86/pte';
import type { Kernel } from '../kernel';
import { EARLY_DYNAMIC_PAGE_TABLES, MAXMEM, PAGE_SIZE, PMD_SIZE, __PAGE_OFFSET, pgd_index, pmd_index, pud_index } from '../layout';
import { REAL_MODE_DATA } from '../image';
import { __PAGE_KERNEL_LARGE_EXEC, _KERNPG_TABLE, _PAGE_GLOBAL, entryFrame, entryHi, entryLo } from '../pgtable';
import type { NativeCpuControl } from '../native/native-mmu';
import { NUM_EXCEPTION_VECTORS } from '../pv-cpu-ops';
import { set_intr_gate } from '../traps';

/** early_pmd_flags = __PAGE_KERNEL_LARGE & ~(_PAGE_GLOBAL | _PAGE_NX) (head64.c, 8170e6bed465) */
const early_pmd_flags = __PAGE_KERNEL_LARGE_EXEC & ~_PAGE_GLOBAL;

/** Writes a 64-bit entry given as frame + flags through the kernel's mapping. */
function setEntry(k: Kernel, va: number, frame: number, flags: number, hi = 0): void {
  k.cpu.writeQword(va, entryLo(frame, flags), entryHi(frame, hi));
}

// arch/x86/kernel/head64.c (8170e6bed465): wipe all early page tables except the kernel's slot
export function reset_early_page_tables(k: Kernel): void {
  k.call('reset_early_page_tables', () => {
    const l4 = k.ktextVa(k.image.early_level4_pgt);
    for (let i = 0; i < 511; i++) k.cpu.writeQword(l4 + i * 8, 0, 0);
    k.g.next_early_pgt = 0;
    k.pv.write_cr3.fn(k.image.early_level4_pgt);
  });
}

/** Takes the next early_dynamic_pgts page, zeroed; returns its physical address. */
function nextEarlyTable(k: Kernel, level: 2 | 3): number {
  const pa = k.image.early_dynamic_pgts + k.g.next_early_pgt++ * PAGE_SIZE;
  const va = k.ktextVa(pa); // through __START_KERNEL_map: "avoid recursive faults"
  for (let i = 0; i < 512; i++) k.cpu.writeQword(va + i * 8, 0, 0);
  k.trace.emit({ type: 'pt-page-alloc', level, pfn: pa / PAGE_SIZE, by: 'early_make_pgtable' });
  return pa;
}

/**
 * The table an early entry points to (physical address); if the entry is empty, a fresh
 * early_dynamic_pgts page hooked in with _KERNPG_TABLE. Null when the pool was exhausted: the
 * tables were reset and the walk must start again (early_make_pgtable's "goto again").
 */
function earlyTableBelow(k: Kernel, entryVa: number, level: 2 | 3): number | null {
  const [lo, hi] = k.readEntry(entryVa);
  if ((lo & PTE_P) !== 0) return entryFrame(lo, hi) * PAGE_SIZE;
  if (k.g.next_early_pgt >= EARLY_DYNAMIC_PAGE_TABLES) {
    k.g.early_pgt_resets++;
    reset_early_page_tables(k);
    return null;
  }
  const pa = nextEarlyTable(k, level);
  setEntry(k, entryVa, pa / PAGE_SIZE, _KERNPG_TABLE);
  return pa;
}

/**
 * early_make_pgtable(address) (head64.c, 8170e6bed465): called by the early #PF handler with CR2.
 * Maps the 2 MiB page holding `address` in the direct map, taking page tables from
 * early_dynamic_pgts, and wipes everything to start again when they run out. Returns false
 * (a genuine fault) outside the direct map or once CR3 no longer holds early_level4_pgt.
 */
export function early_make_pgtable(k: Kernel, address: number): boolean {
  return k.call('early_make_pgtable', () => {
    const physaddr = address - __PAGE_OFFSET;
    if (physaddr < 0 || physaddr >= MAXMEM || k.g.native_cr3 !== k.image.early_level4_pgt) return false;
    for (;;) {
      const pgd_p = k.ktextVa(k.image.early_level4_pgt) + pgd_index(address) * 8;
      const pud_pa = earlyTableBelow(k, pgd_p, 3);
      if (pud_pa === null) continue; // "goto again" after reset_early_page_tables
      const pmd_pa = earlyTableBelow(k, k.ktextVa(pud_pa) + pud_index(address) * 8, 2);
      if (pmd_pa === null) continue;
      const pmd_p = k.ktextVa(pmd_pa) + pmd_index(address) * 8;
      setEntry(k, pmd_p, Math.floor(physaddr / PMD_SIZE) * (PMD_SIZE / PAGE_SIZE), early_pmd_flags);
      return true;
    }
  });
}

/** A vector's entry as the CPU runs it: true when the faulting access may be retried. */
export type PageFaultHandler = (cr2: number, errorCode: number) => boolean;

/**
 * early_idt_handler for #PF (arch/x86/kernel/head_64.S, v3.8 / 8170e6bed465): from 8170e6bed465
 * on it calls early_make_pgtable; otherwise, or when that fails, the boot stops with "PANIC: early
 * exception".
 */
export function early_idt_handler(k: Kernel, cr2: number, errorCode: number): boolean {
  return k.call('early_idt_handler', () => {
    if (k.variant.earlyPfHandler && early_make_pgtable(k, cr2)) {
      k.trace.emit({ type: 'page-fault', address: cr2.toString(16), errorCode, handler: 'early-pf', rip: null });
      return true;
    }
    k.console.push(`PANIC: early exception 0e rip 10:0 error ${errorCode.toString(16)} cr2 ${cr2.toString(16)}`);
    k.trace.emit({ type: 'page-fault', address: cr2.toString(16), errorCode, handler: 'unhandled', rip: null });
    return false;
  });
}

// arch/x86/kernel/head64.c (v3.8 and 8170e6bed465): the C entry of a bare-metal boot; resumable
// (lib/linux/kernel.ts callResumable): its own work, then `next` (x86_64_start_reservations)
export function x86_64_start_kernel(k: Kernel, ctl: NativeCpuControl, next: () => void): void {
  k.callResumable('x86_64_start_kernel', {}, (_l, pc) => {
    if (pc === 1) {
      next();
      return -1;
    }
    if (k.variant.earlyPfHandler) {
      // Kill off the identity-map trampoline
      reset_early_page_tables(k);
    } else {
      // zap_identity_mappings(): pgd[0] = 0 and flush (v3.8)
      k.cpu.writeQword(k.ktextVa(k.image.init_level4_pgt), 0, 0);
      ctl.flushTlb();
    }
    k.call('clear_bss', () => undefined);
    // set_intr_gate(i, early_idt_handlers[i]) for every exception vector; load_idt(&idt_descr)
    for (let i = 0; i < NUM_EXCEPTION_VECTORS; i++) set_intr_gate(k, i, 'early_idt_handler');
    k.cpuOps.load_idt.fn();
    k.g.early_idt_installed = true;
    // copy_bootdata(__va(real_mode_data)): the first touch of the direct map
    k.call('copy_bootdata', () => {
      const src = k.__va(REAL_MODE_DATA);
      const dst = k.ktextVa(k.image.boot_params);
      for (let off = 0; off < 0x1000; off += 4) k.cpu.write32(dst + off, k.cpu.read32(src + off));
    });
    if (k.variant.earlyPfHandler) {
      // clear_page(init_level4_pgt); init_level4_pgt[511] = early_level4_pgt[511];
      const l4 = k.ktextVa(k.image.init_level4_pgt);
      k.clear_page(l4);
      const [lo, hi] = k.readEntry(k.ktextVa(k.image.early_level4_pgt) + 511 * 8);
      k.cpu.writeQword(l4 + 511 * 8, lo, hi);
    }
    return 1;
  });
}
