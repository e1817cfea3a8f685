/**
 * Applies what compiled code leaves in the registers and flags at a modelled instruction, where
 * the model runs the routine but not its instructions (the data, fitted to the report, is in
 * lib/linux/variants.ts FITTED_MACHINE_STATE).
 */
import type { RegisterFile } from '../x86/cpu';
import type { FittedMachineState } from './variants';

/** The RFLAGS status bits an arithmetic instruction sets: CF, PF, AF, ZF, SF, OF. */
export const X86_EFLAGS_STATUS = 0x8d5n;

type GeneralRegister = 'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi' | 'rdi' | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'r13' | 'r14' | 'r15';
const GENERAL: readonly string[] = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** Writes the fitted registers and status flags (none when `state` is null). */
export function applyFittedState(regs: RegisterFile, state: FittedMachineState | null): void {
  if (state === null) return;
  for (const [name, fitted] of Object.entries(state)) {
    const value = BigInt(`0x${fitted.value}`);
    if (name === 'statusFlags') regs.rflags = (regs.rflags & ~X86_EFLAGS_STATUS) | (value & X86_EFLAGS_STATUS);
    else if (GENERAL.includes(name)) regs[name as GeneralRegister] = value;
  }
}
