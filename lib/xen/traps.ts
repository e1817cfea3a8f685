/**
 * Page faults from a PV guest: do_page_fault tries the fix-ups (fixup_page_fault: faults in
 * Xen's range are the guest's; a kernel-mode write to a read-only L1 page table is emulated when
 * the domain enabled writable page tables), then propagate_page_fault sets the guest's cr2 and
 * the trap bounce from the guest's trap table; with no #PF handler it prints
 * "d%d:v%d: unhandled page fault (ec=%04X)" and show_page_walk. On the way out,
 * create_bounce_frame delivers the bounce or crashes the domain.
 * // xen/arch/x86/traps.c (do_page_fault, fixup_page_fault, propagate_page_fault),
 * // xen/arch/x86/x86_64/traps.c (show_page_walk) (Xen 4.2.0)
 */
import { PFEC_INSTR, PFEC_PRESENT, PFEC_RSVD, PFEC_USER, PFEC_WRITE, formatVirtualAddress } from '../x86';
import { TBF_EXCEPTION, TBF_EXCEPTION_ERRCODE, TBF_INTERRUPT, X86_EFLAGS_RF, create_bounce_frame, type TrapBounce } from './entry';
import { ptwr_do_page_fault, type PendingWrite } from './ptwr';
import { PADDR_HI_MASK, _PAGE_PRESENT, _PAGE_PSE } from './mm/pte-flags';
import { HYPERVISOR_VIRT_END, HYPERVISOR_VIRT_START, TRAP_page_fault, VMASST_TYPE_writable_pagetables } from './public/xen';
import type { Vcpu } from './domain';
import { evtchn_upcall_mask, set_evtchn_upcall_mask, show_execution_state } from './registers-dump';
import { __domain_crash_synchronous } from './crash';

/** What became of a guest access that faulted. */
export type FaultOutcome = 'emulated' | 'retry';

const LOW48 = (1n << 48n) - 1n;

/**
 * do_page_fault for a fault the guest took at `addr` (bits 47:0) with hardware error code `ec`
 * (the guest runs in ring 3: PFEC_USER is set). `write` is the store being made, for emulation.
 * Returns 'emulated' (the store was done by Xen) or 'retry' (the guest's handler ran; the access
 * restarts); throws DomainCrashed when the domain dies.
 */
export function do_page_fault(v: Vcpu, addr: number, ec: number, write: PendingWrite | null): FaultOutcome {
  const host = v.domain.host;
  const rip = v.regs.rip;
  host.currentDomid = v.domain.domid;
  if (fixup_page_fault(v, addr, ec, write)) {
    host.trace.emit({ type: 'page-fault', address: formatVirtualAddress(addr), errorCode: ec, handler: 'fixup', rip: hex16(rip) });
    return 'emulated';
  }
  // The exception entry saves the guest's state; the hardware sets RF in the saved RFLAGS of a fault.
  v.hwRflags = v.regs.rflags | X86_EFLAGS_RF;
  const saved = { ...v.regs };
  const savedMask = evtchn_upcall_mask(v);
  const mark = host.console.lines.length;
  const tb = propagate_page_fault(v, addr, ec);
  const handled = tb.eip !== 0;
  host.trace.emit({
    type: 'page-fault', address: formatVirtualAddress(addr), errorCode: tb.errorCode,
    handler: handled ? 'bounced' : 'unhandled', rip: hex16(rip),
  });
  create_bounce_frame(v, tb, mark); // throws DomainCrashed with no handler
  run_guest_handler(v, tb, addr, saved.rip);
  // The handler returned (HYPERVISOR_iret): the guest resumes at the faulting instruction.
  Object.assign(v.regs, saved);
  set_evtchn_upcall_mask(v, savedMask);
  return 'retry';
}

// The last rip formatted: a boot's millions of emulated page-table writes come from a few
// places, so their events share one string instead of a new one each.
let lastRip = -1n;
let lastRipText = '';

function hex16(v: bigint): string {
  if (v !== lastRip) {
    lastRip = v;
    lastRipText = BigInt.asUintN(64, v).toString(16).padStart(16, '0');
  }
  return lastRipText;
}

/** Runs the guest code registered at the bounce target. */
function run_guest_handler(v: Vcpu, tb: TrapBounce, addr: number, faultRip: bigint): void {
  const fn = v.domain.guestCode.get(tb.eip);
  if (fn === undefined) {
    // A guest jump to an address with no modelled code: a mistake in the guest model.
    throw new Error(`Xen bounced the #PF to ${formatVirtualAddress(tb.eip)}, but no guest code is registered there (registerGuestCode)`);
  }
  const cr2 = BigInt(addr) | (addr >= 2 ** 47 ? 0xffff000000000000n : 0n);
  fn(v, { vector: TRAP_page_fault, errorCode: tb.errorCode, cr2, rip: faultRip, frameAddress: v.regs.rsp });
}

/**
 * fixup_page_fault: a fault in Xen's range is the guest's problem (0); a kernel-mode write that
 * hit a present read-only page is tried as a page-table write (ptwr_do_page_fault) when the
 * domain enabled VMASST_TYPE_writable_pagetables.
 */
export function fixup_page_fault(v: Vcpu, addr: number, ec: number, write: PendingWrite | null): boolean {
  if (addr >= HYPERVISOR_VIRT_START && addr < HYPERVISOR_VIRT_END) return false; // IN_HYPERVISOR_RANGE
  if (v.kernelMode && (ec & (PFEC_RSVD | PFEC_INSTR)) === 0 && (ec & PFEC_WRITE) !== 0) {
    if ((v.domain.vmAssist & (1 << VMASST_TYPE_writable_pagetables)) !== 0 && (ec & PFEC_PRESENT) !== 0 &&
        write !== null && ptwr_do_page_fault(v, addr, write)) {
      return true;
    }
  }
  return false;
}

/**
 * propagate_page_fault(addr, error_code): sets the guest's cr2, recomputes the error code's user
 * bit for the guest (clear in kernel mode), and fills the trap bounce from trap_ctxt[14]. With
 * no handler (null_trap_bounce: eip == 0) prints the unhandled-fault line and the page walk.
 * A reserved-bit fault also prints reserved_bit_page_fault's report.
 */
export function propagate_page_fault(v: Vcpu, addr: number, errorCode: number): TrapBounce {
  v.ctrlreg2 = addr; // v->arch.pv_vcpu.ctrlreg[2] = addr; arch_set_cr2(v, addr)
  let ec = errorCode & ~PFEC_USER;
  if (!v.kernelMode) ec |= PFEC_USER;
  const ti = v.trapCtxt[TRAP_page_fault];
  const tb: TrapBounce = { flags: TBF_EXCEPTION | TBF_EXCEPTION_ERRCODE, errorCode: ec, cs: ti.cs, eip: ti.address };
  if ((ti.flags & 4) !== 0) tb.flags |= TBF_INTERRUPT; // TI_GET_IF
  const host = v.domain.host;
  if (tb.eip === 0) {
    host.console.printk(`d${v.domain.domid}:v${v.vcpuId}: unhandled page fault (ec=${(ec & 0xffff).toString(16).toUpperCase().padStart(4, '0')})\n`);
    show_page_walk(v, BigInt(addr) | (addr >= 2 ** 47 ? 0xffff000000000000n : 0n));
  }
  // reserved_bit_page_fault(addr, guest_cpu_user_regs()): the saved frame's error code, as the
  // hardware gave it (user bit set: a 64-bit PV kernel runs in ring 3).
  if ((ec & PFEC_RSVD) !== 0) reserved_bit_page_fault(v, addr, errorCode);
  return tb;
}

/**
 * reserved_bit_page_fault: "d%d:v%d: reserved bit in page table (ec=%04X)" with regs->error_code
 * (not the adjusted one), the walk, the state.
 */
function reserved_bit_page_fault(v: Vcpu, addr: number, ec: number): void {
  const host = v.domain.host;
  host.console.printk(`d${v.domain.domid}:v${v.vcpuId}: reserved bit in page table (ec=${(ec & 0xffff).toString(16).toUpperCase().padStart(4, '0')})\n`);
  show_page_walk(v, BigInt(addr) | (addr >= 2 ** 47 ? 0xffff000000000000n : 0n));
  show_execution_state(v, v.regs);
}

/**
 * show_page_walk(addr): one line per level of the table in CR3, down to the first entry that is
 * not present (or a superpage): the index, the entry, and the M2P of the frame it points to
 * (INVALID_M2P_ENTRY, all ones, for a frame no guest owns, e.g. machine frame 0 of an empty entry).
 */
export function show_page_walk(v: Vcpu, addr: bigint): void {
  const host = v.domain.host;
  const c = host.console;
  const a = BigInt.asUintN(64, addr);
  c.printk(`Pagetable walk from ${a.toString(16).padStart(16, '0')}:\n`);
  const va48 = Number(a & LOW48);
  let mfn = v.cr3Mfn;
  const names = ['', 'L1', 'L2', 'L3', 'L4'];
  for (let level = 4; level >= 1; level--) {
    const index = Math.floor(va48 / 2 ** (12 + 9 * (level - 1))) % 512;
    const words = host.memory.frames.get(mfn);
    const lo = words === undefined ? 0 : words[index * 2];
    const hi = words === undefined ? 0 : words[index * 2 + 1];
    mfn = (hi & PADDR_HI_MASK) * 0x100000 + (lo >>> 12);
    const valid = host.frameTable.mfnValid(mfn);
    const pfn = valid ? host.m2p.entry(mfn) : 0xffffffffffffffffn;
    const entry = hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
    const pse = (lo & _PAGE_PSE) !== 0;
    const suffix = level === 3 ? (pse ? ' (PSE)' : '') : level === 2 ? ` ${pse ? '(PSE)' : ''}` : '';
    c.printk(` ${names[level]}[0x${index.toString(16).padStart(3, '0')}] = ${entry} ${pfn.toString(16).padStart(16, '0')}${suffix}\n`);
    if ((lo & _PAGE_PRESENT) === 0 || !valid) return;
    if (level > 1 && level < 4 && pse) return;
  }
}

/** For callers that crash a domain from outside the fault path (tests, the lab). */
export { __domain_crash_synchronous };
