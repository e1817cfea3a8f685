/**
 * The MMU of one logical processor: the paging control registers, the TLB and the page walk
 * over a physical memory (Intel SDM vol. 3, 4.5 "4-level paging", 4.10 "Caching translation
 * information").
 *
 * `translate` is the hot path: numbers in, a physical address (or -1 on a page fault) out, no
 * allocation. A TLB hit costs a hash probe, a table lookup for the rights and an addition; a
 * miss walks (walkCore) and fills the TLB. The register setters model the instructions that
 * change paging state, with the invalidations SDM 4.10.4.1 gives them:
 *   MOV to CR3  (loadCr3, writeCr3) drops non-global entries (all when CR4.PGE=0)
 *   INVLPG      (invlpg)            drops the page's entry, global or not
 *   MOV to CR4  (setCr4)            drops everything when PGE toggles or SMEP goes 0 -> 1
 *   CR0.WP, EFER.NXE, RFLAGS.AC     no invalidation: hits are checked against them (tlb.ts)
 * A page fault also drops the faulting page's entry (4.10.4.1).
 */
import { LabError, describeValue, expectBoolean, expectInteger } from '../errors';
import { VA_SPACE, checkVa48, parseU64, parseVirtualAddress } from './address';
import { PFEC_INSTR, PFEC_USER, PFEC_WRITE } from './page-fault';
import { PhysicalMemory } from './physical-memory';
import { TLB_ACCESS_INDEXES, TLB_D, TLB_U, TLB_W, TLB_XD, Tlb, tlbMissMask } from './tlb';
import {
  accessBits, cr3Pml4, newWalkScratch, pagingControlFrom, registerFlag, walkCore,
  type Access, type AccessKind, type PagingControl, type PagingRegisters, type WalkFaultKind,
} from './walk';

// Module-level copies of imported bindings used on the hot path: compiled to CommonJS, each use
// of an import is a property read (a getter under tsx); see walk.ts.
const K_VA_SPACE = VA_SPACE;
const K_walkCore = walkCore;
const K_TLB_W = TLB_W;
const K_TLB_U = TLB_U;
const K_TLB_XD = TLB_XD;
const K_TLB_D = TLB_D;

/** The access bits `translate` takes: PFEC_WRITE, PFEC_USER, PFEC_INSTR (0 = supervisor read). */
export const ACCESS_BITS = PFEC_WRITE | PFEC_USER | PFEC_INSTR;

const WRITE_FETCH = PFEC_WRITE | PFEC_INSTR;

/** Options of an `Mmu`: the initial registers (all clear, CR3 = 0, by default) and the TLB size. */
export interface MmuOptions extends Partial<PagingRegisters> {
  /** the most translations the TLB holds, 16 to 2^20 (default 4096) */
  tlbEntries?: number;
}

/** A translation that succeeded. */
export interface TranslationSuccess {
  ok: true;
  pa: bigint;
  /** true when the TLB supplied the translation (no walk) */
  tlbHit: boolean;
  /** absent on success; declared so notebook code (compiled without strict) can read it off the union */
  errorCode?: undefined;
  kind?: undefined;
  level?: undefined;
}

/** A translation that ended in a page fault (SDM 4.7). */
export interface TranslationFault {
  ok: false;
  errorCode: number;
  /** why: a non-present entry, a reserved bit, or the access rights */
  kind: WalkFaultKind;
  /** the level whose entry faulted (0 for a rights fault) */
  level: number;
  /** absent on a fault; declared so notebook code (compiled without strict) can read it off the union */
  pa?: undefined;
  tlbHit?: undefined;
}

/** The outcome of `Mmu.translateAddress`: narrow on `ok`. */
export type TranslationResult = TranslationSuccess | TranslationFault;

/** Counters of an MMU since it was made. */
export interface MmuStats {
  tlbHits: number;
  /** translations that walked: TLB misses, and hits the cached rights did not allow */
  tlbMisses: number;
  pageFaults: number;
}

/** The MMU of one logical processor (4-level paging, no PCIDs, no protection keys). */
export class Mmu {
  /** the physical memory the page tables live in */
  readonly mem: PhysicalMemory;
  /** the TLB; its flush methods are also reachable through the register setters */
  readonly tlb: Tlb;
  /** the error code of the last page fault `translate` reported (SDM 4.7) */
  lastErrorCode = 0;
  /** why the last page fault happened, or null before any */
  lastFaultKind: WalkFaultKind | null = null;
  /** the level whose entry caused the last page fault (0 for a rights fault) */
  lastFaultLevel = 0;
  private readonly ctl: PagingControl;
  private pge: boolean;
  private readonly scratch = newWalkScratch();
  private readonly missMask = new Uint16Array(TLB_ACCESS_INDEXES);
  private hits = 0;
  private misses = 0;
  private faults = 0;

  /** An MMU over `mem`, with registers from `options` (refused with a LabError if malformed). */
  constructor(mem: PhysicalMemory, options: MmuOptions = {}) {
    if (!(mem instanceof PhysicalMemory)) {
      throw new LabError('WRONG_TYPE', `mem must be a PhysicalMemory; got ${describeValue(mem)}`);
    }
    if (typeof options !== 'object' || options === null) {
      throw new LabError('WRONG_TYPE', `options must be an object like { cr3: 0x1000n, cr4: { pge: true } }; got ${describeValue(options)}`);
    }
    const tlbEntries = options.tlbEntries === undefined ? 4096 : expectInteger('options.tlbEntries', options.tlbEntries, 16, 2 ** 20);
    this.ctl = pagingControlFrom({ ...options, cr3: options.cr3 ?? 0n }, mem, 'options');
    this.pge = registerFlag(options, 'cr4', 'pge', 'options');
    this.mem = mem;
    this.tlb = new Tlb(tlbEntries);
    tlbMissMask(this.ctl, this.missMask);
  }

  /**
   * Translates `va48` (bits 47:0 of a canonical address) for an access given as error-code bits
   * (ACCESS_BITS; 0 = supervisor read). Returns the physical address, or -1 on a page fault with
   * `lastErrorCode`, `lastFaultKind` and `lastFaultLevel` set. Sets accessed/dirty flags as the
   * walk does (SDM 4.8).
   */
  translate(va48: number, access: number): number {
    if (typeof va48 !== 'number' || !(va48 >= 0 && va48 < K_VA_SPACE) || Math.floor(va48) !== va48
      || (access & ACCESS_BITS) !== access || (access & WRITE_FETCH) === WRITE_FETCH) {
      this.refuse(va48, access);
    }
    const tlb = this.tlb;
    const slot = tlb.lookup(va48);
    if (slot >= 0 && ((this.missMask[access] >>> tlb.rightsAt(slot)) & 1) === 0) {
      this.hits++;
      return va48 + tlb.deltaAt(slot);
    }
    return this.miss(va48, access);
  }

  /**
   * The public edge of `translate`: `va` as a bigint or hex string, `access` as { kind, user }
   * or a kind alone (a supervisor access). Refuses a non-canonical address (#GP on hardware).
   */
  translateAddress(va: bigint | string, access: Access | AccessKind): TranslationResult {
    const va48 = parseVirtualAddress('va', va);
    const bits = typeof access === 'string' ? accessBits({ kind: access, user: false }) : accessBits(access);
    const hitsBefore = this.hits;
    const pa = this.translate(va48, bits);
    if (pa >= 0) return { ok: true, pa: BigInt(pa), tlbHit: this.hits > hitsBefore };
    return { ok: false, errorCode: this.lastErrorCode, kind: this.lastFaultKind as WalkFaultKind, level: this.lastFaultLevel };
  }

  /**
   * MOV to CR3 with a number: the PML4 at physical address `pa` (bits 11:0, PWT/PCD, are
   * dropped). Flushes the non-global TLB entries, or all of them when CR4.PGE=0 (SDM 4.10.4.1).
   */
  loadCr3(pa: number): void {
    if (typeof pa !== 'number' || !Number.isInteger(pa) || pa < 0 || pa >= 2 ** this.ctl.maxPhysAddr) {
      throw new LabError(typeof pa === 'number' ? 'ADDRESS_OUT_OF_RANGE' : 'WRONG_TYPE',
        `pa must be an integer physical address from 0 to 2^${this.ctl.maxPhysAddr} - 1 (MAXPHYADDR); got ${describeValue(pa)}`);
    }
    this.ctl.pml4 = pa - (pa % 4096);
    this.tlb.onCr3Write(this.pge);
  }

  /** MOV to CR3 with a bigint or hex string, refusing what would #GP (bits 63:52, above MAXPHYADDR). */
  writeCr3(value: bigint | string): void {
    const cr3 = parseU64('cr3', value);
    this.loadCr3(cr3Pml4('cr3', cr3, this.ctl.maxPhysAddr));
  }

  /**
   * INVLPG (SDM 4.10.4.1): drops the TLB entry of the page holding the address, global or not.
   * A number is bits 47:0; a bigint or hex string is a full canonical address.
   */
  invlpg(va: number | bigint | string): void {
    const va48 = typeof va === 'number' ? checkVa48('va', va) : parseVirtualAddress('va', va);
    this.tlb.invlpg(va48);
  }

  /**
   * MOV to CR4 for the paging bits given (the others keep their value). Toggling PGE flushes the
   * whole TLB, global entries included; so does setting SMEP (SDM 4.10.4.1).
   */
  setCr4(bits: { pge?: boolean; smep?: boolean; smap?: boolean }): void {
    if (typeof bits !== 'object' || bits === null) {
      throw new LabError('WRONG_TYPE', `bits must be an object like { pge: true }; got ${describeValue(bits)}`);
    }
    const pge = expectBoolean('bits.pge', bits.pge, true) ?? this.pge;
    const smep = expectBoolean('bits.smep', bits.smep, true) ?? this.ctl.smep;
    const smap = expectBoolean('bits.smap', bits.smap, true) ?? this.ctl.smap;
    if (pge !== this.pge || (smep && !this.ctl.smep)) this.tlb.flushAll();
    const rightsChange = smep !== this.ctl.smep || smap !== this.ctl.smap;
    this.pge = pge;
    this.ctl.smep = smep;
    this.ctl.smap = smap;
    if (rightsChange) tlbMissMask(this.ctl, this.missMask);
  }

  /** Sets CR0.WP. No flush: TLB hits are checked against it (kvm-unit-tests check_toggle_cr0_wp). */
  setCr0Wp(wp: boolean): void {
    if (expectBoolean('wp', wp) === this.ctl.wp) return;
    this.ctl.wp = wp;
    tlbMissMask(this.ctl, this.missMask);
  }

  /** Sets EFER.NXE. No flush: TLB hits are checked against it. */
  setNxe(nxe: boolean): void {
    if (expectBoolean('nxe', nxe) === this.ctl.nxe) return;
    this.ctl.nxe = nxe;
    tlbMissMask(this.ctl, this.missMask);
  }

  /** Sets RFLAGS.AC (lifts SMAP for explicit supervisor data accesses). */
  setAc(ac: boolean): void {
    if (expectBoolean('ac', ac) === this.ctl.ac) return;
    this.ctl.ac = ac;
    tlbMissMask(this.ctl, this.missMask);
  }

  /** The PML4's physical address (CR3 bits 51:12) as a number. */
  get cr3(): number {
    return this.ctl.pml4;
  }

  /** The registers in the public shape, so `walk(mmu.mem, mmu.registers, va, access)` walks the same tables. */
  get registers(): Required<PagingRegisters> & { cr3: bigint } {
    const c = this.ctl;
    return {
      cr3: BigInt(c.pml4),
      cr0: { wp: c.wp },
      cr4: { pge: this.pge, smep: c.smep, smap: c.smap },
      efer: { nxe: c.nxe },
      rflags: { ac: c.ac },
      maxPhysAddr: c.maxPhysAddr,
    };
  }

  /** Counters since the MMU was made. */
  get stats(): MmuStats {
    return { tlbHits: this.hits, tlbMisses: this.misses, pageFaults: this.faults };
  }

  /** The slow path: walk, then fill the TLB or report the fault. */
  private miss(va48: number, access: number): number {
    this.misses++;
    const out = this.scratch;
    if (K_walkCore(this.mem, this.ctl, va48, access, out, null)) {
      const rights = (out.writable ? K_TLB_W : 0) | (out.user ? K_TLB_U : 0) | (out.noExecute ? K_TLB_XD : 0) | (out.dirty ? K_TLB_D : 0);
      this.tlb.fill(va48, out.pa, out.pageSize, rights, out.global && this.pge);
      return out.pa;
    }
    // SDM 4.10.4.1: a page fault invalidates the TLB entries for the faulting address.
    this.tlb.invlpg(va48);
    this.faults++;
    this.lastErrorCode = out.errorCode;
    this.lastFaultKind = out.faultKind;
    this.lastFaultLevel = out.faultLevel;
    return -1;
  }

  private refuse(va48: unknown, access: unknown): never {
    checkVa48('va48', va48);
    throw new LabError(typeof access === 'number' ? 'UNKNOWN_ACCESS_KIND' : 'WRONG_TYPE',
      `access must be error-code bits: PFEC_USER (4) or not, plus PFEC_WRITE (2) or PFEC_INSTR (16) or neither ` +
      `(0 is a supervisor read); got ${describeValue(access)}`);
  }
}
