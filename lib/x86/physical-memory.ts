/**
 * Physical memory: 4 KiB frames, allocated on first write (sparse) and zeroed. A frame never
 * written reads as zeros and costs nothing. Each frame is 1024 32-bit words; a 64-bit quantity at
 * a physical address is the word pair (lo, hi) at index (pa % 4096) / 4.
 */
import { LabError, describeValue } from '../errors';
import { parseU64 } from './address';
import { joinU64, splitU64 } from './pte';

/** 32-bit words in one 4 KiB frame. */
export const FRAME_WORDS = 1024;
/** Frames are carved out of slabs of this many to keep allocations few. */
const SLAB_FRAMES = 64;
/** Slots of the look-up memo in front of `frames` (a power of two). */
const MEMO_SLOTS = 256;

/** Options of a `PhysicalMemory`. */
export interface PhysicalMemoryOptions {
  /** MAXPHYADDR: the number of physical address bits, 36 to 52 (default 46) */
  maxPhysAddr?: number;
}

/**
 * Sparse physical memory of up to 2^MAXPHYADDR bytes (SDM 4.1.4 for MAXPHYADDR). Frames read
 * as zeros until written; the page walk looks frames up with `storage` (the map behind a memo).
 */
export class PhysicalMemory {
  /** MAXPHYADDR (SDM 4.1.4): physical-address width in bits */
  readonly maxPhysAddr: number;
  /** the number of frames MAXPHYADDR allows: frame numbers run from 0 to frameLimit - 1 */
  readonly frameLimit: number;
  /** frame number -> its words; only grows (never set or delete from outside: `storage` remembers look-ups) */
  readonly frames = new Map<number, Uint32Array>();
  private nextFree = 0;
  private slab: Uint32Array | null = null;
  private slabUsed = SLAB_FRAMES;
  /**
   * A direct-mapped memo of `frames.get` for frames that have storage (slot: the frame's low
   * bits). A frame's storage, once made, is never replaced or dropped, so a remembered pair stays
   * right; a snapshot restored in place (lib/lab/time-travel) restores these fields with the map.
   * The page walk and the guest's accesses look the same few table and stack frames up again and
   * again, and a Map look-up of a frame among tens of thousands costs several times this one.
   */
  private readonly memoFrames = new Float64Array(MEMO_SLOTS).fill(-1);
  private readonly memoWords: Array<Uint32Array | undefined> = new Array<Uint32Array | undefined>(MEMO_SLOTS).fill(undefined);

  constructor(options: PhysicalMemoryOptions = {}) {
    const bits = options.maxPhysAddr ?? 46;
    if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 36 || bits > 52) {
      throw new LabError('VALUE_OUT_OF_RANGE', `maxPhysAddr must be an integer from 36 to 52; got ${describeValue(bits)}`);
    }
    this.maxPhysAddr = bits;
    this.frameLimit = 2 ** (bits - 12);
  }

  /** Allocates the lowest never-used frame at or above the allocation cursor; it reads as zeros. */
  allocFrame(): number {
    while (this.frames.has(this.nextFree)) this.nextFree++;
    if (this.nextFree >= this.frameLimit) {
      throw new LabError('FRAME_OUT_OF_RANGE', `no frame left below MAXPHYADDR (${this.maxPhysAddr} bits, ${this.frameLimit} frames)`);
    }
    const frame = this.nextFree++;
    this.words(frame);
    return frame;
  }

  /** The number of frames that hold storage. */
  get frameCount(): number {
    return this.frames.size;
  }

  /** True when the frame has been allocated or written. */
  hasFrame(frame: number): boolean {
    return this.frames.has(frame);
  }

  /** The words of a frame, or undefined when it has none (`frames.get`, through the memo; hot path: not checked). */
  storage(frame: number): Uint32Array | undefined {
    const slot = frame & (MEMO_SLOTS - 1);
    if (this.memoFrames[slot] === frame) return this.memoWords[slot];
    const w = this.frames.get(frame);
    if (w !== undefined) {
      this.memoFrames[slot] = frame;
      this.memoWords[slot] = w;
    }
    return w;
  }

  /** The words of a frame, allocating (zeroed) storage if it has none yet. */
  words(frame: number): Uint32Array {
    let w = this.storage(frame);
    if (w === undefined) {
      this.checkFrame('frame', frame);
      w = this.newFrameStorage();
      this.frames.set(frame, w);
    }
    return w;
  }

  /**
   * Reads the 32-bit word at a 4-byte aligned physical address given as a number (hot path: not
   * checked; bits 1:0 of `pa` are ignored). The offset in the frame is taken with `&`, exact for
   * an integer below 2^53 and cheaper than `%` on an address past 2^31 (a floating-point remainder).
   */
  readWord(pa: number): number {
    const w = this.storage(Math.floor(pa / 4096));
    return w === undefined ? 0 : w[(pa & 0xfff) >>> 2];
  }

  /** Writes the 32-bit word at a 4-byte aligned physical address given as a number. */
  writeWord(pa: number, value: number): void {
    this.words(Math.floor(pa / 4096))[(pa & 0xfff) >>> 2] = value;
  }

  /** Reads 64 bits at an 8-byte aligned physical address. */
  read64(pa: bigint | string): bigint {
    const addr = this.checkPhysical('pa', pa);
    const w = this.frames.get(Math.floor(addr / 4096));
    if (w === undefined) return 0n;
    const i = (addr % 4096) >>> 2;
    return joinU64(w[i], w[i + 1]);
  }

  /** Writes 64 bits at an 8-byte aligned physical address, allocating the frame if needed. */
  write64(pa: bigint | string, value: bigint): void {
    const addr = this.checkPhysical('pa', pa);
    if (typeof value !== 'bigint') {
      throw new LabError('WRONG_TYPE', `value must be a bigint; got ${describeValue(value)}`);
    }
    if (value < 0n || value >= 1n << 64n) {
      throw new LabError('VALUE_OUT_OF_RANGE', `value must fit 64 bits (0 to 0xffffffffffffffff); got ${value}`);
    }
    const [lo, hi] = splitU64(value);
    const w = this.words(Math.floor(addr / 4096));
    const i = (addr % 4096) >>> 2;
    w[i] = lo;
    w[i + 1] = hi;
  }

  /** Zeroes a frame (keeps its storage). */
  clearFrame(frame: number): void {
    this.words(frame).fill(0);
  }

  /** A deep copy: the same frames with their own storage (for snapshots). */
  clone(): PhysicalMemory {
    const copy = new PhysicalMemory({ maxPhysAddr: this.maxPhysAddr });
    for (const [frame, w] of this.frames) copy.words(frame).set(w);
    copy.nextFree = this.nextFree;
    return copy;
  }

  /** Throws FRAME_OUT_OF_RANGE unless `frame` is an integer frame number below the limit. */
  checkFrame(name: string, frame: unknown): number {
    if (typeof frame !== 'number' || !Number.isInteger(frame)) {
      throw new LabError('WRONG_TYPE', `${name} must be an integer frame number; got ${describeValue(frame)}`);
    }
    if (frame < 0 || frame >= this.frameLimit) {
      throw new LabError('FRAME_OUT_OF_RANGE',
        `${name} ${frame} (0x${frame.toString(16)}) is out of range: frames run from 0 to 0x${(this.frameLimit - 1).toString(16)} with MAXPHYADDR ${this.maxPhysAddr}`);
    }
    return frame;
  }

  private checkPhysical(name: string, pa: unknown): number {
    const v = parseU64(name, pa);
    if (v >= 1n << BigInt(this.maxPhysAddr)) {
      throw new LabError('ADDRESS_OUT_OF_RANGE',
        `${name} 0x${v.toString(16)} is above MAXPHYADDR (${this.maxPhysAddr} bits: 0 to 0x${((1n << BigInt(this.maxPhysAddr)) - 1n).toString(16)})`);
    }
    if ((v & 7n) !== 0n) {
      throw new LabError('ADDRESS_OUT_OF_RANGE', `${name} 0x${v.toString(16)} must be 8-byte aligned for a 64-bit access`);
    }
    return Number(v);
  }

  private newFrameStorage(): Uint32Array {
    if (this.slab === null || this.slabUsed === SLAB_FRAMES) {
      this.slab = new Uint32Array(FRAME_WORDS * SLAB_FRAMES);
      this.slabUsed = 0;
    }
    const start = this.slabUsed++ * FRAME_WORDS;
    return this.slab.subarray(start, start + FRAME_WORDS);
  }
}
