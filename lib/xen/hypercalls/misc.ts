/**
 * The small hypercalls boot needs: console_io, vm_assist, vcpu_op.
 * // xen/drivers/char/console.c (do_console_io), xen/common/domain.c (vm_assist, do_vcpu_op) (Xen 4.2.0)
 */
import { EINVAL, ENOENT, ENOSYS, EPERM } from '../public/errno';
import {
  CONSOLEIO_read, CONSOLEIO_write, MAX_VMASST_TYPE, VCPUOP_down, VCPUOP_is_up, VCPUOP_up, VMASST_CMD_disable,
  VMASST_CMD_enable,
} from '../public/xen';
import type { Vcpu } from '../domain';


/**
 * do_console_io: on a release build (no VERBOSE) only domain 0 may use the emergency console:
 * a domU gets -EPERM. On a debug build the text goes to the serial console as is (no "(XEN) "
 * prefix: guest_console_write does not go through printk).
 */
export function do_console_io(v: Vcpu, cmd: number, count: number, buffer: string): number {
  const host = v.domain.host;
  if (!host.debug && v.domain.domid !== 0) return -EPERM;
  switch (cmd) {
    case CONSOLEIO_write:
      host.console.guestWrite(buffer.slice(0, Math.max(0, count)));
      return 0;
    case CONSOLEIO_read:
      return 0; // nothing typed on the serial line
    default:
      return -ENOSYS;
  }
}

/** vm_assist(d, cmd, type) */
export function do_vm_assist(v: Vcpu, cmd: number, type: number): number {
  if (type > MAX_VMASST_TYPE || type < 0) return -EINVAL;
  if (cmd === VMASST_CMD_enable) { v.domain.vmAssist |= 1 << type; return 0; }
  if (cmd === VMASST_CMD_disable) { v.domain.vmAssist &= ~(1 << type); return 0; }
  return -ENOSYS;
}

/** MAX_VIRT_CPUS on x86_64 (asm-x86/config.h: GDT_LDT_MBYTES << (20 - GDT_LDT_VCPU_VA_SHIFT)). */
export const MAX_VIRT_CPUS = 8192;

/** do_vcpu_op for the commands early boot uses (is_up, up, down); the rest are -ENOSYS in the model. */
export function do_vcpu_op(v: Vcpu, cmd: number, vcpuid: number): number {
  const d = v.domain;
  if (vcpuid < 0 || vcpuid >= MAX_VIRT_CPUS) return -EINVAL;
  const target = d.vcpus[vcpuid];
  if (target === undefined) return -ENOENT;
  switch (cmd) {
    case VCPUOP_is_up: return target.isUp ? 1 : 0;
    case VCPUOP_up: target.isUp = true; return 0; // is_initialised: every modelled vCPU is
    case VCPUOP_down: target.isUp = false; return 0;
    default: return -ENOSYS;
  }
}
