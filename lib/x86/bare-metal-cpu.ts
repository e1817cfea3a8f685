/**
 * A bare-metal x86-64 processor as a kernel model sees it: the MMU and an IDT of trap handlers
 * (Intel SDM vol. 3, 6.15 "Exception and Interrupt Reference", Interrupt 14 "Page-Fault
 * Exception (#PF)"; 4.7 for the error code).
 *
 * Every access is a supervisor data access (CPL 0). When one faults, CR2 gets the faulting
 * address and the handler at vector 14 runs with (cr2, error code), as the kernel's
 * do_page_fault / early_make_pgtable would. It returns true when it fixed the cause: the access
 * is retried (the faulting instruction re-executes). Otherwise the machine stops with
 * `GuestHalted`:
 *  - no handler: #PF -> no IDT gate -> double fault -> triple fault (6.15, Interrupt 8, and the
 *    shutdown that follows a fault while delivering #DF);
 *  - the handler returns false: it could not fix the fault (the kernel would panic);
 *  - the handler returns true but the access faults again MAX_PF_RETRIES times: on hardware an
 *    endless loop, here a halt with the reason;
 *  - faults nested MAX_PF_NESTING deep inside the handler: on hardware the stack would
 *    overflow into a double fault.
 * Only vector 14 is raised by this model; other vectors can hold handlers for the kernel models.
 */
import { LabError, describeValue, expectInteger } from '../errors';
import { VA_SPACE, checkVa48, formatVirtualAddress } from './address';
import { GuestHalted, emptyRegisterFile, type RegisterFile, type VirtualCpu } from './cpu';
import { Mmu } from './mmu';
import { PFEC_WRITE } from './page-fault';
import { joinU64 } from './pte';

// Module-level copies of imported bindings used on the hot path: compiled to CommonJS, each use
// of an import is a property read (a getter under tsx); see walk.ts.
const K_VA_SPACE = VA_SPACE;
const K_PFEC_WRITE = PFEC_WRITE;

/** The page-fault vector (SDM 6.15, Interrupt 14). */
export const PF_VECTOR = 14;
/** Faults of one access a handler may claim to have fixed before the CPU halts as a loop. */
export const MAX_PF_RETRIES = 4;
/** Page faults nested inside the #PF handler before the CPU halts. */
export const MAX_PF_NESTING = 8;

/**
 * A trap handler in the IDT: gets CR2 (bits 47:0) and the error code; returns true when it fixed
 * the cause and the access should be retried, false when it could not.
 */
export type TrapHandler = (cr2: number, errorCode: number) => boolean;

/** The bare-metal platform of `VirtualCpu`: the MMU plus an IDT. */
export class BareMetalCpu implements VirtualCpu {
  /** the general registers, set by the kernel model at modelled instructions */
  readonly regs: RegisterFile = emptyRegisterFile();
  /** the MMU every access goes through (its registers are this CPU's CR0/CR3/CR4/EFER) */
  readonly mmu: Mmu;
  private cr2Value = 0;
  private readonly idt: Array<TrapHandler | null> = new Array<TrapHandler | null>(256).fill(null);
  private nesting = 0;
  private pfCount = 0;

  /** A CPU over `mmu`, with an empty IDT. */
  constructor(mmu: Mmu) {
    if (!(mmu instanceof Mmu)) throw new LabError('WRONG_TYPE', `mmu must be an Mmu; got ${describeValue(mmu)}`);
    this.mmu = mmu;
  }

  /** CR2: the linear address (bits 47:0) of the last page fault. */
  get cr2(): number {
    return this.cr2Value;
  }

  /** The number of page faults raised so far (handled or not). */
  get pageFaults(): number {
    return this.pfCount;
  }

  /** Installs (or with null, removes) the handler of an IDT vector, 0 to 255. */
  setTrapHandler(vector: number, handler: TrapHandler | null): void {
    expectInteger('vector', vector, 0, 255);
    if (handler !== null && typeof handler !== 'function') {
      throw new LabError('WRONG_TYPE', `handler must be a function (cr2, errorCode) => boolean or null; got ${describeValue(handler)}`);
    }
    this.idt[vector] = handler;
  }

  /** Reads the 32-bit word at a 4-byte aligned virtual address (supervisor read). */
  read32(va48: number): number {
    this.checkAligned(va48, 4);
    return this.mmu.mem.readWord(this.translate(va48, 0));
  }

  /** Writes a 32-bit word (a uint32 or int32 number) at a 4-byte aligned virtual address. */
  write32(va48: number, value: number): void {
    this.checkAligned(va48, 4);
    checkWord('value', value);
    this.mmu.mem.writeWord(this.translate(va48, K_PFEC_WRITE), value >>> 0);
  }

  /** Reads 64 bits at an 8-byte aligned virtual address. */
  read64(va48: number): bigint {
    this.checkAligned(va48, 8);
    const pa = this.translate(va48, 0);
    const mem = this.mmu.mem;
    return joinU64(mem.readWord(pa), mem.readWord(pa + 4));
  }

  /** Writes 64 bits (a bigint from 0 to 2^64 - 1) at an 8-byte aligned virtual address. */
  write64(va48: number, value: bigint): void {
    this.checkAligned(va48, 8);
    if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n) {
      throw new LabError(typeof value === 'bigint' ? 'VALUE_OUT_OF_RANGE' : 'WRONG_TYPE',
        `value must be a bigint from 0 to 0xffffffffffffffff; got ${describeValue(value)}`);
    }
    this.store64(va48, Number(value & 0xffffffffn), Number(value >> 32n));
  }

  /** Writes 64 bits given as two 32-bit halves (the hot path: no BigInt). */
  writeQword(va48: number, lo: number, hi: number): void {
    this.checkAligned(va48, 8);
    checkWord('lo', lo);
    checkWord('hi', hi);
    this.store64(va48, lo, hi);
  }

  /**
   * Zeroes the 4 KiB page at a page-aligned virtual address, as `rep stosq` would: one write
   * access (faults delivered as for write32; D set), then the frame is cleared. A frame that was
   * never written already reads as zeros and is given no storage.
   */
  clearPage(va48: number): void {
    this.checkAligned(va48, 4096);
    const frame = Math.floor(this.translate(va48, K_PFEC_WRITE) / 4096);
    const mem = this.mmu.mem;
    if (mem.hasFrame(frame)) mem.clearFrame(frame);
  }

  /** The page's words when the access would not fault now (see VirtualCpu.pageWords); no fault is delivered. */
  pageWords(va48: number, write: boolean): Uint32Array | null {
    this.checkAligned(va48, 4);
    const pa = this.mmu.translate(va48, write ? K_PFEC_WRITE : 0);
    if (pa < 0) return null;
    const frame = Math.floor(pa / 4096);
    const mem = this.mmu.mem;
    return write ? mem.words(frame) : mem.frames.get(frame) ?? null;
  }

  private store64(va48: number, lo: number, hi: number): void {
    const pa = this.translate(va48, K_PFEC_WRITE);
    const mem = this.mmu.mem;
    mem.writeWord(pa, lo >>> 0);
    mem.writeWord(pa + 4, hi >>> 0);
  }

  /** Translates, delivering page faults to the IDT until the access succeeds or the CPU halts. */
  private translate(va48: number, access: number): number {
    let pa = this.mmu.translate(va48, access);
    for (let faults = 0; pa < 0; faults++) {
      this.pageFault(va48, this.mmu.lastErrorCode, faults);
      pa = this.mmu.translate(va48, access);
    }
    return pa;
  }

  /** Raises #PF: sets CR2 and runs the vector-14 handler (SDM 6.15, Interrupt 14). */
  private pageFault(va48: number, errorCode: number, earlier: number): void {
    this.cr2Value = va48;
    this.pfCount++;
    const where = `#PF at ${formatVirtualAddress(va48)} (error code ${errorCode.toString(16).padStart(4, '0')})`;
    const handler = this.idt[PF_VECTOR];
    if (handler === null) throw new GuestHalted(`triple fault: ${where} with no handler`);
    if (earlier >= MAX_PF_RETRIES) {
      throw new GuestHalted(`page-fault loop: ${where} again after the handler reported it fixed ${earlier} times`);
    }
    if (this.nesting >= MAX_PF_NESTING) {
      throw new GuestHalted(`triple fault: ${where} nested ${this.nesting} deep inside the #PF handler`);
    }
    let fixed: unknown;
    this.nesting++;
    try {
      fixed = handler(va48, errorCode);
    } finally {
      this.nesting--;
    }
    if (typeof fixed !== 'boolean') {
      throw new LabError('WRONG_TYPE', `the #PF handler must return a boolean (true = fixed, retry); got ${describeValue(fixed)}`);
    }
    if (!fixed) throw new GuestHalted(`unhandled page fault: ${where}: the #PF handler could not fix it`);
  }

  private checkAligned(va48: number, size: number): void {
    if (typeof va48 !== 'number' || !(va48 >= 0 && va48 < K_VA_SPACE) || va48 % size !== 0) {
      checkVa48('va48', va48);
      throw new LabError('VALUE_OUT_OF_RANGE',
        `va48 must be ${size}-byte aligned for ${size === 4096 ? 'a page' : `a ${size * 8}-bit access`}; got 0x${va48.toString(16)}`);
    }
  }
}

/** Throws unless `value` is a 32-bit word as a uint32 or int32 number. */
function checkWord(name: string, value: number): void {
  if (value !== value >>> 0 && value !== (value | 0)) {
    throw new LabError(typeof value === 'number' ? 'VALUE_OUT_OF_RANGE' : 'WRONG_TYPE',
      `${name} must be a 32-bit word: an integer from -2^31 to 2^32 - 1; got ${describeValue(value)}`);
  }
}
