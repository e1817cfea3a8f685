/**
 * Register and stack values a Xen 4.2.0 crash dump shows that follow from Xen's source (and the
 * SDM), computed here with Xen's names so tests need not carry them as bare constants.
 */

// xen/include/asm-x86/processor.h (4.2.0) lines 57-68 and 73-89
export const X86_CR0_PE = 0x00000001;
export const X86_CR0_MP = 0x00000002;
export const X86_CR0_TS = 0x00000008;
export const X86_CR0_ET = 0x00000010;
export const X86_CR0_NE = 0x00000020;
export const X86_CR0_WP = 0x00010000;
export const X86_CR0_AM = 0x00040000;
export const X86_CR0_PG = 0x80000000;
export const X86_CR4_PSE = 0x0010;
export const X86_CR4_PAE = 0x0020;
export const X86_CR4_MCE = 0x0040;
export const X86_CR4_PGE = 0x0080;
export const X86_CR4_OSFXSR = 0x0200;
export const X86_CR4_OSXMMEXCPT = 0x0400;
export const X86_CR4_OSXSAVE = 0x40000;

/**
 * CR0 as show_registers reads it (x86_64/traps.c:122, read_cr0()) while a PV vCPU that has not
 * used the FPU runs: boot/trampoline.S:107 loads PG|AM|WP|NE|ET|MP|PE (0x80050033), and stts()
 * (cpu/common.c:647; i387.c:228 after a vCPU's FPU state is saved) adds TS.
 */
export const XEN_CR0 = (X86_CR0_PG | X86_CR0_AM | X86_CR0_WP | X86_CR0_NE | X86_CR0_ET | X86_CR0_MP | X86_CR0_PE | X86_CR0_TS) >>> 0;

/**
 * CR4 (read_cr4(), x86_64/traps.c:124): mmu_cr4_features PSE|PGE|PAE (setup.c:103), MCE
 * (cpu/mcheck/mce.c:847), OSFXSR and OSXMMEXCPT (setup.c:1256-1259, a CPU with FXSR and SSE),
 * OSXSAVE (xstate.c:153, a CPU with XSAVE).
 */
export const XEN_CR4 = X86_CR4_PSE | X86_CR4_PGE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | X86_CR4_OSXSAVE;

const X86_EFLAGS_IF = 0x200n;
/** RF: the processor sets it in the RFLAGS image it saves for a fault-class exception (SDM Vol. 3A 17.3.1.1). */
export const X86_EFLAGS_RF = 0x10000n;

/**
 * The words create_bounce_frame (x86_64/entry.S:347-427, 4.2.0) writes below the guest's rsp,
 * lowest address first: RCX, R11, the error code (TBF_EXCEPTION_ERRCODE), RIP,
 * CS with the saved upcall mask in bits 32-39 and RPL cleared (`andb $0xfc`, line 360), RFLAGS
 * with IF replaced by !saved_upcall_mask (lines 387-391), RSP, SS.
 */
export function bounceFrameWords(r: {
  rcx: bigint; r11: bigint; errorCode: number; rip: bigint; cs: number; rflagsImage: bigint; rsp: bigint; ss: number; upcallMask: number;
}): bigint[] {
  const rflags = (r.rflagsImage & 0xffffffffn & ~X86_EFLAGS_IF) | (r.upcallMask === 0 ? X86_EFLAGS_IF : 0n);
  return [r.rcx, r.r11, BigInt(r.errorCode), r.rip, (BigInt(r.upcallMask) << 32n) | BigInt(r.cs & 0xfffc), rflags, r.rsp, BigInt(r.ss)];
}

/** Where the frame starts: rsp aligned down to 16 (line 361), 5 words, the error code, RCX and R11 (lines 370, 396, 411). */
export function bounceFrameAddress(rsp: bigint, withErrorCode: boolean): bigint {
  return (rsp & ~0xfn) - 40n - (withErrorCode ? 8n : 0n) - 16n;
}
