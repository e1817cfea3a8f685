/**
 * A domain: its id, vCPUs, the frames it owns (given by the builder as 2 MiB extents, so the
 * toolstack's p2m needs no per-frame storage), vm_assist flags, its per-domain L3 and
 * shared_info frame, its shutdown state, and the guest code the guest model registered. And
 * `Vcpu`, the vCPU state Xen's routines work on (struct vcpu): every routine below the vCPU
 * class (hypercalls, mm, traps, the crash path) is handed the vCPU as a parameter of this type,
 * so none of them imports the class back (lib/xen reads top-down: pv-vcpu -> hypercalls -> mm ->
 * frame table and host).
 * // xen/include/xen/sched.h (struct domain, struct vcpu), xen/common/domain.c (Xen 4.2.0)
 */
import { LabError, describeValue } from '../errors';
import { parseVirtualAddress, type RegisterFile } from '../x86';
import type { XenHost } from './host';

/** What a guest handler receives when Xen bounces an exception to it. */
export interface GuestTrapFrame {
  /** the exception vector (14 for #PF) */
  vector: number;
  /** the error code as delivered (user bit recomputed by propagate_page_fault) */
  errorCode: number;
  /** the faulting address (the guest's cr2) */
  cr2: bigint;
  /** the guest rip at the fault */
  rip: bigint;
  /** the guest stack address of the bounce frame (the handler's rsp) */
  frameAddress: bigint;
}

/** One entry of the virtual IDT (struct trap_info as Xen stores it in pv_vcpu.trap_ctxt). */
export interface TrapCtxtEntry {
  flags: number;
  cs: number;
  /** bits 47:0 of the handler address (0: no handler) */
  address: number;
}

/** struct vcpu / arch_vcpu / pv_vcpu: the state Xen's routines read and change. */
export interface Vcpu {
  readonly domain: Domain;
  readonly vcpuId: number;
  /** v->processor */
  processor: number;
  /** the guest's registers (the saved guest_cpu_user_regs) */
  readonly regs: RegisterFile;
  /** TF_kernel_mode */
  kernelMode: boolean;
  /** v->arch.guest_table / guest_table_user (mfns; 0 = none) */
  guestTable: number;
  guestTableUser: number;
  /** the table the MMU walks now: guest_table in kernel mode, else guest_table_user */
  readonly cr3Mfn: number;
  /** pv_vcpu.trap_ctxt */
  readonly trapCtxt: TrapCtxtEntry[];
  eventCallback: number;
  failsafeCallback: number;
  syscallCallback: number;
  /** pv_vcpu.ctrlreg[2] */
  ctrlreg2: number;
  fpuDirtied: boolean;
  isUp: boolean;
  inMulticall: boolean;
  /** the RFLAGS image the hardware saved at the last exception */
  hwRflags: bigint;
  /** pv_vcpu.kernel_sp */
  kernelSp: bigint;
  vcpuInfoMfn: number;
  vcpuInfoOffset: number;
  ldtBase: number;
  ldtEnts: number;
  /** drops the vCPU's cached translations */
  flushTranslations(): void;
}

/** Guest code registered at an address: runs on the vCPU Xen transferred control on. */
export type GuestHandler = (vcpu: Vcpu, frame: GuestTrapFrame) => void;

/** The p2m a toolstack keeps for a domain: pfn -> mfn over 2 MiB extents. */
export interface P2mExtent {
  pfn: number;
  mfn: number;
  count: number;
}

export class Domain {
  /** the vCPUs, by vcpu_id */
  readonly vcpus: Vcpu[] = [];
  /** d->vm_assist: bit n set for VMASST_TYPE n */
  vmAssist = 0;
  /** d->is_shutting_down: set by domain_shutdown (here: by a crash) */
  isShuttingDown = false;
  /** d->shutdown_code: SHUTDOWN_crash after a crash, else null */
  shutdownCode: number | null = null;
  /** d->tot_pages: frames the domain owns (RAM; not counting the shared_info Xen page) */
  totPages = 0;
  /** the machine frame of d->arch.mm_perdomain_l3 (Xen heap) */
  perdomainL3Mfn = 0;
  /** the machine frame of d->shared_info (a Xen heap page shared writable with the guest) */
  sharedInfoMfn = 0;
  /** the toolstack's p2m (dom->p2m_host): pfn -> mfn extents in pfn order */
  readonly p2mExtents: P2mExtent[] = [];
  /** pfns the toolstack backed with another frame than their extent's (pfn -> mfn) */
  readonly p2mMoved = new Map<number, number>();
  /** guest code the guest model registered, by address (bits 47:0) */
  readonly guestCode = new Map<number, GuestHandler>();
  /** dom0: pfn -> mfn frame by frame (construct_dom0 hands frames out out of order); -1 for none */
  p2mFrames: Float64Array | null = null;
  /** dom0: the frames construct_dom0 denied it (iomem_deny_access: local APIC, IO-APICs, unusable RAM) */
  iomemDenied: ReadonlySet<number> | null = null;

  constructor(readonly host: XenHost, readonly domid: number) {}

  /** True once the domain crashed (or was shut down): its vCPUs never run again. */
  get isDead(): boolean {
    return this.isShuttingDown;
  }

  /** d->max_pages / nr_pages: the number of guest pfns. */
  get nrPages(): number {
    if (this.p2mFrames !== null) return this.p2mFrames.length;
    let n = 0;
    for (const e of this.p2mExtents) n += e.count;
    return n;
  }

  /**
   * The machine frame the builder gave guest pfn `pfn` (the toolstack's p2m_host), or -1 when
   * the pfn is outside the domain. The guest's own P2M is the mfn_list the builder wrote into
   * its memory (start_info.mfn_list); this is the toolstack's copy, which the guest cannot change.
   */
  pfnToMfn(pfn: number): number {
    if (this.p2mFrames !== null) return pfn >= 0 && pfn < this.p2mFrames.length ? this.p2mFrames[pfn] : -1;
    if (this.p2mMoved.size !== 0) {
      const moved = this.p2mMoved.get(pfn);
      if (moved !== undefined) return moved;
    }
    const ext = this.p2mExtents;
    // Extents are 512 frames each except possibly the last: index directly.
    const k = Math.floor(pfn / 512);
    if (pfn < 0 || k >= ext.length) return -1;
    const e = ext[k];
    const off = pfn - e.pfn;
    return off >= 0 && off < e.count ? e.mfn + off : -1;
  }

  /**
   * Registers the guest model's code at a guest virtual address: when Xen transfers control
   * there (a trap bounce to a handler in the trap table, or a callback), `fn` runs.
   */
  registerGuestCode(address: bigint | string, fn: GuestHandler): void {
    const va48 = parseVirtualAddress('address', address);
    if (typeof fn !== 'function') {
      throw new LabError('WRONG_TYPE', `fn must be a function (vcpu, frame) => void; got ${describeValue(fn)}`);
    }
    this.guestCode.set(va48, fn);
  }
}
