/**
 * The M2P table, `machine_to_phys_mapping[]`: for every machine frame the guest pfn it backs, or
 * INVALID_M2P_ENTRY (~0UL) for frames no guest owns. Xen maps it read-only into every 64-bit PV
 * guest at MACH2PHYS_VIRT_START (L4 slot 256); guests update entries with MMU_MACHPHYS_UPDATE.
 * Stored as 4 bytes a frame; the rare entry that does not fit 32 bits lives in a side map.
 * // xen/include/asm-x86/mm.h (set_gpfn_from_mfn, get_gpfn_from_mfn), xen/arch/x86/x86_64/mm.c (Xen 4.2.2)
 */

/** INVALID_M2P_ENTRY (~0UL) as the model's 32-bit cell */
const CELL_INVALID = 0xffffffff;
/** SHARED_M2P_ENTRY (~0UL - 1) */
const CELL_SHARED = 0xfffffffe;
/** a cell whose 64-bit value is in the side map */
const CELL_WIDE = 0xfffffffd;

/** INVALID_M2P_ENTRY: ~0UL */
export const INVALID_M2P_ENTRY = 0xffffffffffffffffn;
/** SHARED_M2P_ENTRY: ~0UL - 1 */
export const SHARED_M2P_ENTRY = 0xfffffffffffffffen;
/** INVALID_M2P_ENTRY read as a signed long: -1 (the number form the model's accessors return) */
export const INVALID_M2P_ENTRY_LONG = -1;
/** SHARED_M2P_ENTRY read as a signed long: -2 */
export const SHARED_M2P_ENTRY_LONG = -2;

export class M2P {
  private cells: Uint32Array;
  private readonly wide = new Map<number, bigint>();

  constructor(frames: number) {
    this.cells = new Uint32Array(frames).fill(CELL_INVALID);
  }

  /** Grows to `frames` entries (new ones INVALID_M2P_ENTRY). */
  grow(frames: number): void {
    if (frames <= this.cells.length) return;
    const cells = new Uint32Array(frames).fill(CELL_INVALID);
    cells.set(this.cells);
    this.cells = cells;
  }

  /**
   * get_gpfn_from_mfn(mfn) as a signed long: the pfn, or -1 for INVALID_M2P_ENTRY, -2 for
   * SHARED_M2P_ENTRY; a value the guest stored that does not fit a double exactly is returned
   * truncated (use `entry` for the exact 64-bit value).
   */
  get(mfn: number): number {
    const c = mfn >= 0 && mfn < this.cells.length ? this.cells[mfn] : CELL_INVALID;
    if (c < CELL_WIDE) return c;
    if (c === CELL_INVALID) return INVALID_M2P_ENTRY_LONG;
    if (c === CELL_SHARED) return SHARED_M2P_ENTRY_LONG;
    const v = this.wide.get(mfn) as bigint;
    return Number(BigInt.asIntN(64, v));
  }

  /** The exact 64-bit entry (unsigned), as the guest reads it from machine_to_phys_mapping[mfn]. */
  entry(mfn: number): bigint {
    const c = mfn >= 0 && mfn < this.cells.length ? this.cells[mfn] : CELL_INVALID;
    if (c < CELL_WIDE) return BigInt(c);
    if (c === CELL_INVALID) return INVALID_M2P_ENTRY;
    if (c === CELL_SHARED) return SHARED_M2P_ENTRY;
    return this.wide.get(mfn) as bigint;
  }

  /** The entry's two 32-bit halves (lo, hi) without BigInt, for guest reads of the table. */
  entryWord(mfn: number, high: boolean): number {
    const c = mfn >= 0 && mfn < this.cells.length ? this.cells[mfn] : CELL_INVALID;
    if (c < CELL_WIDE) return high ? 0 : c;
    if (c === CELL_INVALID) return 0xffffffff;
    if (c === CELL_SHARED) return high ? 0xffffffff : 0xfffffffe;
    const v = this.wide.get(mfn) as bigint;
    return Number(high ? (v >> 32n) & 0xffffffffn : v & 0xffffffffn);
  }

  /** set_gpfn_from_mfn(mfn, pfn) for a pfn below 2^32 - 3 (the builder's and hot paths' form). */
  set(mfn: number, pfn: number): void {
    this.wide.delete(mfn);
    this.cells[mfn] = pfn;
  }

  /** set_gpfn_from_mfn(mfn, INVALID_M2P_ENTRY) */
  invalidate(mfn: number): void {
    this.wide.delete(mfn);
    this.cells[mfn] = CELL_INVALID;
  }

  /** set_gpfn_from_mfn with any 64-bit value (MMU_MACHPHYS_UPDATE takes the guest's val as is). */
  setEntry(mfn: number, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    this.wide.delete(mfn);
    if (v === INVALID_M2P_ENTRY) this.cells[mfn] = CELL_INVALID;
    else if (v === SHARED_M2P_ENTRY) this.cells[mfn] = CELL_SHARED;
    else if (v < BigInt(CELL_WIDE)) this.cells[mfn] = Number(v);
    else { this.cells[mfn] = CELL_WIDE; this.wide.set(mfn, v); }
  }
}
