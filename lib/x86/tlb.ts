/**
 * The TLB (Intel SDM vol. 3, 4.10.2 "Translation Lookaside Buffers" and 4.10.4 "Invalidation of
 * TLBs and Paging-Structure Caches").
 *
 * An entry caches one translation, as SDM 4.10.2.2 lists its contents: the page frame (kept as
 * `pa - va`, so a hit is one addition), the AND of R/W and U/S and the OR of XD over the levels,
 * the leaf's dirty flag, and whether the translation is global (G=1 in the leaf and CR4.PGE=1,
 * 4.10.2.4). A translation is found by the page number of the 4 KiB page it covers; a 2 MiB or
 * 1 GiB translation is kept once under its own page number, so INVLPG anywhere in a large page
 * drops all of it (4.10.4.1) without a scan.
 *
 * The rights are not judged when an entry is filled: each hit is checked against the current
 * CR0.WP, CR4.SMEP/SMAP, RFLAGS.AC and EFER.NXE through a per-access table (`tlbMissMask`, as
 * KVM's update_permission_bitmask), so changing them needs no flush. A hit the table refuses is
 * treated as a miss: the MMU walks again and the walk decides. That covers three cases:
 *  - a write through an entry whose leaf D=0 re-walks, and the walk sets D (SDM 4.8; Bochs, QEMU
 *    and v86 do the same), so write permission is effectively cached only once D is set;
 *  - a cached XD with NXE now 0 re-walks and faults on the reserved bit;
 *  - a stale entry with fewer rights than the tables re-walks rather than raising a "spurious"
 *    fault, which 4.10.4.3 allows but does not require.
 * A stale entry with more rights than the tables is used as it is, until INVLPG, a CR3 load or a
 * flush (4.10.4.1): the model shows the bugs a missing invalidation causes.
 *
 * Storage is an open-addressing hash table in typed arrays (linear probing, deletion by
 * backward shift): no allocation on the hit path. It holds at most `capacity` entries; filling a
 * full TLB first drops the non-global entries, and everything if globals still fill three
 * quarters of it. SDM 4.10.2.2 lets a processor drop any entry at any time.
 */
import { expectInteger } from '../errors';
import { checkVa48, formatVirtualAddress, hex16 } from './address';
import { accessDenied, type RightsControl } from './access-rights';
import { PFEC_INSTR, PFEC_USER, PFEC_WRITE } from './page-fault';

/** Rights bit of an entry: writable (AND of R/W). */
export const TLB_W = 1;
/** Rights bit of an entry: user (AND of U/S). */
export const TLB_U = 2;
/** Rights bit of an entry: XD set at some level (OR of XD, recorded whatever EFER.NXE). */
export const TLB_XD = 4;
/** Rights bit of an entry: the leaf's dirty flag was set when the entry was filled. */
export const TLB_D = 8;
/** The rights bits that index `tlbMissMask` (W, U, XD, D). */
export const TLB_RIGHTS_MASK = 15;
const FLAG_GLOBAL = 16;
const CLASS_SHIFT = 5; // bits 6:5 of the flags: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB

const EMPTY = -1;
const CLASS_SIZE = [4096, 2 ** 21, 2 ** 30] as const;
/** Length of a `tlbMissMask` table: indexed by the access's error-code bits (W=2, U=4, I=16). */
export const TLB_ACCESS_INDEXES = 32;

/** The control bits a TLB hit is checked against. */
export interface TlbHitControl extends RightsControl {
  /** EFER.NXE: XD is honoured; when clear, a cached XD means the walk would now fault */
  nxe: boolean;
}

/**
 * Fills `out` (length 32, indexed by error-code access bits) with, for each access, a 16-bit
 * mask of the rights combinations (W|U|XD|D, see TLB_W..TLB_D) that must not hit: SDM 4.6.1
 * refuses them, or the access is a write and D is clear, or XD is cached while NXE is clear.
 */
export function tlbMissMask(ctl: TlbHitControl, out: Uint16Array): Uint16Array {
  out.fill(0xffff); // indexes with other bits are not accesses: never a hit
  for (let access = 0; access < TLB_ACCESS_INDEXES; access++) {
    if ((access & ~(PFEC_WRITE | PFEC_USER | PFEC_INSTR)) !== 0) continue;
    let mask = 0;
    const bits = access;
    for (let r = 0; r <= TLB_RIGHTS_MASK; r++) {
      const xd = (r & TLB_XD) !== 0;
      const miss = (xd && !ctl.nxe)
        || ((bits & PFEC_WRITE) !== 0 && (r & TLB_D) === 0)
        || accessDenied(bits, (r & TLB_W) !== 0, (r & TLB_U) !== 0, xd && ctl.nxe, ctl);
      if (miss) mask |= 1 << r;
    }
    out[access] = mask;
  }
  return out;
}

/** One cached translation, as `Tlb.entries()` lists it for display. */
export interface TlbEntry {
  /** the virtual address of the page the translation covers, 16 hex digits (sign-extended) */
  va: string;
  /** the physical address of that page, 16 hex digits */
  pa: string;
  /** 4096, 2 MiB or 1 GiB */
  pageSize: number;
  writable: boolean;
  user: boolean;
  /** XD was set at some level of the walk that filled the entry */
  noExecute: boolean;
  /** the leaf's D flag was set when the entry was filled */
  dirty: boolean;
  global: boolean;
}

/** The TLB of one logical processor (no PCIDs: CR4.PCIDE is taken as 0). */
export class Tlb {
  /** the most entries the TLB holds before it drops some */
  readonly capacity: number;
  private readonly slots: number;
  private readonly mask: number;
  private readonly shift: number;
  private readonly keys: Float64Array;
  private readonly deltas: Float64Array;
  private readonly flags: Uint8Array;
  private count = 0;
  private globals = 0;
  private count2m = 0;
  private count1g = 0;

  /** `capacity`: the most entries held, 16 to 2^20 (default 4096). */
  constructor(capacity = 4096) {
    expectInteger('capacity', capacity, 16, 2 ** 20);
    this.capacity = capacity;
    let bits = 5;
    while (2 ** bits < capacity * 2) bits++;
    this.slots = 2 ** bits;
    this.mask = this.slots - 1;
    this.shift = 32 - bits;
    this.keys = new Float64Array(this.slots).fill(EMPTY);
    this.deltas = new Float64Array(this.slots);
    this.flags = new Uint8Array(this.slots);
  }

  /** The number of translations held. */
  get size(): number {
    return this.count;
  }

  /**
   * The slot of the translation covering `va48` (bits 47:0, not checked: hot path), or -1. Read
   * the slot with `rightsAt` and `deltaAt`.
   */
  lookup(va48: number): number {
    let slot = this.find(Math.floor(va48 / 4096) * 4);
    if (slot < 0 && this.count2m !== 0) slot = this.find(Math.floor(va48 / 2097152) * 4 + 1);
    if (slot < 0 && this.count1g !== 0) slot = this.find(Math.floor(va48 / 1073741824) * 4 + 2);
    return slot;
  }

  /** The rights bits (TLB_W | TLB_U | TLB_XD | TLB_D) of a slot `lookup` returned. */
  rightsAt(slot: number): number {
    return this.flags[slot] & TLB_RIGHTS_MASK;
  }

  /** `pa - va` for the page of a slot `lookup` returned: the physical address is `va48 + deltaAt(slot)`. */
  deltaAt(slot: number): number {
    return this.deltas[slot];
  }

  /**
   * Caches the translation of `va48` to `pa` by a leaf of `pageSize` (4096, 2 MiB or 1 GiB),
   * replacing any entry for the same page. Called by the MMU after a successful walk, which has
   * set every accessed flag (SDM 4.10.2.3: no entry without A=1 at each level).
   */
  fill(va48: number, pa: number, pageSize: number, rights: number, global: boolean): void {
    const cls = pageSize === 4096 ? 0 : pageSize === 2097152 ? 1 : 2;
    const key = Math.floor(va48 / CLASS_SIZE[cls]) * 4 + cls;
    let slot = this.find(key);
    if (slot >= 0) {
      this.forget(slot);
    } else {
      if (this.count >= this.capacity) this.makeRoom();
      slot = this.hash(key);
      while (this.keys[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.keys[slot] = key;
      this.count++;
    }
    this.deltas[slot] = pa - va48;
    this.flags[slot] = (rights & TLB_RIGHTS_MASK) | (global ? FLAG_GLOBAL : 0) | (cls << CLASS_SHIFT);
    this.remember(slot);
  }

  /** INVLPG (SDM 4.10.4.1): drops the translation of the page holding `va48`, global or not, whatever its size. */
  invlpg(va48: number): void {
    checkVa48('va48', va48);
    this.drop(Math.floor(va48 / 4096) * 4);
    if (this.count2m !== 0) this.drop(Math.floor(va48 / 2097152) * 4 + 1);
    if (this.count1g !== 0) this.drop(Math.floor(va48 / 1073741824) * 4 + 2);
  }

  /** MOV to CR3 (SDM 4.10.4.1): drops every entry but the global ones when CR4.PGE=1, all of them otherwise. */
  onCr3Write(pge: boolean): void {
    if (pge) this.flushNonGlobal();
    else this.flushAll();
  }

  /** A MOV to CR4 that toggles PGE (SDM 4.10.4.1), or any full flush: drops every entry, global ones too. */
  flushAll(): void {
    if (this.count === 0) return;
    this.keys.fill(EMPTY);
    this.count = 0;
    this.globals = 0;
    this.count2m = 0;
    this.count1g = 0;
  }

  /** Drops every entry that is not global. */
  flushNonGlobal(): void {
    if (this.globals === 0) {
      this.flushAll();
      return;
    }
    const kept: Array<[number, number, number]> = [];
    for (let i = 0; i < this.slots; i++) {
      if (this.keys[i] !== EMPTY && (this.flags[i] & FLAG_GLOBAL) !== 0) kept.push([this.keys[i], this.deltas[i], this.flags[i]]);
    }
    this.flushAll();
    for (const [key, delta, flags] of kept) {
      let slot = this.hash(key);
      while (this.keys[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.keys[slot] = key;
      this.deltas[slot] = delta;
      this.flags[slot] = flags;
      this.count++;
      this.remember(slot);
    }
  }

  /** Every cached translation, in virtual-address order (for display; allocates). */
  entries(): TlbEntry[] {
    const list: Array<{ va48: number; entry: TlbEntry }> = [];
    for (let i = 0; i < this.slots; i++) {
      const key = this.keys[i];
      if (key === EMPTY) continue;
      const flags = this.flags[i];
      const cls = (flags >>> CLASS_SHIFT) & 3;
      const size = CLASS_SIZE[cls];
      const va48 = ((key - cls) / 4) * size;
      list.push({
        va48,
        entry: {
          va: formatVirtualAddress(va48),
          pa: hex16(va48 + this.deltas[i]),
          pageSize: size,
          writable: (flags & TLB_W) !== 0,
          user: (flags & TLB_U) !== 0,
          noExecute: (flags & TLB_XD) !== 0,
          dirty: (flags & TLB_D) !== 0,
          global: (flags & FLAG_GLOBAL) !== 0,
        },
      });
    }
    list.sort((a, b) => a.va48 - b.va48);
    return list.map((x) => x.entry);
  }

  /** Fibonacci hashing of a key below 2^40, to a slot. */
  private hash(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  private find(key: number): number {
    const keys = this.keys;
    let i = this.hash(key);
    for (;;) {
      const k = keys[i];
      if (k === key) return i;
      if (k === EMPTY) return -1;
      i = (i + 1) & this.mask;
    }
  }

  private drop(key: number): void {
    const slot = this.find(key);
    if (slot >= 0) this.remove(slot);
  }

  /** Counts a slot's kind (global, large) after it is written. */
  private remember(slot: number): void {
    const flags = this.flags[slot];
    if ((flags & FLAG_GLOBAL) !== 0) this.globals++;
    const cls = (flags >>> CLASS_SHIFT) & 3;
    if (cls === 1) this.count2m++;
    else if (cls === 2) this.count1g++;
  }

  /** Uncounts a slot's kind before it is overwritten or removed. */
  private forget(slot: number): void {
    const flags = this.flags[slot];
    if ((flags & FLAG_GLOBAL) !== 0) this.globals--;
    const cls = (flags >>> CLASS_SHIFT) & 3;
    if (cls === 1) this.count2m--;
    else if (cls === 2) this.count1g--;
  }

  /** Removes a slot, shifting later members of its probe run back so lookups still find them. */
  private remove(slot: number): void {
    const keys = this.keys;
    const mask = this.mask;
    this.forget(slot);
    this.count--;
    let hole = slot;
    let j = slot;
    for (;;) {
      keys[hole] = EMPTY;
      for (;;) {
        j = (j + 1) & mask;
        const k = keys[j];
        if (k === EMPTY) return;
        const home = this.hash(k);
        // The entry at j may move into the hole unless its home lies cyclically in (hole, j].
        const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
        if (!stays) break;
      }
      keys[hole] = keys[j];
      this.deltas[hole] = this.deltas[j];
      this.flags[hole] = this.flags[j];
      hole = j;
    }
  }

  /** Called when full: drop the non-global entries, and everything if globals alone crowd it. */
  private makeRoom(): void {
    this.flushNonGlobal();
    if (this.count >= (this.capacity * 3) / 4) this.flushAll();
  }
}
