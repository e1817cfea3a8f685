/**
 * The hardware page walk of 4-level paging (Intel SDM vol. 3, 4.5 "4-level paging", 4.6
 * "Access rights", 4.7 "Page-fault exceptions", 4.8 "Accessed and dirty flags").
 *
 * `walkCore` is the hot path: numbers only, no allocation, result in a caller-owned scratch
 * object. `walk` is the public edge: it checks its arguments, takes bigint or hex strings and
 * returns a plain result with the steps it took.
 *
 * Policy where the SDM leaves a choice: accessed flags are set only when the whole translation
 * succeeds (as Bochs does), so a faulting walk changes nothing in memory.
 */
import { LabError, describeValue, expectBoolean } from '../errors';
import { parseU64, parseVirtualAddress, tableIndex } from './address';
import { PFEC_INSTR, PFEC_PRESENT, PFEC_RSVD, PFEC_USER, PFEC_WRITE } from './page-fault';
import {
  LEAF_PAGE_SIZE, LEVEL_NAMES, PTE_A, PTE_D, PTE_G, PTE_HI_ADDR, PTE_HI_XD, PTE_LO_FRAME, PTE_P, PTE_PS,
  PTE_RW, PTE_US, TWO_32, joinU64,
} from './pte';
import type { PhysicalMemory } from './physical-memory';

/** Control-register state the walk depends on, as plain numbers and booleans. */
export interface PagingControl {
  /** physical address of the PML4 table (CR3 bits 51:12) */
  pml4: number;
  /** CR0.WP: supervisor writes honour read-only pages */
  wp: boolean;
  /** CR4.SMEP: supervisor fetches from user pages fault */
  smep: boolean;
  /** CR4.SMAP: supervisor data accesses to user pages fault unless RFLAGS.AC */
  smap: boolean;
  /** RFLAGS.AC */
  ac: boolean;
  /** EFER.NXE: the XD bit is honoured (else it is reserved) */
  nxe: boolean;
  /** MAXPHYADDR in bits */
  maxPhysAddr: number;
}

/** Where a fault was found: the kind and the level (4..1; 0 for a permission fault on the leaf rights). */
export type WalkFaultKind = 'not-present' | 'reserved-bit' | 'protection';

/** The caller-owned result of `walkCore`. */
export interface WalkScratch {
  pa: number;
  pageSize: number;
  errorCode: number;
  faultKind: WalkFaultKind | null;
  faultLevel: number;
  /** effective rights of the translation (AND of RW and US, OR of XD, over the levels used) */
  writable: boolean;
  user: boolean;
  noExecute: boolean;
  global: boolean;
  /** the leaf's dirty flag after the walk */
  dirty: boolean;
  leafLevel: number;
  /** physical address of the leaf entry */
  leafEntryPa: number;
}

export function newWalkScratch(): WalkScratch {
  return {
    pa: 0, pageSize: 0, errorCode: 0, faultKind: null, faultLevel: 0, writable: false, user: false,
    noExecute: false, global: false, dirty: false, leafLevel: 0, leafEntryPa: 0,
  };
}

/** One level visited, recorded in numbers (the public `walk` turns it into bigints). */
export interface RawWalkStep {
  level: number;
  index: number;
  entryPa: number;
  lo: number;
  hi: number;
}

const LARGE_2M_RSVD_LO = 0x001fe000; // bits 20:13 of a 2 MiB PDE
const LARGE_1G_RSVD_LO = 0x3fffe000; // bits 29:13 of a 1 GiB PDPTE

/** Bits 51:MAXPHYADDR, in the high word of an entry. */
export function reservedHighMask(maxPhysAddr: number, nxe: boolean): number {
  const addrBits = maxPhysAddr >= 52 ? 0 : (PTE_HI_ADDR & ~((1 << (maxPhysAddr - 32)) - 1)) >>> 0;
  return (nxe ? addrBits : addrBits | PTE_HI_XD) >>> 0;
}

/**
 * Translates `va48` (bits 47:0 of a canonical address) for an access whose kind is given as
 * error-code bits: PFEC_WRITE, PFEC_USER, PFEC_INSTR. Returns true and fills `out.pa` on
 * success; returns false and fills `out.errorCode` on a page fault. `steps`, when given,
 * receives each level visited.
 */
export function walkCore(
  mem: PhysicalMemory, ctl: PagingControl, va48: number, access: number, out: WalkScratch,
  steps: RawWalkStep[] | null,
): boolean {
  const frames = mem.frames;
  const rsvdHi = reservedHighMask(ctl.maxPhysAddr, ctl.nxe);
  let tablePa = ctl.pml4;
  let writable = true;
  let user = true;
  let noExecute = false;
  let level = 4;
  let lo = 0;
  let hi = 0;
  let words: Uint32Array | undefined;
  let wordIndex = 0;
  // The entries used, to set their accessed flags once the translation is known good.
  let w4: Uint32Array | undefined; let i4 = 0;
  let w3: Uint32Array | undefined; let i3 = 0;
  let w2: Uint32Array | undefined; let i2 = 0;
  for (;;) {
    const index = Math.floor(va48 / 2 ** (3 + 9 * level)) % 512;
    const entryPa = tablePa + index * 8;
    words = frames.get(Math.floor(tablePa / 4096));
    wordIndex = index * 2;
    if (words === undefined) {
      lo = 0; hi = 0;
    } else {
      lo = words[wordIndex]; hi = words[wordIndex + 1];
    }
    if (steps !== null) steps.push({ level, index, entryPa, lo, hi });
    if ((lo & PTE_P) === 0) return fault(out, 'not-present', level, access, ctl, 0);
    let rsvd = (hi & rsvdHi) !== 0;
    const ps = (lo & PTE_PS) !== 0;
    if (level === 4 && ps) rsvd = true;
    else if (level === 3 && ps && (lo & LARGE_1G_RSVD_LO) !== 0) rsvd = true;
    else if (level === 2 && ps && (lo & LARGE_2M_RSVD_LO) !== 0) rsvd = true;
    if (rsvd) return fault(out, 'reserved-bit', level, access, ctl, PFEC_PRESENT | PFEC_RSVD);
    writable = writable && (lo & PTE_RW) !== 0;
    user = user && (lo & PTE_US) !== 0;
    noExecute = noExecute || (ctl.nxe && (hi & PTE_HI_XD) !== 0);
    if (level === 1 || ps) break;
    if (level === 4) { w4 = words; i4 = wordIndex; } else if (level === 3) { w3 = words; i3 = wordIndex; } else { w2 = words; i2 = wordIndex; }
    tablePa = (hi & PTE_HI_ADDR) * TWO_32 + ((lo & PTE_LO_FRAME) >>> 0);
    level--;
  }

  // Access rights (SDM 4.6): the effective rights checked against the kind of access.
  const isUser = (access & PFEC_USER) !== 0;
  const isWrite = (access & PFEC_WRITE) !== 0;
  const isFetch = (access & PFEC_INSTR) !== 0;
  let denied: boolean;
  if (isUser) {
    denied = !user || (isWrite && !writable) || (isFetch && noExecute);
  } else if (isFetch) {
    denied = noExecute || (user && ctl.smep);
  } else {
    denied = (isWrite && !writable && ctl.wp) || (user && ctl.smap && !ctl.ac);
  }
  if (denied) return fault(out, 'protection', 0, access, ctl, PFEC_PRESENT);

  // Accessed flags on every entry used, dirty on a written leaf (SDM 4.8).
  if (w4 !== undefined) w4[i4] |= PTE_A;
  if (w3 !== undefined) w3[i3] |= PTE_A;
  if (w2 !== undefined) w2[i2] |= PTE_A;
  const leafWords = words as Uint32Array;
  leafWords[wordIndex] |= isWrite ? PTE_A | PTE_D : PTE_A;

  const pageSize = LEAF_PAGE_SIZE[level];
  const frameBase = (hi & PTE_HI_ADDR) * TWO_32 + ((lo & PTE_LO_FRAME) >>> 0);
  const base = frameBase - (frameBase % pageSize); // drops the PAT bit (12) of a large leaf
  out.pa = base + (va48 % pageSize);
  out.pageSize = pageSize;
  out.errorCode = 0;
  out.faultKind = null;
  out.faultLevel = 0;
  out.writable = writable;
  out.user = user;
  out.noExecute = noExecute;
  out.global = (lo & PTE_G) !== 0;
  out.dirty = (leafWords[wordIndex] & PTE_D) !== 0;
  out.leafLevel = level;
  out.leafEntryPa = tablePa + (wordIndex >>> 1) * 8;
  return true;
}

function fault(out: WalkScratch, kind: WalkFaultKind, level: number, access: number, ctl: PagingControl, base: number): false {
  let code = base | (access & (PFEC_WRITE | PFEC_USER));
  // I/D is reported only when SMEP or NXE is on (SDM 4.7).
  if ((access & PFEC_INSTR) !== 0 && (ctl.nxe || ctl.smep)) code |= PFEC_INSTR;
  out.errorCode = code;
  out.faultKind = kind;
  out.faultLevel = level;
  out.pa = 0;
  out.pageSize = 0;
  return false;
}

// ---------------------------------------------------------------------------------------------
// The public edge

/** Control registers as the public API takes them. */
export interface PagingRegisters {
  cr3: bigint | string;
  cr0?: { wp?: boolean };
  cr4?: { smep?: boolean; smap?: boolean; pge?: boolean };
  efer?: { nxe?: boolean };
  rflags?: { ac?: boolean };
  /** MAXPHYADDR, 36 to 52; defaults to the memory's */
  maxPhysAddr?: number;
}

export type AccessKind = 'read' | 'write' | 'fetch';
export interface Access {
  kind: AccessKind;
  user: boolean;
}

export interface WalkStep {
  /** 4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE */
  level: 1 | 2 | 3 | 4;
  name: string;
  index: number;
  entryAddress: bigint;
  entry: bigint;
}

export interface WalkSuccess {
  ok: true;
  pa: bigint;
  pageSize: number;
  steps: WalkStep[];
  /** effective rights of the translation */
  rights: { writable: boolean; user: boolean; noExecute: boolean };
  /** absent on success; declared so notebook code (compiled without strict) can read it off the union */
  errorCode?: undefined;
  kind?: undefined;
  level?: undefined;
}

export interface WalkFault {
  ok: false;
  errorCode: number;
  steps: WalkStep[];
  /** why: a non-present entry, a reserved bit, or the access rights */
  kind: WalkFaultKind;
  /** the level whose entry faulted (0 for a rights fault decided on the whole path) */
  level: number;
  /** absent on a fault; declared so notebook code (compiled without strict) can read it off the union */
  pa?: undefined;
  pageSize?: undefined;
  rights?: undefined;
}

export type WalkResult = WalkSuccess | WalkFault;

/** Converts the public register shape to the walk's numbers, refusing bad values. */
export function pagingControlFrom(regs: PagingRegisters, mem: PhysicalMemory): PagingControl {
  if (typeof regs !== 'object' || regs === null) {
    throw new LabError('WRONG_TYPE', `regs must be an object like { cr3: 0x1000n }; got ${describeValue(regs)}`);
  }
  const cr3 = parseU64('regs.cr3', regs.cr3);
  const maxPhysAddr = regs.maxPhysAddr ?? mem.maxPhysAddr;
  if (typeof maxPhysAddr !== 'number' || !Number.isInteger(maxPhysAddr) || maxPhysAddr < 36 || maxPhysAddr > 52) {
    throw new LabError('VALUE_OUT_OF_RANGE', `regs.maxPhysAddr must be an integer from 36 to 52; got ${describeValue(maxPhysAddr)}`);
  }
  const pml4 = cr3 & 0x000ffffffffff000n;
  if (pml4 >= 1n << BigInt(maxPhysAddr)) {
    throw new LabError('ADDRESS_OUT_OF_RANGE',
      `regs.cr3 0x${cr3.toString(16)} points above MAXPHYADDR (${maxPhysAddr} bits); loading it would raise #GP`);
  }
  return {
    pml4: Number(pml4),
    wp: expectBoolean('regs.cr0.wp', regs.cr0?.wp, true) ?? false,
    smep: expectBoolean('regs.cr4.smep', regs.cr4?.smep, true) ?? false,
    smap: expectBoolean('regs.cr4.smap', regs.cr4?.smap, true) ?? false,
    ac: expectBoolean('regs.rflags.ac', regs.rflags?.ac, true) ?? false,
    nxe: expectBoolean('regs.efer.nxe', regs.efer?.nxe, true) ?? false,
    maxPhysAddr,
  };
}

/** The access kind as error-code bits; refuses anything but read/write/fetch and a boolean user. */
export function accessBits(access: Access): number {
  if (typeof access !== 'object' || access === null) {
    throw new LabError('WRONG_TYPE', `access must be an object like { kind: 'read', user: false }; got ${describeValue(access)}`);
  }
  let bits: number;
  switch (access.kind) {
    case 'read': bits = 0; break;
    case 'write': bits = PFEC_WRITE; break;
    case 'fetch': bits = PFEC_INSTR; break;
    default:
      throw new LabError('UNKNOWN_ACCESS_KIND', `access.kind must be 'read', 'write' or 'fetch'; got ${describeValue(access.kind)}`);
  }
  if (expectBoolean('access.user', access.user)) bits |= PFEC_USER;
  return bits;
}

export function toWalkSteps(raw: RawWalkStep[]): WalkStep[] {
  return raw.map((s) => ({
    level: s.level as 1 | 2 | 3 | 4,
    name: LEVEL_NAMES[s.level],
    index: s.index,
    entryAddress: BigInt(s.entryPa),
    entry: joinU64(s.lo, s.hi),
  }));
}

/**
 * Walks the page tables in `mem` from `regs.cr3` for one access to `va`, as the processor
 * would on a TLB miss, setting accessed/dirty flags on success. Refuses a non-canonical
 * address (the CPU raises #GP for it) and malformed arguments with a LabError.
 */
export function walk(mem: PhysicalMemory, regs: PagingRegisters, va: bigint | string, access: Access): WalkResult {
  const ctl = pagingControlFrom(regs, mem);
  const va48 = parseVirtualAddress('va', va);
  const bits = accessBits(access);
  const out = newWalkScratch();
  const raw: RawWalkStep[] = [];
  const ok = walkCore(mem, ctl, va48, bits, out, raw);
  const steps = toWalkSteps(raw);
  if (ok) {
    return {
      ok: true, pa: BigInt(out.pa), pageSize: out.pageSize, steps,
      rights: { writable: out.writable, user: out.user, noExecute: out.noExecute },
    };
  }
  return { ok: false, errorCode: out.errorCode, steps, kind: out.faultKind as WalkFaultKind, level: out.faultLevel };
}

/** Reads an entry's level index for the address (re-exported for callers that draw walks). */
export { tableIndex };
