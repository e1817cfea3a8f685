/**
 * The way back to the guest after an exception: create_bounce_frame writes the exception frame
 * (rcx, r11, error code, rip, cs with the saved upcall mask, rflags, rsp, ss) onto the guest
 * kernel stack and points the saved registers at the handler. It writes the frame and moves
 * the saved rsp BEFORE it looks at the handler address: with none (TRAPBOUNCE_eip == 0) it
 * jumps to domain_crash_synchronous, so the crash dump shows rsp at the frame and the frame's
 * words head the guest stack trace. A fault while writing the frame (an unmapped guest stack)
 * goes through the exception table (.Lft2 .. .Lft13) straight to domain_crash_synchronous: 4.2
 * prints no page walk there (that came in 4.5).
 * // xen/arch/x86/x86_64/entry.S (create_bounce_frame, domain_crash_synchronous) (Xen 4.2.0)
 */
import { PFEC_WRITE, newWalkScratch, walkCore, type PagingControl } from '../x86';
import { __domain_crash_synchronous } from './crash';
import { FLAT_KERNEL_CS, FLAT_KERNEL_SS, HYPERVISOR_VIRT_END, HYPERVISOR_VIRT_START } from './public/xen';
import type { Vcpu } from './domain';
import { evtchn_upcall_mask, set_evtchn_upcall_mask } from './registers-dump';

/** struct trap_bounce (asm-x86/domain.h) */
export interface TrapBounce {
  flags: number;
  errorCode: number;
  cs: number;
  /** bits 47:0 of the handler address; 0 for none */
  eip: number;
}

export const TBF_EXCEPTION = 1;
export const TBF_EXCEPTION_ERRCODE = 2;
export const TBF_INTERRUPT = 8;
export const TBF_FAILSAFE = 16;

// RFLAGS bits (asm-x86/processor.h)
export const X86_EFLAGS_TF = 0x100n;
export const X86_EFLAGS_IF = 0x200n;
export const X86_EFLAGS_NT = 0x4000n;
export const X86_EFLAGS_RF = 0x10000n;
export const X86_EFLAGS_VM = 0x20000n;
export const X86_EFLAGS_AC = 0x40000n;

const U64 = (1n << 64n) - 1n;
const LOW48 = (1n << 48n) - 1n;
const XEN_START_64 = 0xffff000000000000n + BigInt(HYPERVISOR_VIRT_START);
const XEN_END_64 = 0xffff000000000000n + BigInt(HYPERVISOR_VIRT_END);

/** The printk in domain_crash_synchronous. */
export const domain_crash_synchronous_string = 'domain_crash_sync called from entry.S\n';

/**
 * create_bounce_frame: returns normally when the vCPU's registers now point at the handler;
 * throws DomainCrashed (via domain_crash_synchronous) when there is none or the frame cannot be
 * written. `mark` is the console position where this fault's lines began.
 */
export function create_bounce_frame(v: Vcpu, tb: TrapBounce, mark: number): void {
  const regs = v.regs;
  let rsi: bigint;
  if (v.kernelMode) {
    // In kernel context already: push the new frame at the existing rsp.
    rsi = BigInt.asUintN(64, regs.rsp);
    regs.cs &= 0xfffc; // Indicate kernel context to guest.
  } else {
    v.kernelMode = true; // toggle_guest_mode
    rsi = BigInt.asUintN(64, v.kernelSp);
  }
  rsi &= ~0xfn & U64; // Stack frames are 16-byte aligned.
  // In +ve address space, or above Xen's private area (+60)? Then okay.
  if (rsi >= XEN_START_64 && rsi < XEN_END_64 + 60n) domain_crash_synchronous(v, mark);

  const host = v.domain.host;
  const ctl: PagingControl = { pml4: v.cr3Mfn * 4096, wp: true, smep: false, smap: false, ac: false, nxe: host.cpuHasNx, maxPhysAddr: 46 };
  const scratch = newWalkScratch();
  const put = (addr: bigint, value: bigint): void => {
    const a = addr & U64;
    const canonical = (a >> 47n) === 0n || (a >> 47n) === 0x1ffffn;
    // A fault on the store: its _ASM_EXTABLE entry leads to domain_crash_synchronous.
    if (!canonical || !walkCore(host.memory, ctl, Number(a & LOW48), PFEC_WRITE, scratch, null)) {
      domain_crash_synchronous(v, mark);
    }
    host.memory.writeWord(scratch.pa, Number(value & 0xffffffffn));
    host.memory.writeWord(scratch.pa + 4, Number((value >> 32n) & 0xffffffffn));
  };

  const eflags = BigInt.asUintN(64, v.hwRflags);
  rsi -= 40n;
  put(rsi + 32n, BigInt(regs.ss));                 // SS
  put(rsi + 24n, BigInt.asUintN(64, regs.rsp));    // RSP
  const savedMask = evtchn_upcall_mask(v);
  if ((tb.flags & TBF_INTERRUPT) !== 0) set_evtchn_upcall_mask(v, savedMask | 1);
  put(rsi + 8n, (BigInt(savedMask) << 32n) | BigInt(regs.cs & 0xffff)); // CS / saved_upcall_mask
  const frameFlags = ((eflags & 0xffffffffn) & ~X86_EFLAGS_IF) | (savedMask === 0 ? X86_EFLAGS_IF : 0n);
  put(rsi + 16n, frameFlags);                      // RFLAGS
  put(rsi, BigInt.asUintN(64, regs.rip));          // RIP
  if ((tb.flags & TBF_EXCEPTION_ERRCODE) !== 0) {
    rsi -= 8n;
    put(rsi, BigInt(tb.errorCode >>> 0));          // ERROR CODE
  }
  rsi -= 16n;
  put(rsi + 8n, BigInt.asUintN(64, regs.r11));     // R11
  put(rsi, BigInt.asUintN(64, regs.rcx));          // RCX
  // Rewrite our stack frame and return to guest-OS mode.
  regs.rflags = eflags & ~(X86_EFLAGS_AC | X86_EFLAGS_VM | X86_EFLAGS_RF | X86_EFLAGS_NT | X86_EFLAGS_TF);
  regs.ss = FLAT_KERNEL_SS;
  regs.rsp = rsi;
  regs.cs = FLAT_KERNEL_CS;
  if (tb.eip === 0) domain_crash_synchronous(v, mark);
  regs.rip = BigInt(tb.eip) | (tb.eip >= 2 ** 47 ? 0xffff000000000000n : 0n);
}

/** domain_crash_synchronous: fix CS.RPL, print the line, __domain_crash_synchronous. */
export function domain_crash_synchronous(v: Vcpu, mark: number): never {
  v.regs.cs |= 3; // create_bounce_frame() temporarily clobbers CS.RPL. Fix up.
  v.domain.host.console.printk(domain_crash_synchronous_string);
  return __domain_crash_synchronous(v, v.regs, mark, 'domain_crash_sync called from entry.S');
}
