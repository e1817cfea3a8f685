/**
 * The Xen 4.2 PV hypervisor model: a host with machine frames, page types and the M2P; 64-bit PV
 * domains built as libxc builds them; PV vCPUs whose memory accesses fault into Xen and whose
 * hypercalls return Xen's codes; the console with Xen's own formats.
 *
 * Start here: `new XenHost({ trace })`, then `buildPvDomain(host, { domid, memoryBytes, pcpu,
 * kernel })`, which returns the domain, vCPU 0 and start_info. The guest model then reads and
 * writes through `vcpu.read64/write64/writeQword`, issues `vcpu.HYPERVISOR_*` calls, registers
 * handlers with `vcpu.registerGuestCode(address, fn)` + `HYPERVISOR_set_trap_table`, and catches
 * `DomainCrashed` when Xen kills the domain (the lines are in `host.console.lines`).
 */
export * from './public/xen';
export * from './public/errno';
export * from './page-info';
export { FrameTable, COUNT_INLINE_MAX, COUNT_ESCAPE } from './frame-table';
export { M2P, INVALID_M2P_ENTRY, SHARED_M2P_ENTRY, INVALID_M2P_ENTRY_LONG, SHARED_M2P_ENTRY_LONG } from './m2p';
export { XenConsole, XEN_CONSOLE_PREFIX } from './console';
export {
  XenHost, type XenHostOptions, type XenVersion, type HostedDomain, XEN_RESERVED_FRAMES, EXTENT_FRAMES, __PAGE_HYPERVISOR,
} from './host';
export { Domain, type P2mExtent, type Vcpu, type GuestHandler } from './domain';
export { PvVcpu, type GuestCode, type GuestTrapFrame, type TrapCtxtEntry } from './pv-vcpu';
export {
  buildPvDomain, type BuildPvDomainOptions, type KernelImage, type StartInfo, type BootLayout, type BootSegment,
  type PvDomainBuild,
} from './domain-builder';
export type { MmuUpdate, MmuextOp, MulticallEntry, TrapInfo, DoneCount } from './hypercalls/types';
export { DomainCrashed, SHUTDOWN_crash } from './crash';
export {
  XEN_RELEASES, XEN_PATCHES, DEFAULT_XEN_RELEASE, xenReleaseFacts, xenPatchList, type XenRelease, type XenPatch,
  type XenReleaseFacts, type MemLogSite,
} from './release';
export { show_page_walk, propagate_page_fault, do_page_fault } from './traps';
export { print_xen_info, show_registers, show_guest_stack, show_execution_state } from './registers-dump';
export { disallowMasks, getPteFlags, entryMfn, type DisallowMasks } from './mm/pte-flags';
export { MEM_LOG, printk_ratelimit_burst } from './mem-log';
export { is_guest_l4_slot } from './mm/tables';
