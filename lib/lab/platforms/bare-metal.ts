/**
 * The bare-metal platform: physical memory, an MMU with the kernel's control registers and an
 * IDT whose #PF vector the kernel sets. The bootloader loads the image at 16 MiB.
 */
import { BareMetalCpu } from '../../x86/bare-metal-cpu';
import { Mmu } from '../../x86/mmu';
import { PhysicalMemory } from '../../x86/physical-memory';
import type { TraceRecorder } from '../../trace/recorder';
import { writeStaticPageTables } from '../../linux/boot/image-data';
import { startup_64, type BareMetalMachine } from '../../linux/boot/bare-metal';
import { KERNEL_IMAGE } from '../../linux/image';
import type { NormalizedConfig } from '../config';
import type { PlatformInstance } from '../machine';

export function bareMetalPlatform(config: NormalizedConfig, trace: TraceRecorder): PlatformInstance {
  void trace;
  const memory = new PhysicalMemory({ maxPhysAddr: 46 });
  // EFER.NXE, CR0.WP and CR4.PGE as startup_64 and probe_page_size_mask leave them
  const mmu = new Mmu(memory, { cr0: { wp: true }, cr4: { pge: true }, efer: { nxe: true } });
  const cpu = new BareMetalCpu(mmu);
  const writePhysical = (pa: number, lo: number, hi: number): void => {
    const w = memory.words(Math.floor(pa / 4096));
    const i = (pa % 4096) / 4;
    w[i] = lo;
    w[i + 1] = hi;
  };
  const machine: BareMetalMachine = {
    loadCr3: (pa) => mmu.loadCr3(pa),
    flushTlb: () => mmu.loadCr3(mmu.cr3),
    installPageFaultHandler: (h) => cpu.setTrapHandler(14, h),
    writePhysical,
    cpuHasPse: true,
    cpuHasGbpages: config.gbpages,
  };
  // the bootloader: the image's static data at its load address
  writeStaticPageTables(KERNEL_IMAGE, writePhysical, true);
  return {
    cpu,
    memory,
    start: (k) => startup_64(k, machine),
    currentCr3: () => mmu.cr3,
    xenConsole: () => [],
    machineToGuest: (f) => f,
    guestToMachine: (p) => p,
    pageType: () => null,
    xen: null,
  };
}
