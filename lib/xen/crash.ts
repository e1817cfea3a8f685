/**
 * The end of a domain: `__domain_crash` prints "Domain %d (vcpu#%d) crashed on cpu#%d:" and the
 * execution state, then shuts the domain down with SHUTDOWN_crash. The model unwinds the guest
 * model by throwing `DomainCrashed`.
 * // xen/common/domain.c (Xen 4.2.0)
 */
import { GuestHalted, type RegisterFile } from '../x86/cpu';
import type { Vcpu } from './domain';
import { show_execution_state } from './registers-dump';
import { dom0_shutdown } from './shutdown';

/** SHUTDOWN_crash (public/sched.h) */
export const SHUTDOWN_crash = 3;

/** Thrown out of the guest's access or hypercall when Xen crashes its domain. */
export class DomainCrashed extends GuestHalted {
  constructor(
    /** the domain id */
    readonly domid: number,
    /** the vCPU that was running */
    readonly vcpuId: number,
    /** the physical CPU it ran on */
    readonly pcpu: number,
    /** the console lines printed on the way down (with "(XEN) " prefixes) */
    readonly lines: readonly string[],
    reason: string,
  ) {
    super(reason);
    this.name = 'DomainCrashed';
  }
}

/**
 * __domain_crash(d) when d is the current domain: prints "Domain %d (vcpu#%d) crashed on
 * cpu#%d:" and the execution state, then domain_shutdown(d, SHUTDOWN_crash) pauses every vCPU
 * for ever. (A domain already shutting down prints nothing.)
 */
export function __domain_crash(v: Vcpu, regs: RegisterFile): void {
  const d = v.domain;
  if (!d.isShuttingDown) {
    d.host.console.printk(`Domain ${d.domid} (vcpu#${v.vcpuId}) crashed on cpu#${v.processor}:\n`);
    show_execution_state(v, regs);
  }
  domain_shutdown(v, SHUTDOWN_crash);
}

/** domain_shutdown(d, reason): the domain stops; its vCPUs never run again. */
export function domain_shutdown(v: Vcpu, reason: number): void {
  const d = v.domain;
  if (d.shutdownCode === null) d.shutdownCode = reason;
  if (d.domid === 0) dom0_shutdown(d.host, d.shutdownCode); // the machine follows dom0 (xen/common/domain.c)
  if (d.isShuttingDown) return;
  d.isShuttingDown = true;
  for (const vc of d.vcpus) vc.isUp = false;
  d.host.trace.emit({ type: 'domain-crash', domid: d.domid, reason: reason === SHUTDOWN_crash ? 'crash' : String(reason) });
}

/**
 * __domain_crash_synchronous: crash the current domain and never return to it. The model
 * throws DomainCrashed with the lines printed since `mark`.
 */
export function __domain_crash_synchronous(v: Vcpu, regs: RegisterFile, mark: number, reason: string): never {
  __domain_crash(v, regs);
  const lines = v.domain.host.console.since(mark);
  throw new DomainCrashed(v.domain.domid, v.vcpuId, v.processor, lines, reason);
}
