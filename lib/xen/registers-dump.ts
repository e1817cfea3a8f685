/**
 * What Xen prints about a guest when it crashes it: show_execution_state = show_registers (the
 * version banner print_xen_info, "CPU:", RIP, RFLAGS with the event mask, the general registers
 * three a line, cr0/cr4/cr3/cr2 and the selectors) then show_stack, which for a guest is
 * show_guest_stack: the raw words on the guest stack from rsp, four a line, at most
 * debug_stack_lines (20) lines, stopping at a STACK_SIZE boundary or at a word Xen cannot read.
 * // xen/arch/x86/x86_64/traps.c (print_xen_info, _show_registers, show_registers),
 * // xen/arch/x86/traps.c (show_guest_stack, show_stack, show_execution_state) (Xen 4.2.0)
 */
import { newWalkScratch, walkCore, type PagingControl, type RegisterFile } from '../x86';
import type { XenHost } from './host';
import { X86_CR0_TS } from './host';
import { HYPERVISOR_VIRT_END } from './public/xen';
import type { Vcpu } from './domain';

/** debug_stack_lines (traps.c, boot option, default 20) */
export const debug_stack_lines = 20;
/** stack_words_per_line on x86_64 */
export const stack_words_per_line = 4;
/** STACK_SIZE: PAGE_SIZE << STACK_ORDER (3 on x86_64) */
export const STACK_SIZE = 4096 << 3;
/** TAINT_STRING: print_tainted with nothing tainted */
export const NOT_TAINTED = 'Not tainted';

function hex16(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

function hex4(v: number): string {
  return (v & 0xffff).toString(16).padStart(4, '0');
}

/** print_xen_info: "----[ Xen-4.2.0  x86_64  debug=n  Not tainted ]----" */
export function print_xen_info(host: XenHost): void {
  const v = host.version;
  host.console.printk(`----[ Xen-${v.major}.${v.minor}${v.extra}  x86_64  debug=${host.debug ? 'y' : 'n'}  ${host.taintString} ]----\n`);
}

/** The vCPU's event-channel upcall mask (vcpu_info(v, evtchn_upcall_mask)), read from its vcpu_info. */
export function evtchn_upcall_mask(v: Vcpu): number {
  const host = v.domain.host;
  const w = host.memory.frames.get(v.vcpuInfoMfn);
  if (w === undefined) return 0;
  const byte = v.vcpuInfoOffset + 1; // struct vcpu_info { uint8_t evtchn_upcall_pending; uint8_t evtchn_upcall_mask; ...}
  return (w[byte >>> 2] >>> ((byte & 3) * 8)) & 0xff;
}

/** Sets the upcall mask byte (create_bounce_frame with TBF_INTERRUPT, the builder). */
export function set_evtchn_upcall_mask(v: Vcpu, value: number): void {
  const host = v.domain.host;
  const w = host.memory.words(v.vcpuInfoMfn);
  const byte = v.vcpuInfoOffset + 1;
  const shift = (byte & 3) * 8;
  w[byte >>> 2] = ((w[byte >>> 2] & ~(0xff << shift)) | ((value & 0xff) << shift)) >>> 0;
}

/** show_registers(regs) for a PV guest context, with print_xen_info first. */
export function show_registers(v: Vcpu, regs: RegisterFile): void {
  const host = v.domain.host;
  const c = host.console;
  const cr0 = (host.cr0 | (v.fpuDirtied ? 0 : X86_CR0_TS)) >>> 0;
  const cr3 = BigInt(v.cr3Mfn) * 4096n;
  const cr2 = BigInt(v.ctrlreg2) | (v.ctrlreg2 >= 2 ** 47 ? 0xffff000000000000n : 0n);
  print_xen_info(host);
  c.printk(`CPU:    ${v.processor}\n`);
  c.printk(`RIP:    ${hex4(regs.cs)}:[<${hex16(regs.rip)}>]`);
  c.printk(`\nRFLAGS: ${hex16(regs.rflags)}   `);
  c.printk(`EM: ${evtchn_upcall_mask(v) !== 0 ? 1 : 0}   `);
  c.printk('CONTEXT: pv guest\n');
  c.printk(`rax: ${hex16(regs.rax)}   rbx: ${hex16(regs.rbx)}   rcx: ${hex16(regs.rcx)}\n`);
  c.printk(`rdx: ${hex16(regs.rdx)}   rsi: ${hex16(regs.rsi)}   rdi: ${hex16(regs.rdi)}\n`);
  c.printk(`rbp: ${hex16(regs.rbp)}   rsp: ${hex16(regs.rsp)}   r8:  ${hex16(regs.r8)}\n`);
  c.printk(`r9:  ${hex16(regs.r9)}   r10: ${hex16(regs.r10)}   r11: ${hex16(regs.r11)}\n`);
  c.printk(`r12: ${hex16(regs.r12)}   r13: ${hex16(regs.r13)}   r14: ${hex16(regs.r14)}\n`);
  c.printk(`r15: ${hex16(regs.r15)}   cr0: ${hex16(BigInt(cr0))}   cr4: ${hex16(BigInt(host.cr4))}\n`);
  c.printk(`cr3: ${hex16(cr3)}   cr2: ${hex16(cr2)}\n`);
  c.printk(`ds: ${hex4(regs.ds)}   es: ${hex4(regs.es)}   fs: ${hex4(regs.fs)}   gs: ${hex4(regs.gs)}   ` +
    `ss: ${hex4(regs.ss)}   cs: ${hex4(regs.cs)}\n`);
}

/**
 * show_guest_stack(v, regs): the words from regs->rsp upwards, read as Xen reads guest memory
 * (a supervisor read through the current page tables; a read that faults ends the dump with
 * "Fault while accessing guest memory.").
 */
export function show_guest_stack(v: Vcpu, regs: RegisterFile): void {
  const host = v.domain.host;
  const c = host.console;
  const rsp = BigInt.asUintN(64, regs.rsp);
  c.printk(`Guest stack trace from rsp=${hex16(rsp)}:\n  `);
  // access_ok: the lower half, or above Xen's reserved area
  if (!(rsp < 1n << 47n || rsp >= 0xffff000000000000n + BigInt(HYPERVISOR_VIRT_END))) {
    c.printk('Guest-inaccessible memory.\n');
    return;
  }
  const ctl: PagingControl = { pml4: v.cr3Mfn * 4096, wp: true, smep: false, smap: false, ac: false, nxe: host.cpuHasNx, maxPhysAddr: 46 };
  const scratch = newWalkScratch();
  let stack = rsp;
  const mask = BigInt(STACK_SIZE);
  let i = 0;
  for (; i < debug_stack_lines * stack_words_per_line; i++) {
    if (((stack - 1n) ^ (stack + 8n - 1n)) & mask) break;
    const va48 = Number(stack & ((1n << 48n) - 1n));
    if (!walkCore(host.memory, ctl, va48, 0, scratch, null)) {
      if (i !== 0) c.printk('\n    ');
      c.printk('Fault while accessing guest memory.');
      i = 1;
      break;
    }
    const lo = host.memory.readWord(scratch.pa);
    const hi = host.memory.readWord(scratch.pa + 4);
    if (i !== 0 && i % stack_words_per_line === 0) c.printk('\n  ');
    c.printk(` ${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}`);
    stack += 8n;
  }
  if (i === 0) c.printk('Stack empty.');
  c.printk('\n');
}

/** show_execution_state(regs): show_registers, then show_stack (the guest's, in guest mode). */
export function show_execution_state(v: Vcpu, regs: RegisterFile): void {
  show_registers(v, regs);
  show_guest_stack(v, regs);
}
