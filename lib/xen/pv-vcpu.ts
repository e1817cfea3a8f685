/**
 * A 64-bit PV vCPU: the guest's view of the processor under Xen. Memory accesses go through the
 * x86 page walk with the vCPU's current top-level table (`guest_table` in kernel mode,
 * `guest_table_user` in user mode). The guest kernel runs in ring 3, so the hardware sees every
 * access as a user-mode access (Xen sets _PAGE_USER on the guest's entries for that reason). A
 * fault goes to Xen's `do_page_fault`: fix-ups (writable page-table emulation), then
 * `propagate_page_fault`, which bounces to the guest's #PF handler or crashes the domain.
 * The hypercalls are methods with Xen's names and argument structures; each returns Xen's code.
 * // xen/include/asm-x86/domain.h (struct pv_vcpu, arch_vcpu), xen/arch/x86/traps.c (Xen 4.2.0)
 */
import { LabError, describeValue } from '../errors';
import {
  PFEC_USER, PFEC_WRITE, emptyRegisterFile, joinU64, newWalkScratch, splitU64,
  walkCore, type PagingControl, type RegisterFile, type VirtualCpu, type WalkScratch,
} from '../x86';
import type { Domain, GuestTrapFrame, TrapCtxtEntry, Vcpu } from './domain';
import { do_page_fault } from './traps';
import { MACH2PHYS_VIRT_END, MACH2PHYS_VIRT_START } from './public/xen';
import type { DoneCount, MmuUpdate, MmuextOp, MulticallEntry, TrapInfo } from './hypercalls/types';
import { hypercallEntry } from './hypercalls/dispatch';
import {
  XENMEM_decrease_reservation, XENMEM_machine_memory_map, XENMEM_maximum_reservation, XENMEM_populate_physmap,
  do_decrease_reservation, do_machine_memory_map, do_maximum_reservation, do_populate_physmap,
} from './hypercalls/memory-op';
import type { E820Entry } from './e820';
import { set_evtchn_upcall_mask } from './registers-dump';

export type { GuestTrapFrame, TrapCtxtEntry };

/** Guest code the guest model registers at an address: runs when Xen transfers control there. */
export type GuestCode = (vcpu: PvVcpu, frame: GuestTrapFrame) => void;

/**
 * A direct-mapped translation cache: page number -> page base, 1024 slots. A flush bumps the
 * generation instead of clearing, so Xen can drop it on every hypercall for nothing.
 * Page numbers and addresses run past 2^31, where `%` on them is a floating-point remainder (a
 * call into the runtime); the access path takes low bits with `&` instead, which is exact for
 * integers below 2^53.
 */
class VcpuTlb {
  private readonly vpns = new Float64Array(1024);
  private readonly bases = new Float64Array(1024);
  private readonly gens = new Uint32Array(1024);
  private gen = 1;

  get(vpn: number): number | undefined {
    const slot = vpn & 1023;
    return this.gens[slot] === this.gen && this.vpns[slot] === vpn ? this.bases[slot] : undefined;
  }

  set(vpn: number, base: number): void {
    const slot = vpn & 1023;
    this.vpns[slot] = vpn;
    this.bases[slot] = base;
    this.gens[slot] = this.gen;
  }

  flush(): void {
    this.gen++;
    if (this.gen === 0xffffffff) { this.gens.fill(0); this.gen = 1; }
  }
}

// Hot-path copies of imported bindings (as in lib/x86/walk.ts): compiled to CommonJS, a name
// imported from '../x86' is a getter call on its re-exporting index at every use.
const K_walkCore = walkCore;
const K_PFEC_USER = PFEC_USER;
const K_PFEC_USER_WRITE = PFEC_USER | PFEC_WRITE;
const K_MACH2PHYS_VIRT_START = MACH2PHYS_VIRT_START;
const K_MACH2PHYS_VIRT_END = MACH2PHYS_VIRT_END;

/** 2^48: bits 47:0 of a canonical address are below it */
const VA_LIMIT = 2 ** 48;

/** How many consecutive faults on one access the model allows before calling it a livelock. */
const MAX_FAULT_RETRIES = 64;

export class PvVcpu implements VirtualCpu, Vcpu {
  /** the guest's registers; the guest model sets rip, rsp... at modelled instructions */
  readonly regs: RegisterFile = emptyRegisterFile();
  /** TF_kernel_mode: the guest kernel (not its user space) is running */
  kernelMode = true;
  /** v->arch.guest_table: the kernel's top-level table (an mfn; 0 = none) */
  guestTable = 0;
  /** v->arch.guest_table_user: the user top-level table (an mfn; 0 = none) */
  guestTableUser = 0;
  /** pv_vcpu.trap_ctxt: the virtual IDT, 256 entries */
  readonly trapCtxt: TrapCtxtEntry[] = Array.from({ length: 256 }, () => ({ flags: 0, cs: 0, address: 0 }));
  /** pv_vcpu.event_callback_eip / failsafe_callback_eip / syscall_callback_eip (bits 47:0) */
  eventCallback = 0;
  failsafeCallback = 0;
  syscallCallback = 0;
  /** pv_vcpu.ctrlreg[2]: the cr2 Xen reports to the guest (bits 47:0) */
  ctrlreg2 = 0;
  /** v->fpu_dirtied: CR0.TS is clear while the guest uses the FPU */
  fpuDirtied = false;
  /** the vCPU is up (VCPUOP_up / the builder's VGCF_online) */
  isUp = true;
  /** a hypercall or exception is being processed (multicall re-entry check) */
  inMulticall = false;
  /** the physical CPU this vCPU runs on (v->processor) */
  processor: number;
  /** the guest RFLAGS image the hardware saved at the last exception (RF set for a fault) */
  hwRflags = 0n;
  /** pv_vcpu.kernel_sp: the kernel stack a bounce from user mode switches to */
  kernelSp = 0n;
  /** where this vCPU's struct vcpu_info lives: shared_info's vcpu_info[vcpu_id] unless re-registered */
  vcpuInfoMfn = 0;
  vcpuInfoOffset = 0;
  /** pv_vcpu.ldt_base / ldt_ents (MMUEXT_SET_LDT) */
  ldtBase = 0;
  ldtEnts = 0;
  private readonly scratch: WalkScratch = newWalkScratch();
  /**
   * The vCPU's TLB: page-number -> machine page base, for reads and for writes (a write entry
   * only once the leaf is dirty). Every page-table change reaches Xen (a hypercall, or a fault
   * that Xen emulates), and Xen drops all of it then (but for an mmu_update that fills an empty
   * entry, which no cached translation went through: hypercalls/dispatch.ts), so it never serves
   * a stale translation.
   */
  private readonly tlbRead = new VcpuTlb();
  private readonly tlbWrite = new VcpuTlb();
  private tlbCr3 = -1;
  private readonly ctl: PagingControl;

  constructor(readonly domain: Domain, readonly vcpuId: number, processor: number) {
    this.processor = processor;
    this.ctl = { pml4: 0, wp: true, smep: false, smap: false, ac: false, nxe: domain.host.cpuHasNx, maxPhysAddr: 46 };
  }

  /** The guest's cr2 (the last fault address Xen delivered), bits 47:0. */
  get cr2(): number {
    return this.ctrlreg2;
  }

  /** The machine address of the table the MMU walks now (CR3): guest_table in kernel mode. */
  get cr3Mfn(): number {
    return this.kernelMode ? this.guestTable : this.guestTableUser;
  }

  // ---- guest memory ---------------------------------------------------------------------------

  read32(va48: number): number {
    this.checkAccess('read32', va48, 4);
    if (va48 >= K_MACH2PHYS_VIRT_START && va48 < K_MACH2PHYS_VIRT_END) return this.readM2pWord(va48);
    const pa = this.translate(va48, false, 0, 0, 4);
    return this.domain.host.memory.readWord(pa);
  }

  write32(va48: number, value: number): void {
    this.checkAccess('write32', va48, 4);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
      throw new LabError('VALUE_OUT_OF_RANGE', `value must be a 32-bit integer; got ${describeValue(value)}`);
    }
    const pa = this.translate(va48, true, value >>> 0, 0, 4);
    if (pa >= 0) this.domain.host.memory.writeWord(pa, value >>> 0);
  }

  read64(va48: number): bigint {
    this.checkAccess('read64', va48, 8);
    if (va48 >= K_MACH2PHYS_VIRT_START && va48 < K_MACH2PHYS_VIRT_END) {
      return joinU64(this.readM2pWord(va48), this.readM2pWord(va48 + 4));
    }
    const pa = this.translate(va48, false, 0, 0, 8);
    const mem = this.domain.host.memory;
    return joinU64(mem.readWord(pa), mem.readWord(pa + 4));
  }

  /** Reads 64 bits as two 32-bit halves into `out` (lo, hi): the BigInt-free read. */
  readQword(va48: number, out: { lo: number; hi: number }): void {
    this.checkAccess('readQword', va48, 8);
    if (va48 >= K_MACH2PHYS_VIRT_START && va48 < K_MACH2PHYS_VIRT_END) {
      out.lo = this.readM2pWord(va48);
      out.hi = this.readM2pWord(va48 + 4);
      return;
    }
    const pa = this.translate(va48, false, 0, 0, 8);
    const mem = this.domain.host.memory;
    out.lo = mem.readWord(pa);
    out.hi = mem.readWord(pa + 4);
  }

  write64(va48: number, value: bigint): void {
    this.checkAccess('write64', va48, 8);
    if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n) {
      throw new LabError('VALUE_OUT_OF_RANGE', `value must be a bigint from 0 to 2^64-1; got ${describeValue(value)}`);
    }
    const [lo, hi] = splitU64(value);
    this.store64(va48, lo, hi);
  }

  writeQword(va48: number, lo: number, hi: number): void {
    this.checkAccess('writeQword', va48, 8);
    this.store64(va48, lo >>> 0, hi >>> 0);
  }

  /**
   * The guest-visible M2P: machine_to_phys_mapping[mfn], the read-only table Xen maps into every
   * PV guest at MACH2PHYS_VIRT_START (L4 slot 256). Returns the 64-bit entry (INVALID_M2P_ENTRY
   * = 0xffffffffffffffff for frames no guest owns). A guest read64 of
   * MACH2PHYS_VIRT_START + 8 * mfn returns the same value.
   */
  machine_to_phys_mapping(mfn: number | bigint): bigint {
    const m = typeof mfn === 'bigint' ? Number(mfn) : mfn;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 0) {
      throw new LabError('WRONG_TYPE', `mfn must be a non-negative integer; got ${describeValue(mfn)}`);
    }
    return this.domain.host.m2p.entry(m);
  }

  /**
   * The same entry as a signed long, BigInt-free (the hot form for mfn_to_pfn): the pfn, or -1
   * for INVALID_M2P_ENTRY (~0UL), -2 for SHARED_M2P_ENTRY.
   */
  mfnToPfn(mfn: number): number {
    return this.domain.host.m2p.get(mfn);
  }

  /**
   * The guest's store to its vcpu_info->evtchn_upcall_mask (what xen_irq_disable/enable write):
   * masked = events off. Xen prints it as "EM:" in a crash dump and saves it in a bounce frame.
   */
  setUpcallMask(masked: boolean): void {
    set_evtchn_upcall_mask(this, masked ? 1 : 0);
  }

  /**
   * Registers guest code at an address (see Domain.registerGuestCode). Every vCPU of a domain is
   * a PvVcpu, so the handler gets the vCPU it runs on as one.
   */
  registerGuestCode(address: bigint | string, fn: GuestCode): void {
    if (typeof fn !== 'function') {
      throw new LabError('WRONG_TYPE', `fn must be a function (vcpu, frame) => void; got ${describeValue(fn)}`);
    }
    this.domain.registerGuestCode(address, (v, frame) => fn(v as PvVcpu, frame));
  }

  // ---- hypercalls ----------------------------------------------------------------------------

  /** HYPERVISOR_mmu_update(req, count, success_count, domid): do_mmu_update. */
  HYPERVISOR_mmu_update(reqs: readonly MmuUpdate[], count?: number, pdone?: DoneCount | null, foreigndom?: number): number {
    return hypercallEntry(this, 'mmu_update', [reqs, count ?? (Array.isArray(reqs) ? reqs.length : 0), pdone ?? null, foreigndom ?? 0x7ff0]);
  }

  /** HYPERVISOR_mmuext_op(op, count, success_count, domid): do_mmuext_op. */
  HYPERVISOR_mmuext_op(ops: readonly MmuextOp[], count?: number, pdone?: DoneCount | null, foreigndom?: number): number {
    return hypercallEntry(this, 'mmuext_op', [ops, count ?? (Array.isArray(ops) ? ops.length : 0), pdone ?? null, foreigndom ?? 0x7ff0]);
  }

  /** HYPERVISOR_update_va_mapping(va, new_val, flags): do_update_va_mapping. `vcpumask` stands for the bitmap pointer UVMF_MULTI takes. */
  HYPERVISOR_update_va_mapping(va: bigint | string, val: bigint | string, flags: number, vcpumask?: readonly number[]): number {
    return hypercallEntry(this, 'update_va_mapping', vcpumask === undefined ? [va, val, flags] : [va, val, flags, vcpumask]);
  }

  /** HYPERVISOR_multicall(call_list, nr_calls): do_multicall; each entry's `result` is written back. */
  HYPERVISOR_multicall(calls: MulticallEntry[], nrCalls?: number): number {
    return hypercallEntry(this, 'multicall', [calls, nrCalls ?? (Array.isArray(calls) ? calls.length : 0)]);
  }

  /** HYPERVISOR_set_trap_table(table): do_set_trap_table; null clears the virtual IDT. */
  HYPERVISOR_set_trap_table(table: readonly TrapInfo[] | null): number {
    return hypercallEntry(this, 'set_trap_table', [table]);
  }

  /** HYPERVISOR_set_callbacks(event_address, failsafe_address, syscall_address): do_set_callbacks. */
  HYPERVISOR_set_callbacks(event: bigint | string, failsafe: bigint | string, syscall: bigint | string): number {
    return hypercallEntry(this, 'set_callbacks', [event, failsafe, syscall]);
  }

  /** HYPERVISOR_console_io(cmd, count, buffer): do_console_io. */
  HYPERVISOR_console_io(cmd: number, count: number, buffer: string): number {
    return hypercallEntry(this, 'console_io', [cmd, count, buffer]);
  }

  /** HYPERVISOR_vcpu_op(cmd, vcpuid, extra_args): do_vcpu_op (VCPUOP_is_up, up, down, register_vcpu_info ...). */
  HYPERVISOR_vcpu_op(cmd: number, vcpuid: number, arg?: unknown): number {
    return hypercallEntry(this, 'vcpu_op', [cmd, vcpuid, arg ?? null]);
  }

  /**
   * HYPERVISOR_memory_op(cmd, arg) for the sub-ops a dom0's xen_memory_setup issues:
   * XENMEM_machine_memory_map (returns the map, or -EINVAL), XENMEM_maximum_reservation,
   * XENMEM_decrease_reservation (arg: mfns), XENMEM_populate_physmap (arg: pfns; `out` gets the mfns).
   */
  HYPERVISOR_memory_op(cmd: number, arg?: readonly number[], out?: number[]): number | E820Entry[] {
    if (this.domain.isDead) {
      throw new LabError('DOMAIN_DEAD', `domain ${this.domain.domid} has crashed: HYPERVISOR_memory_op cannot be issued`);
    }
    this.domain.host.currentDomid = this.domain.domid;
    let rc: number | E820Entry[];
    switch (cmd) {
      case XENMEM_machine_memory_map: rc = do_machine_memory_map(this); break;
      case XENMEM_maximum_reservation: rc = do_maximum_reservation(this); break;
      case XENMEM_decrease_reservation: rc = do_decrease_reservation(this, arg ?? []); break;
      case XENMEM_populate_physmap: rc = do_populate_physmap(this, arg ?? [], out ?? []); break;
      default: throw new LabError('INVALID_STATE', `HYPERVISOR_memory_op: sub-op ${cmd} is not modelled`);
    }
    this.domain.host.trace.hypercall('memory_op', String(cmd), typeof rc === 'number' ? rc : rc.length, this.domain.domid);
    return rc;
  }

  /** HYPERVISOR_vm_assist(cmd, type): vm_assist (VMASST_TYPE_writable_pagetables enables page-table write emulation). */
  HYPERVISOR_vm_assist(cmd: number, type: number): number {
    return hypercallEntry(this, 'vm_assist', [cmd, type]);
  }

  /**
   * The page's words when a guest access of that kind would not fault now (see
   * VirtualCpu.pageWords): a TLB hit or a successful walk. Nothing is delivered on a miss.
   */
  pageWords(va48: number, write: boolean): Uint32Array | null {
    this.checkAccess('pageWords', va48, 4);
    if (va48 >= K_MACH2PHYS_VIRT_START && va48 < K_MACH2PHYS_VIRT_END) return null;
    const pa = this.probe(va48, write);
    if (pa < 0) return null;
    const mem = this.domain.host.memory;
    const frame = Math.floor(pa / 4096);
    return write ? mem.words(frame) : mem.storage(frame) ?? null;
  }


  /** Drops every cached translation (Xen: on each hypercall, fault and base-pointer change). */
  flushTranslations(): void {
    this.tlbRead.flush();
    this.tlbWrite.flush();
  }

  /**
   * Zeroes a page (rep stosq) with one translation: a frame that was never written already reads
   * as zeros and gets no storage. A page Xen must emulate writes to is cleared store by store.
   */
  clearPage(va48: number): void {
    this.checkAccess('clearPage', va48, 4096);
    const pa = this.translate(va48, true, 0, 0, 8);
    if (pa < 0) {
      for (let off = 8; off < 4096; off += 8) this.store64(va48 + off, 0, 0);
      return;
    }
    const words = this.domain.host.memory.storage(Math.floor(pa / 4096));
    if (words !== undefined) words.fill(0);
  }

  // ---- internals -----------------------------------------------------------------------------

  private checkAccess(name: string, va48: number, size: number): void {
    // One comparison chain covers the type too: a non-number, NaN or a fraction fails it
    // (size is a power of two; `&` reads the low bits of an integer exactly, see VcpuTlb).
    if (!(va48 >= 0 && va48 < VA_LIMIT && Math.floor(va48) === va48 && (va48 & (size - 1)) === 0)) {
      throw new LabError(typeof va48 === 'number' ? 'ADDRESS_OUT_OF_RANGE' : 'WRONG_TYPE',
        `${name}: va48 must be bits 47:0 of a canonical address, ${size}-byte aligned; got ${describeValue(va48)}`);
    }
    if (this.domain.isDead) {
      throw new LabError('DOMAIN_DEAD',
        `domain ${this.domain.domid} has crashed: Xen never runs its vCPUs again (__domain_crash_synchronous), so the guest can make no further access`);
    }
  }

  private readM2pWord(va48: number): number {
    const off = va48 - MACH2PHYS_VIRT_START;
    const mfn = Math.floor(off / 8);
    return this.domain.host.m2p.entryWord(mfn, off % 8 >= 4);
  }

  private store64(va48: number, lo: number, hi: number): void {
    const pa = this.translate(va48, true, lo, hi, 8);
    if (pa >= 0) {
      // an aligned quadword lies in one frame: one look-up for both halves
      const words = this.domain.host.memory.words(Math.floor(pa / 4096));
      const i = (pa & 0xfff) >>> 2;
      words[i] = lo;
      words[i + 1] = hi;
    }
  }

  /**
   * The MMU: translates for a guest (ring 3) data access. On a fault calls do_page_fault, which
   * either emulated the write (returns -1: nothing left to do), fixed the cause or ran the
   * guest's handler (retry), or crashed the domain (throws DomainCrashed).
   */
  private translate(va48: number, write: boolean, lo: number, hi: number, bytes: number): number {
    for (let attempt = 0; ; attempt++) {
      const pa = this.probe(va48, write);
      if (pa >= 0) return pa;
      this.flushTranslations();
      if (attempt >= MAX_FAULT_RETRIES) {
        throw new LabError('INVALID_STATE',
          `the access to ${va48.toString(16)} faulted ${MAX_FAULT_RETRIES} times in a row: the guest's handler does not fix the fault (the real guest would loop for ever)`);
      }
      const outcome = do_page_fault(this, va48, this.scratch.errorCode, write ? { lo, hi, bytes } : null);
      if (outcome === 'emulated') return -1;
    }
  }

  /**
   * The MMU without fault delivery: the TLB, else a walk with the current table (which fills the
   * TLB). Returns the physical address, or -1 with the error code in the scratch on a fault.
   */
  private probe(va48: number, write: boolean): number {
    const cr3 = this.cr3Mfn;
    if (cr3 !== this.tlbCr3) { this.flushTranslations(); this.tlbCr3 = cr3; }
    const offset = va48 & 0xfff;
    const vpn = (va48 - offset) / 4096;
    const cache = write ? this.tlbWrite : this.tlbRead;
    const cached = cache.get(vpn);
    if (cached !== undefined) return cached + offset;
    this.ctl.pml4 = cr3 * 4096;
    if (!K_walkCore(this.domain.host.memory, this.ctl, va48, write ? K_PFEC_USER_WRITE : K_PFEC_USER, this.scratch, null)) return -1;
    cache.set(vpn, this.scratch.pa - offset);
    return this.scratch.pa;
  }

}
