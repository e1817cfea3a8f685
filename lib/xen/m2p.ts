/**
 * The M2P table, `machine_to_phys_mapping[]`: for every machine frame the guest pfn it backs, or
 * INVALID_M2P_ENTRY (~0UL) for frames no guest owns. Xen maps it read-only into every 64-bit PV
 * guest at MACH2PHYS_VIRT_START (L4 slot 256); guests update entries with MMU_MACHPHYS_UPDATE.
 *
 * Storage: guests get memory in 2 MiB extents (populate_physmap), and within an extent the M2P
 * is pfn0 + (mfn - mfn0); so the model keeps one pfn base and a count per 2 MiB chunk of machine
 * memory (6 bytes per 512 frames), and a side map for the entries set one by one (a guest's
 * MMU_MACHPHYS_UPDATE, a frame freed or shared). A 64 GiB guest's M2P costs under 200 KiB.
 * // xen/include/asm-x86/mm.h (set_gpfn_from_mfn, get_gpfn_from_mfn), xen/arch/x86/x86_64/mm.c (Xen 4.2.0)
 */

/** INVALID_M2P_ENTRY: ~0UL */
export const INVALID_M2P_ENTRY = 0xffffffffffffffffn;
/** SHARED_M2P_ENTRY: ~0UL - 1 */
export const SHARED_M2P_ENTRY = 0xfffffffffffffffen;
/** INVALID_M2P_ENTRY read as a signed long: -1 (the number form the model's accessors return) */
export const INVALID_M2P_ENTRY_LONG = -1;
/** SHARED_M2P_ENTRY read as a signed long: -2 */
export const SHARED_M2P_ENTRY_LONG = -2;

const CHUNK = 512;
const TWO_32 = 4294967296;

export class M2P {
  /** per 2 MiB chunk of machine memory: the pfn of its first frame, -1 for none */
  private chunkPfn: Float64Array;
  /** per chunk: how many of its frames (from the first) the extent covers */
  private chunkCount: Uint16Array;
  /** per chunk: 1 when pfns ascend with the frames, -1 when they descend (a debug dom0 build) */
  private chunkStep: Int8Array;
  /** entries set one by one, as their 64-bit value */
  private readonly single = new Map<number, bigint>();

  constructor(frames: number) {
    const chunks = Math.ceil(frames / CHUNK);
    this.chunkPfn = new Float64Array(chunks).fill(-1);
    this.chunkCount = new Uint16Array(chunks);
    this.chunkStep = new Int8Array(chunks).fill(1);
  }

  /** Grows to `frames` entries (new ones INVALID_M2P_ENTRY). */
  grow(frames: number): void {
    const chunks = Math.ceil(frames / CHUNK);
    if (chunks <= this.chunkPfn.length) return;
    const p = new Float64Array(chunks).fill(-1);
    p.set(this.chunkPfn);
    const c = new Uint16Array(chunks);
    c.set(this.chunkCount);
    const st = new Int8Array(chunks).fill(1);
    st.set(this.chunkStep);
    this.chunkPfn = p;
    this.chunkCount = c;
    this.chunkStep = st;
  }

  /**
   * guest_physmap_add_page for a whole extent: frames mfn0 .. mfn0+count-1 back pfns pfn0 ..
   * (mfn0 2 MiB aligned, count <= 512); with step -1 the pfns descend (pfn0, pfn0 - 1, ...), as a
   * debug build's construct_dom0 hands out the frames past its initial mapping.
   */
  setExtent(pfn0: number, mfn0: number, count: number, step: 1 | -1 = 1): void {
    const k = mfn0 / CHUNK;
    this.chunkPfn[k] = pfn0;
    this.chunkCount[k] = count;
    this.chunkStep[k] = step;
    // the extent's entries now follow it: drop any set one by one (usually there are none)
    if (this.single.size !== 0) for (let i = 0; i < count; i++) this.single.delete(mfn0 + i);
  }

  /** The exact 64-bit entry (unsigned), as the guest reads it from machine_to_phys_mapping[mfn]. */
  entry(mfn: number): bigint {
    const s = this.single.get(mfn);
    if (s !== undefined) return s;
    const p = this.extentPfn(mfn);
    return p < 0 ? INVALID_M2P_ENTRY : BigInt(p);
  }

  /**
   * get_gpfn_from_mfn(mfn) as a signed long: the pfn, or -1 for INVALID_M2P_ENTRY, -2 for
   * SHARED_M2P_ENTRY (a value beyond 2^53 that a guest stored is returned rounded; `entry` is exact).
   */
  get(mfn: number): number {
    if (this.single.size !== 0) {
      const s = this.single.get(mfn);
      if (s !== undefined) return Number(BigInt.asIntN(64, s));
    }
    return this.extentPfn(mfn);
  }

  /** One 32-bit half of the entry (for guest reads of the table), without BigInt on the common path. */
  entryWord(mfn: number, high: boolean): number {
    const s = this.single.size !== 0 ? this.single.get(mfn) : undefined;
    if (s !== undefined) return Number(high ? (s >> 32n) & 0xffffffffn : s & 0xffffffffn);
    const p = this.extentPfn(mfn);
    if (p < 0) return 0xffffffff;
    return high ? Math.floor(p / TWO_32) : p % TWO_32;
  }

  /** set_gpfn_from_mfn(mfn, pfn) */
  set(mfn: number, pfn: number): void {
    this.setEntry(mfn, BigInt(pfn));
  }

  /** set_gpfn_from_mfn(mfn, INVALID_M2P_ENTRY) */
  invalidate(mfn: number): void {
    this.setEntry(mfn, INVALID_M2P_ENTRY);
  }

  /** set_gpfn_from_mfn with any 64-bit value (MMU_MACHPHYS_UPDATE takes the guest's val as is). */
  setEntry(mfn: number, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    const p = this.extentPfn(mfn);
    if ((p < 0 && v === INVALID_M2P_ENTRY) || (p >= 0 && v === BigInt(p))) this.single.delete(mfn);
    else this.single.set(mfn, v);
  }

  /** Bytes the per-chunk arrays hold (the entries set one by one aside). */
  get byteSize(): number {
    return this.chunkPfn.byteLength + this.chunkCount.byteLength;
  }

  /** The entries set one by one (for display; the rest follow the extents). */
  get singleEntries(): number {
    return this.single.size;
  }

  private extentPfn(mfn: number): number {
    const k = Math.floor(mfn / CHUNK);
    if (!(k >= 0 && k < this.chunkPfn.length)) return -1;
    const off = mfn - k * CHUNK;
    return off < this.chunkCount[k] ? this.chunkPfn[k] + this.chunkStep[k] * off : -1;
  }
}
