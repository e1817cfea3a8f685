/**
 * What a kernel model sees of the processor it runs on: a register file and virtual-memory
 * accesses through the paging hardware. Two platforms implement `VirtualCpu`: a bare-metal CPU
 * (lib/x86/bare-metal-cpu.ts: the MMU plus an IDT of handlers) and a Xen PV vCPU (lib/xen: the
 * MMU with the vCPU's current table, faults delivered through Xen). The kernel model never
 * touches physical memory directly; it reads and writes through here, so a missing mapping
 * really faults.
 */

/** The general registers and selectors a crash dump prints. Set by the kernel model at modelled instructions. */
export interface RegisterFile {
  rip: bigint; rsp: bigint; rbp: bigint; rflags: bigint;
  rax: bigint; rbx: bigint; rcx: bigint; rdx: bigint; rsi: bigint; rdi: bigint;
  r8: bigint; r9: bigint; r10: bigint; r11: bigint; r12: bigint; r13: bigint; r14: bigint; r15: bigint;
  cs: number; ss: number; ds: number; es: number; fs: number; gs: number;
}

/** A register file with every register zero (the state before the kernel model sets any). */
export function emptyRegisterFile(): RegisterFile {
  return {
    rip: 0n, rsp: 0n, rbp: 0n, rflags: 0n, rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n,
    r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n,
    cs: 0, ss: 0, ds: 0, es: 0, fs: 0, gs: 0,
  };
}

/**
 * Thrown when the machine or domain stops for good: a triple fault on bare metal, a domain
 * crash under Xen. It unwinds the kernel model; the lab records the outcome.
 */
export class GuestHalted extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'GuestHalted';
  }
}

/**
 * Memory access and control registers as a kernel model uses them. Addresses are bits 47:0 of
 * canonical virtual addresses (numbers). An access that faults is delivered to the platform's
 * handler; if the handler fixes the cause, the access is retried and returns normally; if
 * nothing can handle it, `GuestHalted` is thrown.
 */
export interface VirtualCpu {
  readonly regs: RegisterFile;
  /** reads the 32-bit word at a 4-byte aligned virtual address (supervisor data read) */
  read32(va48: number): number;
  /** writes the 32-bit word at a 4-byte aligned virtual address (supervisor data write) */
  write32(va48: number, value: number): void;
  /** reads 64 bits at an 8-byte aligned virtual address */
  read64(va48: number): bigint;
  /** writes 64 bits at an 8-byte aligned virtual address */
  write64(va48: number, value: bigint): void;
  /** reads 64 bits as two 32-bit halves into `out` with one translation (optional; no BigInt) */
  readQword?(va48: number, out: { lo: number; hi: number }): void;
  /** writes 64 bits given as two 32-bit halves: the hot path (page-table fills), no BigInt */
  writeQword(va48: number, lo: number, hi: number): void;
  /**
   * zeroes the 4 KiB page at a page-aligned virtual address, as `rep stosq` would (a write
   * access, faults delivered as for write32). Optional: a platform may implement it without
   * giving storage to a frame that was never written (it reads as zeros already).
   */
  clearPage?(va48: number): void;
  /**
   * The storage of the 4 KiB page holding `va48` when an access of that kind would complete
   * without a fault right now (what a TLB hit gives the hardware: a page to load from or store to);
   * null when it would fault, or for a read of a frame never written (it reads as zeros). Callers
   * fall back to read32/write32, which deliver the fault. Optional: a bulk path for page-table fills.
   */
  pageWords?(va48: number, write: boolean): Uint32Array | null;
  /** the value in CR2 after the last page fault, as 48 bits */
  readonly cr2: number;
}
