/**
 * The kernel's own page-fault handler for a fault it cannot fix (arch/x86/mm/fault.c and
 * arch/x86/kernel/dumpstack.c, v3.9.6): page_fault -> do_page_fault; a kernel-mode access to a
 * kernel address that is neither a vmalloc fault nor spurious goes to bad_area_nosemaphore ->
 * no_context, which finds no exception fixup and oopses: show_fault_oops prints the address and the
 * IP, dump_pagetable the walk, __die the "Oops" line; oops_end then kills the task, and in early boot
 * the task is the idle task (pid 0), so do_exit panics. The register dump and call trace of __die
 * (show_regs) are not modelled.
 */
import { formatVirtualAddress } from '../../x86/address';
import type { Kernel } from '../kernel';
import { PAGE_SIZE, pgd_index, pmd_index, pte_index, pud_index } from '../layout';
import { _PAGE_PRESENT, _PAGE_PSE, entryFrame } from '../pgtable';
import { panic } from './panic';

/** The fault as the exception entry hands it over: CR2, the error code and the faulting RIP. */
export interface KernelFault {
  cr2: number;
  errorCode: number;
  /** 64-bit RIP (sign-extended) */
  rip: bigint;
}

/** %pB: `symbol+0xoff/0xsize`, or the raw address when no symbol holds it (kallsyms). */
function sprintBacktrace(k: Kernel, rip: bigint): string {
  const sym = k.variant.symbols.lookup(Number(rip & 0xffffffffffffn));
  if (sym === null) return `0x${BigInt.asUintN(64, rip).toString(16)}`;
  const size = k.variant.symbols.sizeOf(sym.symbol);
  return `${sym.text}/0x${size.toString(16)}`;
}

/** An entry as pgd_val & co. print it: the frame given back as a pfn (xen_pgd_val under Xen). */
function entryValue(k: Kernel, lo: number, hi: number): bigint {
  const raw = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  if ((lo & _PAGE_PRESENT) === 0) return raw;
  const frame = entryFrame(lo, hi);
  const pfn = k.pv.entry_frame_to_pfn.fn(frame);
  return raw - (BigInt(frame) << 12n) + (BigInt(pfn) << 12n);
}

// arch/x86/mm/fault.c (v3.9.6, 64-bit): the walk of the current pgd, "PGD %lx PUD %lx ..."
function dump_pagetable(k: Kernel, address: number): void {
  let table = k.__va(k.pv.read_cr3.fn());
  const names = ['PGD', 'PUD', 'PMD', 'PTE'];
  const indices = [pgd_index(address), pud_index(address), pmd_index(address), pte_index(address)];
  let line = '';
  for (let level = 0; level < 4; level++) {
    const [lo, hi] = k.readEntry(table + indices[level] * 8);
    line += `${names[level]} ${entryValue(k, lo, hi).toString(16)}${level < 3 ? ' ' : ''}`;
    if ((lo & _PAGE_PRESENT) === 0 || (level > 0 && (lo & _PAGE_PSE) !== 0)) break;
    table = k.__va(k.pv.entry_frame_to_pfn.fn(entryFrame(lo, hi)) * PAGE_SIZE);
  }
  k.printk(line);
}

// arch/x86/mm/fault.c (v3.9.6)
function show_fault_oops(k: Kernel, f: KernelFault): void {
  const what = f.cr2 < PAGE_SIZE ? 'NULL pointer dereference' : 'paging request';
  k.printk(`BUG: unable to handle kernel ${what} at ${formatVirtualAddress(f.cr2)}`);
  k.printk(`IP: [<${BigInt.asUintN(64, f.rip).toString(16).padStart(16, '0')}>] ${sprintBacktrace(k, f.rip)}`);
  dump_pagetable(k, f.cr2);
}

// arch/x86/mm/fault.c (v3.9.6): no fixup for this IP, so the kernel oopses
function no_context(k: Kernel, f: KernelFault): never {
  return k.call('no_context', () => {
    show_fault_oops(k, f);
    // __die("Oops", regs, error_code) (arch/x86/kernel/dumpstack.c): "%s: %04lx [#%d] " and "SMP "
    k.printk(`Oops: ${(f.errorCode & 0xffff).toString(16).padStart(4, '0')} [#1] SMP `);
    k.printk(`CR2: ${formatVirtualAddress(f.cr2)}`);
    // oops_end: not in an interrupt, panic_on_oops unset: do_exit(SIGKILL) on pid 0 (kernel/exit.c)
    return panic(k, 'Attempted to kill the idle task!');
  });
}

// arch/x86/mm/fault.c (v3.9.6): the kernel-address branch of __do_page_fault
function do_page_fault(k: Kernel, f: KernelFault): never {
  return k.call('do_page_fault', () => {
    // vmalloc_fault (a not-present kernel fault in [VMALLOC_START, VMALLOC_END]) copies the entry
    // from init_mm's pgd; during boot the current pgd is init_mm's own, so it has nothing to copy
    // and returns -1. spurious_fault only looks at protection faults (PF_PROT); no kprobes.
    return no_context(k, f); // bad_area_nosemaphore -> __bad_area_nosemaphore: kernel mode
  });
}

/** page_fault (arch/x86/kernel/entry_64.S, v3.9.6: errorentry page_fault do_page_fault). */
export function page_fault(k: Kernel, f: KernelFault): never {
  return k.call('page_fault', () => do_page_fault(k, f));
}
