/**
 * A machine for one run: the platform (bare metal, or a Xen host with one PV domain) and the
 * kernel booting on it. `start()` runs the boot until it ends, crashes or hits a breakpoint.
 */
import type { TraceRecorder } from '../trace/recorder';
import type { VirtualCpu } from '../x86/cpu';
import { Kernel } from '../linux/kernel';
import { structPageLayout } from '../linux/struct-page';
import { forReport, kernelVariant } from '../linux/variants';
import { applyWhatIf } from '../linux/what-if';
import type { NormalizedConfig } from './config';
import { reportOf } from './report-runs';

/** What a platform gives the lab: the kernel's CPU, how to start the boot, and its state to read. */
export interface PlatformInstance {
  cpu: VirtualCpu;
  /** runs the boot from the platform's entry (startup_64, or Xen's startup_xen) */
  start(k: Kernel): void;
  /** machine memory and the CR3 (machine address) in force, to walk and dump */
  memory: import('../x86/physical-memory').PhysicalMemory;
  currentCr3(): number;
  /** the hypervisor's console lines ("(XEN) ..."), empty on bare metal */
  xenConsole(): string[];
  /** machine frame -> guest pfn (identity on bare metal) */
  machineToGuest(frame: number): number;
  /** guest pfn -> machine frame (identity on bare metal) */
  guestToMachine(pfn: number): number;
  /** a page-table type Xen gives the machine frame, or null */
  pageType(frame: number): string | null;
  /** under Xen: the host, the guest's domain and its vCPU 0 (null on bare metal) */
  xen: {
    host: import('../xen/host').XenHost;
    domain: import('../xen/domain').Domain;
    vcpu: import('../xen/pv-vcpu').PvVcpu;
    /** the guest kernel's Xen side (hypercall page, p2m, multicall buffer) */
    guest: import('../linux/xen/mmu').XenGuest;
  } | null;
}

export interface Machine {
  kernel: Kernel;
  platform: PlatformInstance;
}

export type PlatformFactory = (config: NormalizedConfig, trace: TraceRecorder) => PlatformInstance;

export function createMachine(config: NormalizedConfig, trace: TraceRecorder, factory: PlatformFactory): Machine {
  const platform = factory(config, trace);
  const kernel = new Kernel(
    forReport(applyWhatIf(kernelVariant(config.variant), config.whatIf), reportOf(config)), config.platform, platform.cpu, trace, structPageLayout(config.structPageSize),
    config.memoryBytes,
  );
  return { kernel, platform };
}
