/**
 * What Xen does when domain 0 shuts down: domain_shutdown calls dom0_shutdown for domain 0, which
 * for a crash prints "Domain 0 crashed: " and reboots the machine after 5 seconds (or, with
 * `noreboot` on Xen's command line, says so and halts it). machine_restart first tries the ACPI
 * reset register (reboot_type defaults to BOOT_ACPI), whose address space the FADT gives: memory
 * or I/O space (the common case, the model's default) or PCI configuration space.
 * // xen/common/shutdown.c (dom0_shutdown, maybe_reboot), xen/common/domain.c (domain_shutdown),
 * // xen/arch/x86/shutdown.c (machine_restart), xen/drivers/acpi/reboot.c (acpi_reboot) (Xen 4.1.5-pre)
 */
import type { XenHost } from './host';

/** SHUTDOWN_poweroff, SHUTDOWN_reboot, SHUTDOWN_crash, SHUTDOWN_watchdog (public/sched.h) */
export const SHUTDOWN_poweroff = 0;
export const SHUTDOWN_reboot = 1;
export const SHUTDOWN_crash = 3;
export const SHUTDOWN_watchdog = 4;

// xen/drivers/acpi/reboot.c (Xen 4.1.5-pre)
function acpi_reboot(host: XenHost): void {
  if (host.acpiResetRegister === 'pci') host.console.printk('Resetting with ACPI PCI RESET_REG.\n');
  else if (host.acpiResetRegister !== 'none') host.console.printk('Resetting with ACPI MEMORY or I/O RESET_REG.\n');
}

// xen/arch/x86/shutdown.c (Xen 4.1.5-pre): the first attempt of the reboot loop (BOOT_ACPI)
function machine_restart(host: XenHost): void {
  acpi_reboot(host);
  host.fate = 'rebooted';
}

// xen/common/shutdown.c (Xen 4.1.5-pre)
function maybe_reboot(host: XenHost): void {
  if (host.bootOptions.noreboot) {
    host.console.printk("'noreboot' set - not rebooting.\n");
    host.fate = 'halted';
  } else {
    host.console.printk('rebooting machine in 5 seconds.\n');
    machine_restart(host);
  }
}

// xen/common/shutdown.c (Xen 4.1.5-pre): the machine follows domain 0
export function dom0_shutdown(host: XenHost, reason: number): void {
  switch (reason) {
    case SHUTDOWN_poweroff:
      host.console.printk('Domain 0 halted: halting machine.\n');
      host.fate = 'halted';
      break;
    case SHUTDOWN_crash:
      host.console.printk('Domain 0 crashed: ');
      maybe_reboot(host);
      break;
    case SHUTDOWN_reboot:
      host.console.printk('Domain 0 shutdown: rebooting machine.\n');
      machine_restart(host);
      break;
    case SHUTDOWN_watchdog:
      host.console.printk('Domain 0 shutdown: watchdog rebooting machine.\n');
      machine_restart(host);
      break;
    default:
      host.console.printk(`Domain 0 shutdown (unknown reason ${reason}): `);
      maybe_reboot(host);
  }
}
