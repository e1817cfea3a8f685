/**
 * do_set_trap_table and do_set_callbacks: the guest's virtual IDT and its event, failsafe and
 * syscall entry points. set_trap_table copies entries until one with address 0 (entries not
 * listed keep their old values); a non-canonical handler address returns -EINVAL at once
 * (earlier entries stay); a NULL table clears all 256. The code selector's RPL is raised to the
 * guest kernel's (fixup_guest_code_selector: 3 for a 64-bit PV kernel). set_callbacks always
 * returns 0, even when register_guest_callback refuses a non-canonical address.
 * // xen/arch/x86/traps.c (do_set_trap_table), xen/arch/x86/x86_64/traps.c (do_set_callbacks) (Xen 4.2.0)
 */
import { EINVAL } from '../public/errno';
import type { Vcpu } from '../domain';

/** A trap_info entry with its address already split: canonical flag and bits 47:0. */
export interface TrapInfoRequest {
  vector: number;
  flags: number;
  cs: number;
  /** the full address is zero (the end-of-table marker) */
  isZero: boolean;
  canonical: boolean;
  address: number;
}

/** GUEST_KERNEL_RPL for a 64-bit PV guest (asm-x86/x86_64/regs.h). */
const GUEST_KERNEL_RPL = 3;

export function do_set_trap_table(v: Vcpu, table: readonly TrapInfoRequest[] | null): number {
  if (table === null) {
    for (const t of v.trapCtxt) { t.flags = 0; t.cs = 0; t.address = 0; }
    return 0;
  }
  for (const cur of table) {
    if (cur.isZero) break;
    if (!cur.canonical) return -EINVAL;
    const cs = (cur.cs & 3) >= GUEST_KERNEL_RPL ? cur.cs : (cur.cs & ~3) | GUEST_KERNEL_RPL;
    const dst = v.trapCtxt[cur.vector];
    dst.flags = cur.flags;
    dst.cs = cs;
    dst.address = cur.address;
  }
  return 0;
}

/** A callback address: canonical flag and bits 47:0. */
export interface CallbackAddress {
  canonical: boolean;
  address: number;
}

export function do_set_callbacks(v: Vcpu, event: CallbackAddress, failsafe: CallbackAddress, syscall: CallbackAddress): number {
  // register_guest_callback: a non-canonical address is refused (-EINVAL), which do_set_callbacks ignores.
  if (event.canonical) v.eventCallback = event.address;
  if (failsafe.canonical) v.failsafeCallback = failsafe.address;
  if (syscall.canonical) v.syscallCallback = syscall.address;
  return 0;
}
