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
  LEVEL_NAMES, PTE_A, PTE_D, PTE_G, PTE_HI_ADDR, PTE_HI_XD, PTE_LO_FRAME, PTE_P, PTE_PS,
  PTE_RW, PTE_US, TWO_32, joinU64,
} from './pte';
import { accessDenied } from './access-rights';
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
  /** physical address of the leaf entry (the PTE, or the PDE/PDPTE that maps a large page) */
  leafEntryPa: number;
}

/** A fresh scratch object for `walkCore` (allocate once, reuse for every walk). */
export function newWalkScratch(): WalkScratch {
  return {
    pa: 0, pageSize: 0, errorCode: 0, faultKind: null, faultLevel: 0, writable: false, user: false,
    noExecute: false, global: false, dirty: false, leafEntryPa: 0,
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

// Hot-path copies of imported bindings. Compiled to CommonJS, every use of an imported binding
// is a property read on the exporting module's object (a getter call under tsx); in walkCore
// those reads cost more than the rest of the walk (bench/walk.ts: 9.6x the hand-written baseline
// with them, about 2x without). Module-level consts are read once.
const K_PFEC_INSTR = PFEC_INSTR;
const K_PFEC_PRESENT = PFEC_PRESENT;
const K_PFEC_RSVD = PFEC_RSVD;
const K_PFEC_USER = PFEC_USER;
const K_PFEC_WRITE = PFEC_WRITE;
const K_PTE_A = PTE_A;
const K_PTE_D = PTE_D;
const K_PTE_G = PTE_G;
const K_PTE_HI_ADDR = PTE_HI_ADDR;
const K_PTE_HI_XD = PTE_HI_XD;
const K_PTE_LO_FRAME = PTE_LO_FRAME;
const K_PTE_P = PTE_P;
const K_PTE_PS = PTE_PS;
const K_PTE_RW = PTE_RW;
const K_PTE_US = PTE_US;
const K_TWO_32 = TWO_32;
const K_accessDenied = accessDenied;

const LARGE_2M_RSVD_LO = 0x001fe000; // bits 20:13 of a 2 MiB PDE (SDM 4.5, table 4-18)
const LARGE_1G_RSVD_LO = 0x3fffe000; // bits 29:13 of a 1 GiB PDPTE (SDM 4.5, table 4-16)
/** Bits of the low word that are the page offset under a leaf at each level (1..3). */
const LEAF_OFFSET_MASK = [0, 0xfff, 0x1fffff, 0x3fffffff] as const;

/** Bits 51:MAXPHYADDR, in the high word of an entry, plus XD (bit 63) when EFER.NXE=0 (SDM 4.5). */
export function reservedHighMask(maxPhysAddr: number, nxe: boolean): number {
  const addrBits = maxPhysAddr >= 52 ? 0 : (K_PTE_HI_ADDR & ~((1 << (maxPhysAddr - 32)) - 1)) >>> 0;
  return (nxe ? addrBits : addrBits | K_PTE_HI_XD) >>> 0;
}

/**
 * Translates `va48` (bits 47:0 of a canonical address) for an access whose kind is given as
 * error-code bits: PFEC_WRITE, PFEC_USER, PFEC_INSTR. Returns true and fills `out.pa` on
 * success; returns false and fills `out.errorCode` on a page fault. `steps`, when given,
 * receives each level visited.
 *
 * SDM 4.5 (the walk, reserved bits), 4.6.1 (rights), 4.7 (error code), 4.8 (A/D flags). The
 * index of each level is taken from the address split once into two 32-bit halves, so the loop
 * does integer arithmetic only; the final frame is never touched (it need not exist).
 */
export function walkCore(
  mem: PhysicalMemory, ctl: PagingControl, va48: number, access: number, out: WalkScratch,
  steps: RawWalkStep[] | null,
): boolean {
  const rsvdHi = reservedHighMask(ctl.maxPhysAddr, ctl.nxe);
  const vaLo = va48 >>> 0;                 // bits 31:0
  const vaHi = (va48 / K_TWO_32) | 0;      // bits 47:32
  let tableFrame = Math.floor(ctl.pml4 / 4096); // the table's frame number: an integer key for the Map
  let rights = K_PTE_RW | K_PTE_US;        // AND of R/W and U/S over the levels
  let xd = 0;                              // OR of the high words (bit 31 = XD)
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
    const index = level === 4 ? (vaHi >>> 7) & 511
      : level === 3 ? ((vaHi << 2) | (vaLo >>> 30)) & 511
      : level === 2 ? (vaLo >>> 21) & 511
      : (vaLo >>> 12) & 511;
    words = mem.storage(tableFrame);
    wordIndex = index * 2;
    if (words === undefined) {
      lo = 0; hi = 0;
    } else {
      lo = words[wordIndex]; hi = words[wordIndex + 1];
    }
    if (steps !== null) steps.push({ level, index, entryPa: tableFrame * 4096 + index * 8, lo, hi });
    if ((lo & K_PTE_P) === 0) return fault(out, 'not-present', level, access, ctl, 0);
    const ps = (lo & K_PTE_PS) !== 0;
    if ((hi & rsvdHi) !== 0
      || (ps && (level === 4
        || (level === 3 && (lo & LARGE_1G_RSVD_LO) !== 0)
        || (level === 2 && (lo & LARGE_2M_RSVD_LO) !== 0)))) {
      return fault(out, 'reserved-bit', level, access, ctl, K_PFEC_PRESENT | K_PFEC_RSVD);
    }
    rights &= lo;
    xd |= hi;
    if (level === 1 || ps) break;
    if (level === 4) { w4 = words; i4 = wordIndex; } else if (level === 3) { w3 = words; i3 = wordIndex; } else { w2 = words; i2 = wordIndex; }
    tableFrame = (hi & K_PTE_HI_ADDR) * 1048576 + (lo >>> 12);
    level--;
  }

  // Access rights (SDM 4.6.1): the effective rights checked against the kind of access.
  const writable = (rights & K_PTE_RW) !== 0;
  const user = (rights & K_PTE_US) !== 0;
  const noExecute = ctl.nxe && (xd & K_PTE_HI_XD) !== 0;
  if (K_accessDenied(access, writable, user, noExecute, ctl)) {
    return fault(out, 'protection', 0, access, ctl, K_PFEC_PRESENT);
  }

  // Accessed flags on every entry used, dirty on a written leaf (SDM 4.8).
  const isWrite = (access & K_PFEC_WRITE) !== 0;
  if (w4 !== undefined) w4[i4] |= K_PTE_A;
  if (w3 !== undefined) w3[i3] |= K_PTE_A;
  if (w2 !== undefined) w2[i2] |= K_PTE_A;
  const leafWords = words as Uint32Array;
  const leafLo = leafWords[wordIndex] | (isWrite ? K_PTE_A | K_PTE_D : K_PTE_A);
  leafWords[wordIndex] = leafLo;

  // The frame base loses its low bits under a large leaf (bit 12 there is PAT, SDM 4.5).
  const offsetMask = LEAF_OFFSET_MASK[level];
  out.pa = (hi & K_PTE_HI_ADDR) * K_TWO_32 + ((((lo & K_PTE_LO_FRAME) & ~offsetMask) | (vaLo & offsetMask)) >>> 0);
  out.pageSize = offsetMask + 1;
  out.errorCode = 0;
  out.faultKind = null;
  out.faultLevel = 0;
  out.writable = writable;
  out.user = user;
  out.noExecute = noExecute;
  out.global = (lo & K_PTE_G) !== 0;
  out.dirty = (leafLo & K_PTE_D) !== 0;
  out.leafEntryPa = tableFrame * 4096 + wordIndex * 4;
  return true;
}

/** Fills `out` for a page fault and returns false; the error code follows SDM 4.7. */
function fault(out: WalkScratch, kind: WalkFaultKind, level: number, access: number, ctl: PagingControl, base: number): false {
  let code = base | (access & (K_PFEC_WRITE | K_PFEC_USER));
  // I/D is reported only when SMEP or NXE is on (SDM 4.7).
  if ((access & K_PFEC_INSTR) !== 0 && (ctl.nxe || ctl.smep)) code |= K_PFEC_INSTR;
  out.errorCode = code;
  out.faultKind = kind;
  out.faultLevel = level;
  out.pa = 0;
  out.pageSize = 0;
  return false;
}

// ---------------------------------------------------------------------------------------------
// The public edge

/** Control registers as the public API takes them; a missing flag is clear. */
export interface PagingRegisters {
  /** CR3: bits 51:12 hold the PML4 table's physical address; bits 63:52 must be clear */
  cr3: bigint | string;
  /** CR0.WP (SDM 2.5, 4.6.1) */
  cr0?: { wp?: boolean };
  /** CR4.SMEP, CR4.SMAP (SDM 4.6.1) and CR4.PGE (global pages, SDM 4.10.2.4; the walk ignores it) */
  cr4?: { smep?: boolean; smap?: boolean; pge?: boolean };
  /** IA32_EFER.NXE (SDM 4.1.3): XD is honoured, else it is a reserved bit */
  efer?: { nxe?: boolean };
  /** RFLAGS.AC: lifts SMAP for explicit supervisor data accesses (SDM 4.6.1) */
  rflags?: { ac?: boolean };
  /** MAXPHYADDR, 36 to 52; defaults to the memory's */
  maxPhysAddr?: number;
}

/** The kind of a memory access: a data read, a data write or an instruction fetch. */
export type AccessKind = 'read' | 'write' | 'fetch';
/** One memory access as the public API takes it. */
export interface Access {
  kind: AccessKind;
  /** true for a user-mode (CPL 3) access, false for supervisor mode */
  user: boolean;
}

/** One paging-structure entry a walk read, with its address and value. */
export interface WalkStep {
  /** 4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE */
  level: 1 | 2 | 3 | 4;
  name: string;
  index: number;
  entryAddress: bigint;
  entry: bigint;
}

/** A walk that produced a translation. */
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

/** A walk that ended in a page fault (SDM 4.7). */
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

/** The outcome of `walk`: narrow on `ok`. */
export type WalkResult = WalkSuccess | WalkFault;

/**
 * Converts the public register shape to the walk's numbers, refusing bad values; `name` is what
 * error messages call the argument.
 */
export function pagingControlFrom(regs: PagingRegisters, mem: PhysicalMemory, name = 'regs'): PagingControl {
  if (typeof regs !== 'object' || regs === null) {
    throw new LabError('WRONG_TYPE', `${name} must be an object like { cr3: 0x1000n }; got ${describeValue(regs)}`);
  }
  const cr3 = parseU64(`${name}.cr3`, regs.cr3);
  const maxPhysAddr = regs.maxPhysAddr ?? mem.maxPhysAddr;
  if (typeof maxPhysAddr !== 'number' || !Number.isInteger(maxPhysAddr) || maxPhysAddr < 36 || maxPhysAddr > 52) {
    throw new LabError('VALUE_OUT_OF_RANGE', `${name}.maxPhysAddr must be an integer from 36 to 52; got ${describeValue(maxPhysAddr)}`);
  }
  const pml4 = cr3Pml4(`${name}.cr3`, cr3, maxPhysAddr);
  const wp = registerFlag(regs, 'cr0', 'wp', name);
  const smep = registerFlag(regs, 'cr4', 'smep', name);
  const smap = registerFlag(regs, 'cr4', 'smap', name);
  registerFlag(regs, 'cr4', 'pge', name); // not read by the walk, but a typo there is still refused
  const nxe = registerFlag(regs, 'efer', 'nxe', name);
  const ac = registerFlag(regs, 'rflags', 'ac', name);
  return { pml4, wp, smep, smap, ac, nxe, maxPhysAddr };
}

/**
 * The PML4 address a CR3 value holds (bits 51:12; PWT/PCD in bits 4:3 are ignored), refusing
 * values a MOV to CR3 would #GP on: bits 63:52 set (no PCIDs here) or an address at or above
 * MAXPHYADDR (SDM 4.5, table 4-12).
 */
export function cr3Pml4(name: string, cr3: bigint, maxPhysAddr: number): number {
  if (cr3 >> 52n !== 0n) {
    throw new LabError('ADDRESS_OUT_OF_RANGE',
      `${name} 0x${cr3.toString(16)} has reserved bits 63:52 set (PCIDs are not modelled); loading it would raise #GP`);
  }
  const pml4 = cr3 & 0x000ffffffffff000n;
  if (pml4 >= 1n << BigInt(maxPhysAddr)) {
    throw new LabError('ADDRESS_OUT_OF_RANGE',
      `${name} 0x${cr3.toString(16)} points above MAXPHYADDR (${maxPhysAddr} bits); loading it would raise #GP`);
  }
  return Number(pml4);
}

/** Reads `regs[group][flag]` as an optional boolean (false when absent), refusing anything else. */
export function registerFlag(regs: object, group: string, flag: string, name = 'regs'): boolean {
  const holder = (regs as Record<string, unknown>)[group];
  if (holder === undefined) return false;
  if (typeof holder !== 'object' || holder === null) {
    throw new LabError('WRONG_TYPE', `${name}.${group} must be an object like { ${flag}: true } or left out; got ${describeValue(holder)}`);
  }
  return expectBoolean(`${name}.${group}.${flag}`, (holder as Record<string, unknown>)[flag], true) ?? false;
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

/** Converts the raw numbers of the levels visited into the public bigint shape. */
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
