/**
 * do_set_trap_table, do_set_callbacks (xen/arch/x86/traps.c, x86_64/traps.c), do_console_io
 * (drivers/char/console.c), vm_assist and do_vcpu_op (common/domain.c).
 */
import { describe, expect, it } from 'vitest';
import {
  CONSOLEIO_read, CONSOLEIO_write, EINVAL, ENOENT, ENOSYS, EPERM, VCPUOP_down, VCPUOP_is_up, VCPUOP_up,
  VMASST_CMD_enable, VMASST_TYPE_writable_pagetables,
} from '../../lib/xen';
import { makeGuest } from './helpers';

describe('do_set_trap_table', () => {
  it('copies entries up to the one with address 0; RPL forced to 3; NULL clears the table', () => {
    const g = makeGuest();
    const v = g.vcpu;
    expect(v.trapCtxt.every((t) => t.address === 0)).toBe(true); // the builder registers none
    expect(v.HYPERVISOR_set_trap_table([
      { vector: 14, flags: 0, cs: 0xe030, address: 0xffffffff81001000n },
      { vector: 13, flags: 4, cs: 0xe033, address: 0xffffffff81002000n },
      { vector: 0, flags: 0, cs: 0, address: 0n },
      { vector: 3, flags: 0, cs: 0xe033, address: 0xffffffff81003000n },
    ])).toBe(0);
    expect(v.trapCtxt[14]).toEqual({ flags: 0, cs: 0xe033, address: 0xffff81001000 }); // bits 47:0
    expect(v.trapCtxt[13].flags).toBe(4);
    expect(v.trapCtxt[3].address).toBe(0); // after the terminator
    expect(v.HYPERVISOR_set_trap_table(null)).toBe(0);
    expect(v.trapCtxt[14].address).toBe(0);
  });

  it('a non-canonical handler is -EINVAL; earlier entries stay', () => {
    const g = makeGuest();
    expect(g.vcpu.HYPERVISOR_set_trap_table([
      { vector: 14, flags: 0, cs: 0xe033, address: 0xffffffff81001000n },
      { vector: 13, flags: 0, cs: 0xe033, address: 0x0000900000000000n },
    ])).toBe(-EINVAL);
    expect(g.vcpu.trapCtxt[14].address).toBe(0xffff81001000);
    expect(g.vcpu.trapCtxt[13].address).toBe(0);
  });
});

describe('do_set_callbacks', () => {
  it('registers the three entry points and always returns 0 (a non-canonical one is ignored)', () => {
    const g = makeGuest();
    expect(g.vcpu.HYPERVISOR_set_callbacks(0xffffffff81010000n, 0xffffffff81020000n, 0x0000900000000000n)).toBe(0);
    expect(g.vcpu.eventCallback).toBe(0xffff81010000);
    expect(g.vcpu.failsafeCallback).toBe(0xffff81020000);
    expect(g.vcpu.syscallCallback).toBe(0);
  });
});

describe('do_console_io', () => {
  it('is dom0-only on a release build: a domU gets -EPERM', () => {
    const g = makeGuest({ domid: 3 });
    expect(g.vcpu.HYPERVISOR_console_io(CONSOLEIO_write, 5, 'hello')).toBe(-EPERM);
    expect(g.host.console.lines).toEqual([]);
  });

  it('on a debug build writes the guest\'s text as is (no "(XEN) " prefix)', () => {
    const g = makeGuest({ domid: 3, host: { debug: true } });
    expect(g.vcpu.HYPERVISOR_console_io(CONSOLEIO_write, 5, 'hello world\n')).toBe(0);
    expect(g.host.console.lines).toEqual(['hello']);
    expect(g.vcpu.HYPERVISOR_console_io(CONSOLEIO_read, 5, '')).toBe(0);
    expect(g.vcpu.HYPERVISOR_console_io(7, 5, '')).toBe(-ENOSYS);
  });
});

describe('vm_assist and do_vcpu_op', () => {
  it('vm_assist enables a type up to MAX_VMASST_TYPE; others -EINVAL; unknown cmd -ENOSYS', () => {
    const g = makeGuest();
    expect(g.vcpu.HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables)).toBe(0);
    expect(g.domain.vmAssist).toBe(1 << VMASST_TYPE_writable_pagetables);
    expect(g.vcpu.HYPERVISOR_vm_assist(VMASST_CMD_enable, 4)).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_vm_assist(2, 1)).toBe(-ENOSYS);
  });

  it('vcpu_op: is_up / down / up for vCPU 0; a missing vCPU -ENOENT; out of range -EINVAL', () => {
    const g = makeGuest();
    expect(g.vcpu.HYPERVISOR_vcpu_op(VCPUOP_is_up, 0)).toBe(1);
    expect(g.vcpu.HYPERVISOR_vcpu_op(VCPUOP_down, 0)).toBe(0);
    expect(g.vcpu.HYPERVISOR_vcpu_op(VCPUOP_is_up, 0)).toBe(0);
    expect(g.vcpu.HYPERVISOR_vcpu_op(VCPUOP_up, 0)).toBe(0);
    expect(g.vcpu.HYPERVISOR_vcpu_op(VCPUOP_is_up, 1)).toBe(-ENOENT);
    expect(g.vcpu.HYPERVISOR_vcpu_op(VCPUOP_is_up, -1)).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_vcpu_op(VCPUOP_is_up, 8192)).toBe(-EINVAL);
  });
});
