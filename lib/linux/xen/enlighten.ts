/**
 * The Xen PV entry: startup_xen (arch/x86/xen/xen-head.S) and xen_start_kernel
 * (arch/x86/xen/enlighten.c, v3.9), then x86_init.paging.pagetable_init = xen_pagetable_init and
 * the switch to the late pv ops in xen_post_allocator_init (arch/x86/xen/mmu.c).
 */
import type { Kernel } from '../kernel';
import { FIXADDR_TOP, PAGE_SIZE, XEN_HOLE_FIRST_SLOT, XEN_HOLE_LAST_SLOT, pgd_index } from '../layout';
import { _PAGE_PRESENT, _PAGE_PSE, entryFrame } from '../pgtable';
import { pfn_to_page, PG_pinned } from '../struct-page';
import { type ArchHooks, x86_64_start_reservations } from '../boot/setup';
import { paging_init } from '../mm/sparse';
import { xen_mapping_pagetable_reserve, xenMmuOps, type XenGuest } from './mmu';
import { xenCpuOps } from './idt';
import { page_fault } from '../mm/fault';
import { installLateXenOps } from './mmu-late';
import { xen_setup_kernel_pagetable } from './setup-pagetable';
import { xen_memory_setup } from './setup-memory';
import { SIF_INITDOMAIN, VMASST_CMD_enable, VMASST_TYPE_4gb_segments, VMASST_TYPE_pae_extended_cr3, VMASST_TYPE_writable_pagetables } from './hypercall';

// arch/x86/xen/mmu.c (v3.9): SetPagePinned on every page-table page of init_mm, the Xen hole skipped
export function xen_mark_init_mm_pinned(k: Kernel, x: XenGuest): void {
  k.call('xen_mark_init_mm_pinned', () => {
    const setPinned = (pfn: number): void => {
      const word = pfn_to_page(k.page, pfn) + k.page.flags + 4 * Math.floor(PG_pinned / 32); // the word holding the bit
      k.cpu.write32(word, k.cpu.read32(word) | (1 << (PG_pinned % 32)));
    };
    const walk = (tablePfn: number, level: number, firstSlot: number, lastSlot: number): void => {
      const va = k.__va(tablePfn * PAGE_SIZE);
      for (let i = firstSlot; i <= lastSlot; i++) {
        if (level === 4 && i >= XEN_HOLE_FIRST_SLOT && i <= XEN_HOLE_LAST_SLOT) continue;
        if (level === 1) break;
        const [lo, hi] = k.readEntry(va + i * 8);
        if ((lo & _PAGE_PRESENT) === 0 || (level < 4 && (lo & _PAGE_PSE) !== 0)) continue;
        walk(x.p2m.mfn_to_pfn(entryFrame(lo, hi)), level - 1, 0, 511);
      }
      setPinned(tablePfn); // the pgd page last
    };
    walk(k.image.init_level4_pgt / PAGE_SIZE, 4, 0, pgd_index(FIXADDR_TOP));
  });
}

// arch/x86/xen/mmu.c (v3.9 and 5b5c1af104ab): the late pv ops, once struct pages exist
export function xen_post_allocator_init(k: Kernel, x: XenGuest): void {
  k.call('xen_post_allocator_init', () => {
    installLateXenOps(k, x, k.pv); // set_pte/pmd/pud/pgd, alloc_*, and (the fix) write_cr3
    k.g.xen_post_allocator_done = true;
    const vsyscall = pfn_to_page(k.page, k.image.level3_user_vsyscall / PAGE_SIZE) + k.page.flags;
    k.cpu.write32(vsyscall, k.cpu.read32(vsyscall) | (1 << PG_pinned)); // SetPagePinned(virt_to_page(level3_user_vsyscall))
    xen_mark_init_mm_pinned(k, x);
  });
}

// arch/x86/xen/mmu.c (v3.9): x86_init.paging.pagetable_init under Xen; resumable (paging_init, then the rest)
export function xen_pagetable_init(k: Kernel, x: XenGuest): void {
  k.callResumable('xen_pagetable_init', {}, (_l, pc) => {
    if (pc === 0) {
      paging_init(k, false); // Xen masks PSE out of the guest's CPUID: 4 KiB vmemmap
      return 1;
    }
    if (pc === 1) {
      k.call('xen_setup_shared_info', () => undefined);
      return 2;
    }
    xen_post_allocator_init(k, x);
    return -1;
  });
}

/**
 * xen_arch_setup (arch/x86/xen/setup.c, v3.9): the assists a PV kernel asks for, among them
 * writable page tables (Xen then emulates a store into a read-only page-table page instead of
 * faulting). The event and failsafe callbacks it registers (callback_op) are not modelled.
 */
export function xen_arch_setup(k: Kernel, x: XenGuest): void {
  k.call('xen_arch_setup', () => {
    x.hv.HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_4gb_segments);
    x.hv.HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables);
    x.hv.HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_pae_extended_cr3);
  });
}

/** The e820 map xen_memory_setup reports: RAM with the ISA hole (arch/x86/xen/setup.c, v3.9). */
export function xenE820Ram(nrPages: number): { base: number; end: number }[] {
  return [{ base: 0, end: 0xa0000 }, { base: 0x100000, end: nrPages * PAGE_SIZE }];
}

/** The kernel image's page_fault entry, where Xen bounces a #PF its trap table sends to the guest. */
function registerPageFaultEntry(k: Kernel, x: XenGuest): void {
  const address = k.variant.symbols.address('page_fault');
  x.hv.registerGuestCode(BigInt(address) | 0xffff000000000000n, (frame) =>
    page_fault(k, { cr2: Number(frame.cr2 & 0xffffffffffffn), errorCode: frame.errorCode, rip: frame.rip }));
}

// arch/x86/xen/enlighten.c (v3.9): the C entry of a PV guest, as two resumable steps (the early
// set-up, then x86_64_start_reservations: lib/linux/kernel.ts callResumable)
export function xen_start_kernel(k: Kernel, x: XenGuest, pc = 0): number {
  const si = x.hv.start_info;
  const initial = ((si.flags ?? 0) & SIF_INITDOMAIN) !== 0; // xen_initial_domain()
  if (pc === 0) {
    k.cpuOps = xenCpuOps(k, x); // pv_cpu_ops = xen_cpu_ops
    k.pv = xenMmuOps(k, x); // xen_init_mmu_ops(): pv_mmu_ops = xen_mmu_ops
    k.call('xen_init_mmu_ops', () => undefined);
    registerPageFaultEntry(k, x);
    k.g.supports_global = false; // __supported_pte_mask &= ~_PAGE_GLOBAL
    x.p2m.xen_build_dynamic_phys_to_machine(k);
    x.hv.setUpcallMask(true); // local_irq_disable(); early_boot_irqs_disabled = true
    k.console.push('mapping kernel into physical memory'); // xen_raw_console_write
    xen_setup_kernel_pagetable(k, x);
    if (!initial) {
      // domU: the preferred consoles (their frames leave stale words on the stack)
      for (const name of ['xenboot', 'tty', 'hvc']) {
        k.call('add_preferred_console', () => k.call('__add_preferred_console.clone.1', () => k.call('strlcpy', () => void name)));
      }
    }
    k.console.push('about to get started...');
    // the p2m list, start_info, xenstore and console pages stay reserved (xen_memory_setup does it
    // first thing in setup_arch; memblock keeps reserved ranges apart from RAM, so doing it here is the same)
    k.memblock.reserve(k.__pa(si.mfn_list), k.__pa(si.pt_base) - k.__pa(si.mfn_list));
    return 1;
  }
  const arch: ArchHooks = {
    // dom0: x86_init.resources.memory_setup = xen_memory_setup, over the machine's map (for a
    // domU the model keeps its RAM list; see xenE820Ram)
    memory_setup: initial ? (e820) => xen_memory_setup(k, x, e820, true) : undefined,
    ram: xenE820Ram(si.nr_pages),
    cpuHasPse: false,
    cpuHasGbpages: false,
    arch_setup: () => xen_arch_setup(k, x),
    pagetable_init: () => xen_pagetable_init(k, x),
    pagetable_reserve: (start, end) => xen_mapping_pagetable_reserve(k, x, start, end),
  };
  x86_64_start_reservations(k, arch, () => undefined);
  return -1;
}

/** startup_xen: `mov $init_thread_union+THREAD_SIZE,%rsp; jmp xen_start_kernel` (xen-head.S). */
export function startup_xen(k: Kernel, x: XenGuest): void {
  k.callResumable('xen_start_kernel', {}, (_l, pc) => xen_start_kernel(k, x, pc), 'jump');
}
