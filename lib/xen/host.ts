/**
 * A Xen 4.2 host: machine memory (a PhysicalMemory whose frames are MFNs), the frame table, the
 * M2P, Xen's own top-level slots (idle_pg_table 256..271), the physical CPUs and the console.
 * Frames 0 .. XEN_RESERVED_FRAMES-1 are Xen's (text, heap, its own page tables; the first MiB is
 * DOMID_IO's, as arch_init_memory leaves it); guests get
 * frames from the top of memory downwards, in 2 MiB extents, so a guest's mfns are never its pfns.
 * The release (4.2.0 by default, the report's; or 4.2.2) decides the banner, the MEM_LOG lines and
 * the few behaviours that differ; `patches` applies XSA-148 and/or XSA-182, which no 4.2.x had.
 * // xen/arch/x86/setup.c, xen/arch/x86/x86_64/mm.c (paging_init), xen/common/page_alloc.c (Xen 4.2.0)
 */
import { LabError, describeValue, expectBoolean, expectInteger } from '../errors';
import type { TraceRecorder } from '../trace';
import { TraceRecorder as Recorder } from '../trace';
import { PhysicalMemory, PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D } from '../x86';
import { XenConsole } from './console';
import { disallowMasks, type DisallowMasks } from './mm/pte-flags';
import { FrameTable } from './frame-table';
import { M2P } from './m2p';
import type { PageInfo } from './page-info';
import { DOMID_IO, DOMID_XEN, ROOT_PAGETABLE_FIRST_XEN_SLOT, ROOT_PAGETABLE_XEN_SLOTS } from './public/xen';
import { PGT_validated, PGT_writable_page } from './page-info';
import { cmdline_parse, type XenBootOptions } from './cmdline';
import { E820_RAM, e820MaxRamPfn, normalizeE820, type E820Entry } from './e820';
import { OWNER_NONE } from './page-info';

/** What the host knows of a domain built on it (the Domain class lives above the host). */
export interface HostedDomain {
  readonly domid: number;
  /** the machine frame of d->arch.mm_perdomain_l3 */
  readonly perdomainL3Mfn: number;
}
import {
  DEFAULT_XEN_RELEASE, xenPatchList, xenReleaseFacts, type MemLogSite, type XenPatch, type XenRelease,
  type XenReleaseFacts,
} from './release';

/** __PAGE_HYPERVISOR: present, RW, dirty, accessed (asm-x86/page.h) */
export const __PAGE_HYPERVISOR = PTE_P | PTE_RW | PTE_D | PTE_A;
/** Frames below this belong to Xen (DOMID_XEN): its image, heap and page tables. */
export const XEN_RESERVED_FRAMES = 0x1000;
/** The first MiB of machine memory, owned by DOMID_IO (arch_init_memory). */
export const IO_FRAMES = 0x100;
/** Guest memory is handed out in extents of this many frames (2 MiB, order 9). */
export const EXTENT_FRAMES = 512;

// Control-register bits Xen runs guests with (asm-x86/processor.h, x86-defns.h).
export const X86_CR0_PE = 0x00000001;
export const X86_CR0_MP = 0x00000002;
export const X86_CR0_TS = 0x00000008;
export const X86_CR0_ET = 0x00000010;
export const X86_CR0_NE = 0x00000020;
export const X86_CR0_WP = 0x00010000;
export const X86_CR0_AM = 0x00040000;
export const X86_CR0_PG = 0x80000000;
export const X86_CR4_PSE = 0x0010;
export const X86_CR4_PAE = 0x0020;
export const X86_CR4_MCE = 0x0040;
export const X86_CR4_PGE = 0x0080;
export const X86_CR4_OSFXSR = 0x0200;
export const X86_CR4_OSXMMEXCPT = 0x0400;
export const X86_CR4_OSXSAVE = 0x40000;
export const X86_CR4_VMXE = 0x2000;

export interface XenVersion {
  major: number;
  minor: number;
  /** XEN_EXTRAVERSION, e.g. ".0" */
  extra: string;
}

export interface XenHostOptions {
  /** the recorder every event goes to (default: a new one) */
  trace?: TraceRecorder;
  /**
   * machine memory in bytes (a multiple of 2 MiB); default: the host grows to fit every domain
   * built on it
   */
  memoryBytes?: number | bigint;
  /** physical CPUs (default 4) */
  pcpus?: number;
  /**
   * the Xen release the host follows (default '4.2.0', the one in the report's banner; '4.2.2'
   * also): its banner version, MEM_LOG line numbers and behaviours
   */
  release?: XenRelease;
  /**
   * security patches applied on top of the release (default none: no 4.2.x release had them):
   * 'xsa-148' (CVE-2015-7835, commit fe360c90ea) puts _PAGE_PSE back into L2_DISALLOW_MASK unless
   * `allowsuperpage` and makes mod_l2_entry's fast path compare PSE and RW when it is on;
   * 'xsa-182' (CVE-2016-6258, commit e1bff4c2ea) lets only whitelisted flags (NX, AVAIL, GLOBAL,
   * DIRTY, ACCESSED, USER) change on the fast paths of mod_l1_entry .. mod_l4_entry.
   */
  patches?: readonly XenPatch[];
  /** a debug build prints debug=y and lets domUs use console_io (default false: debug=n) */
  debug?: boolean;
  /** the `allowsuperpage` boot option (opt_allow_superpage, default false) */
  allowSuperpage?: boolean;
  /** the CPU has NX (cpu_has_nx; default true): NX is then allowed in guest entries */
  cpuHasNx?: boolean;
  /** CPU has XSAVE (CR4.OSXSAVE set by Xen when it uses it: see the release's xsaveByDefault; default true) */
  cpuHasXsave?: boolean;
  /** CPU has VMX and Xen enabled it for HVM (start_vmx sets CR4.VMXE; default false) */
  cpuHasVmx?: boolean;
  /**
   * Xen's command line (default ''): `sync_console` taints the banner ('C') as console_init_preirq
   * does; `noreboot` makes a crashing dom0 halt the machine instead of rebooting it
   */
  cmdline?: string;
  /**
   * the machine's e820 map (lib/xen/e820.ts; checked): the host's memory then ends at the top of
   * its RAM (rounded up to 2 MiB), frames outside RAM are I/O (DOMID_IO, as arch_init_memory
   * leaves them), and frames for domains come from free RAM, highest first
   */
  e820?: readonly E820Entry[];
  /** the local APIC's and the IO-APICs' machine addresses (default 0xfee00000 and [0xfec00000]) */
  lapicAddress?: number;
  ioapicAddresses?: readonly number[];
  /** the FADT's reset register: in memory or I/O space (default), PCI configuration space, or none */
  acpiResetRegister?: 'memory-or-io' | 'pci' | 'none';
}

/** TAINT_SYNC_CONSOLE (xen/include/xen/lib.h) */
export const TAINT_SYNC_CONSOLE = 1 << 3;

export class XenHost {
  readonly trace: TraceRecorder;
  /** machine memory: frame numbers are MFNs */
  readonly memory: PhysicalMemory;
  readonly frameTable: FrameTable;
  /** machine_to_phys_mapping[] */
  readonly m2p: M2P;
  readonly console: XenConsole;
  readonly pcpus: number;
  /** the release followed, and its facts (banner version, MEM_LOG lines, behaviours) */
  readonly release: XenRelease;
  readonly releaseFacts: XenReleaseFacts;
  /** the banner's version (from the release) */
  readonly version: XenVersion;
  /** the patches applied, in XEN_PATCHES order */
  readonly patches: readonly XenPatch[];
  readonly debug: boolean;
  /** Xen's command line and the boolean options the model reads from it */
  readonly bootOptions: XenBootOptions;
  /** `tainted` (xen/common/kernel.c): TAINT_* bits added at boot */
  readonly tainted: number;
  readonly allowSuperpage: boolean;
  /** the machine's e820 map, or null for the model's growing host */
  readonly e820: readonly E820Entry[] | null;
  /** mp_lapic_addr and the IO-APICs' addresses (construct_dom0 denies dom0 their frames) */
  readonly lapicAddress: number;
  readonly ioapicAddresses: readonly number[];
  readonly acpiResetRegister: 'memory-or-io' | 'pci' | 'none';
  /** what became of the machine: still running, or rebooted / halted after dom0 went down */
  fate: 'running' | 'rebooted' | 'halted' = 'running';
  readonly cpuHasNx: boolean;
  /** XSA-148's fix is applied */
  readonly xsa148Applied: boolean;
  /** XSA-182's fix is applied */
  readonly xsa182Applied: boolean;
  /** the *_DISALLOW_MASKs of this host (arch_init_memory), split into an entry's two words */
  readonly disallow: DisallowMasks;
  /** CR0 and CR4 as Xen runs a PV vCPU (CR0.TS is added while the vCPU has not used the FPU) */
  readonly cr0: number;
  readonly cr4: number;
  readonly domains = new Map<number, HostedDomain>();
  /** current->domain->domain_id while Xen handles a guest's hypercall or fault (0: the toolstack in dom0) */
  currentDomid = 0;
  /**
   * idle_pg_table[256..271]: Xen's slots as every guest L4 receives them (two words a slot);
   * slots 258 (linear) and 260 (per-domain) are replaced per table by alloc_l4_table.
   */
  readonly idleXenSlots = new Uint32Array(ROOT_PAGETABLE_XEN_SLOTS * 2);
  private frames: number;
  private readonly fixedSize: boolean;
  /** the highest frame not yet given to a guest, plus one */
  private freeTop: number;
  private xenHeapNext = 0x100;
  /** e820 host: allocFreeFrame scans down from here */
  private freeScan = 0;

  constructor(options: XenHostOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new LabError('WRONG_TYPE', `options must be an object; got ${describeValue(options)}`);
    }
    if (options.trace !== undefined && !(options.trace instanceof Recorder)) {
      throw new LabError('WRONG_TYPE', `options.trace must be a TraceRecorder; got ${describeValue(options.trace)}`);
    }
    for (const key of ['version', 'xsa148Fixed', 'xsa182Fixed']) {
      if ((options as Record<string, unknown>)[key] !== undefined) {
        throw new LabError('BAD_CONFIG',
          `options.${key} is no longer an option: the banner comes from options.release ('4.2.0' or '4.2.2') and the XSA fixes from options.patches (['xsa-148', 'xsa-182'])`);
      }
    }
    const facts = xenReleaseFacts('options.release', options.release ?? DEFAULT_XEN_RELEASE);
    const patches = xenPatchList('options.patches', options.patches);
    const pcpus = options.pcpus === undefined ? 4 : expectInteger('options.pcpus', options.pcpus, 1, 4096);
    const debug = expectBoolean('options.debug', options.debug, true) ?? false;
    const allowSuperpage = expectBoolean('options.allowSuperpage', options.allowSuperpage, true) ?? false;
    const cpuHasNx = expectBoolean('options.cpuHasNx', options.cpuHasNx, true) ?? true;
    const bootOptions = cmdline_parse('options.cmdline', options.cmdline);
    // identify_cpu: XSAVE is used when the CPU has it and use_xsave (the command line, else the release's default)
    const xsave = (expectBoolean('options.cpuHasXsave', options.cpuHasXsave, true) ?? true) && (bootOptions.xsave ?? facts.xsaveByDefault);
    const vmx = expectBoolean('options.cpuHasVmx', options.cpuHasVmx, true) ?? false;
    this.trace = options.trace ?? new Recorder();
    this.pcpus = pcpus;
    this.release = facts.release;
    this.releaseFacts = facts;
    this.version = { ...facts.version };
    this.patches = patches;
    this.xsa148Applied = patches.includes('xsa-148');
    this.xsa182Applied = patches.includes('xsa-182');
    this.debug = debug;
    this.bootOptions = bootOptions;
    this.tainted = bootOptions.sync_console ? TAINT_SYNC_CONSOLE : 0; // console_init_preirq: add_taint
    this.allowSuperpage = allowSuperpage;
    this.cpuHasNx = cpuHasNx;
    // L2_DISALLOW_MASK: 4.2 clears _PAGE_PSE from it unconditionally; XSA-148 only with allowsuperpage.
    this.disallow = disallowMasks(this.cpuHasNx, this.debug, !this.xsa148Applied || this.allowSuperpage);
    this.cr0 = (X86_CR0_PG | X86_CR0_AM | X86_CR0_WP | X86_CR0_NE | X86_CR0_ET | X86_CR0_MP | X86_CR0_PE) >>> 0;
    this.cr4 = X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |
      (xsave ? X86_CR4_OSXSAVE : 0) | (vmx ? X86_CR4_VMXE : 0);

    this.e820 = options.e820 === undefined ? null : normalizeE820(options.e820 as unknown[]);
    this.lapicAddress = options.lapicAddress ?? 0xfee00000;
    this.ioapicAddresses = [...(options.ioapicAddresses ?? [0xfec00000])];
    this.acpiResetRegister = options.acpiResetRegister ?? 'memory-or-io';
    if (this.e820 !== null) {
      if (options.memoryBytes !== undefined) throw new LabError('BAD_CONFIG', 'give XenHost either memoryBytes or e820, not both (the map decides the memory)');
      this.fixedSize = true;
      this.frames = Math.ceil(e820MaxRamPfn(this.e820) / EXTENT_FRAMES) * EXTENT_FRAMES;
      if (this.frames <= XEN_RESERVED_FRAMES) {
        throw new LabError('BAD_CONFIG', `host.e820's RAM must reach above ${XEN_RESERVED_FRAMES * 4096} bytes (Xen's own frames in the model)`);
      }
    } else if (options.memoryBytes === undefined) {
      this.fixedSize = false;
      this.frames = XEN_RESERVED_FRAMES;
    } else {
      const bytes = typeof options.memoryBytes === 'bigint' ? Number(options.memoryBytes) : options.memoryBytes;
      if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes % (EXTENT_FRAMES * 4096) !== 0 ||
          bytes <= XEN_RESERVED_FRAMES * 4096 || bytes > 2 ** 46) {
        throw new LabError('BAD_CONFIG',
          `options.memoryBytes must be a multiple of 2 MiB above ${XEN_RESERVED_FRAMES * 4096} bytes (Xen's own) and at most 2^46; got ${describeValue(options.memoryBytes)}`);
      }
      this.fixedSize = true;
      this.frames = bytes / 4096;
    }
    this.freeTop = this.frames;
    this.memory = new PhysicalMemory({ maxPhysAddr: 46 });
    this.frameTable = new FrameTable(this.frames);
    this.m2p = new M2P(this.frames);
    this.console = new XenConsole(this.trace);
    for (let mfn = 0; mfn < XEN_RESERVED_FRAMES; mfn++) this.frameTable.assign(mfn, DOMID_XEN);
    // arch_init_memory: "First 1MB of RAM is historically marked as I/O": shared with dom_io, writable.
    for (let mfn = 0; mfn < IO_FRAMES; mfn++) {
      const ft = this.frameTable;
      ft.owner[mfn] = DOMID_IO;
      ft.typeInfo[mfn] = PGT_writable_page | PGT_validated;
      ft.typeCount[mfn] = 1;
      ft.refCount[mfn] = 1;
    }
    if (this.e820 !== null) {
      // arch_init_memory: any frame the e820 does not call RAM is I/O memory, shared with dom_io
      const ram = this.e820.filter((e) => e.type === E820_RAM);
      const ft = this.frameTable;
      let prev = IO_FRAMES;
      const io = (from: number, to: number): void => {
        for (let mfn = Math.max(from, IO_FRAMES); mfn < Math.min(to, this.frames); mfn++) {
          ft.owner[mfn] = DOMID_IO; ft.typeInfo[mfn] = PGT_writable_page | PGT_validated; ft.typeCount[mfn] = 1; ft.refCount[mfn] = 1;
        }
      };
      for (const r of ram) { io(prev, Math.ceil(r.start / 4096)); prev = Math.max(prev, Math.floor(r.end / 4096)); }
      io(prev, this.frames);
      this.freeScan = this.frames;
    }
    this.setupIdleXenSlots();
  }

  /**
   * One free frame of RAM for a domain (alloc_domheap_page), highest first; -1 when none is left.
   * Only on a host built from an e820 map (the model's growing host hands out extents instead).
   */
  allocFreeFrame(): number {
    const ft = this.frameTable;
    while (this.freeScan > XEN_RESERVED_FRAMES) {
      const mfn = --this.freeScan;
      if (ft.owner[mfn] === OWNER_NONE) return mfn;
    }
    return -1;
  }

  /** Frees a frame a domain gave back (XENMEM_decrease_reservation) for later allocations. */
  freeFrame(mfn: number): void {
    const ft = this.frameTable;
    ft.owner[mfn] = OWNER_NONE;
    ft.typeInfo[mfn] = 0; ft.typeCount[mfn] = 0; ft.refCount[mfn] = 0;
    this.m2p.invalidate(mfn);
    if (mfn >= this.freeScan) this.freeScan = mfn + 1;
  }

  /** The console lines so far, each with its "(XEN) " prefix. */
  get consoleLines(): readonly string[] {
    return this.console.lines;
  }

  /** The number of machine frames (max_page). */
  get maxPage(): number {
    return this.frames;
  }

  /** The domain with this id, if built and not destroyed. */
  getDomain(domid: number): HostedDomain | undefined {
    return this.domains.get(domid);
  }

  /** The page_info of a machine frame, for display and tests. */
  pageInfo(mfn: number): PageInfo {
    return this.frameTable.info(mfn);
  }

  /** The mm.c line MEM_LOG prints for a call site in this release. */
  memLogLine(site: MemLogSite): number {
    return this.releaseFacts.memLog[site];
  }

  /**
   * print_tainted: "Not tainted", or "Tainted: " and one letter (or a blank) for each of
   * TAINT_UNSAFE_SMP 'S', TAINT_MACHINE_CHECK 'M', TAINT_BAD_PAGE 'B', TAINT_SYNC_CONSOLE 'C'.
   * // xen/common/kernel.c (Xen 4.1.5-pre, 4.2.0)
   */
  get taintString(): string {
    if (this.tainted === 0) return 'Not tainted';
    const bit = (b: number, c: string): string => ((this.tainted & (1 << b)) !== 0 ? c : ' ');
    return `Tainted: ${bit(0, 'S')}${bit(1, 'M')}${bit(2, 'B')}${bit(3, 'C')}`;
  }

  /** The banner version string: "4.2.0". */
  get versionString(): string {
    return `${this.version.major}.${this.version.minor}${this.version.extra}`;
  }

  /** alloc_xenheap_page: one zeroed Xen frame (owned by DOMID_XEN). */
  allocXenheapPage(): number {
    if (this.xenHeapNext >= XEN_RESERVED_FRAMES) {
      throw new LabError('BAD_CONFIG', `Xen's heap (${XEN_RESERVED_FRAMES} frames) is exhausted: too many domains on one host`);
    }
    const mfn = this.xenHeapNext++;
    this.memory.clearFrame(mfn);
    return mfn;
  }

  /**
   * populate_physmap for `count` frames of a new domain: returns the extents as
   * [firstPfn, firstMfn, count] triples (pfn ascending, mfn descending by extent). Refuses
   * (LabError) when a fixed-size host has too little memory left.
   */
  allocDomainFrames(count: number): Array<[number, number, number]> {
    const rounded = Math.ceil(count / EXTENT_FRAMES) * EXTENT_FRAMES;
    if (this.freeTop - rounded < XEN_RESERVED_FRAMES) {
      if (this.fixedSize) {
        throw new LabError('BAD_CONFIG',
          `the host has ${this.freeTop - XEN_RESERVED_FRAMES} free frames; the domain needs ${count}. Give XenHost a larger memoryBytes (or leave it out to let the host grow)`);
      }
    }
    if (!this.fixedSize) {
      // The growing host puts new memory on top: the domain's region is the newly added one.
      const newFrames = this.frames + rounded;
      this.frameTable.grow(newFrames);
      this.m2p.grow(newFrames);
      this.frames = newFrames;
      this.freeTop = newFrames;
    }
    const extents: Array<[number, number, number]> = [];
    let top = this.freeTop;
    for (let pfn = 0; pfn < count; pfn += EXTENT_FRAMES) {
      const n = Math.min(EXTENT_FRAMES, count - pfn);
      top -= EXTENT_FRAMES;
      extents.push([pfn, top, n]);
    }
    this.freeTop = top;
    return extents;
  }

  /** Xen's own L4 slots: RO M2P (user-readable), Xen text/M2P, the direct map (paging_init). */
  private setupIdleXenSlots(): void {
    const set = (slot: number, mfn: number, flags: number): void => {
      const i = (slot - ROOT_PAGETABLE_FIRST_XEN_SLOT) * 2;
      this.idleXenSlots[i] = ((mfn % 0x100000) * 4096 + flags) >>> 0;
      this.idleXenSlots[i + 1] = Math.floor(mfn / 0x100000);
    };
    set(256, this.allocXenheapPage(), __PAGE_HYPERVISOR | PTE_US); // RO_MPT_VIRT_START: l3_ro_mpt
    set(261, this.allocXenheapPage(), __PAGE_HYPERVISOR);          // RDWR_MPT, ioremap, Xen text
    this.ensureDirectMapSlots();
  }

  /**
   * DIRECTMAP_VIRT_START (slot 262 on): one L3 per 512 GiB of machine memory (a growing host
   * maps slot 262 only; Xen's slots never change once guests have copied them).
   */
  private ensureDirectMapSlots(): void {
    const needed = this.fixedSize ? Math.min(10, Math.max(1, Math.ceil(this.frames / 2 ** 27))) : 1;
    for (let k = 0; k < needed; k++) {
      const i = (262 + k - ROOT_PAGETABLE_FIRST_XEN_SLOT) * 2;
      if (this.idleXenSlots[i] !== 0) continue;
      const mfn = this.allocXenheapPage();
      this.idleXenSlots[i] = (mfn * 4096 + __PAGE_HYPERVISOR) >>> 0;
      this.idleXenSlots[i + 1] = 0;
    }
  }
}
