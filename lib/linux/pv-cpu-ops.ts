/**
 * The IDT slots of struct pv_cpu_ops (arch/x86/include/asm/paravirt_types.h, v3.9): set_intr_gate
 * writes a gate through write_idt_entry and load_idt makes a table the CPU's. Bare metal fills them
 * with native_* (a copy into idt_table, lidt); a Xen PV guest with xen_* (arch/x86/xen/enlighten.c),
 * which hand the gates to Xen with HYPERVISOR_set_trap_table.
 */
import type { PvOp } from './pv-mmu-ops';

/** A gate descriptor as pack_gate builds it (arch/x86/include/asm/desc.h, v3.9). */
export interface GateDesc {
  /** the entry point's symbol (the gate's offset) */
  handler: string;
  /** GATE_INTERRUPT (events masked on entry) or GATE_TRAP */
  type: 'interrupt' | 'trap';
  /** descriptor privilege level: 0, or 3 for the system gates (int3) */
  dpl: number;
  /** interrupt stack table index (0: none) */
  ist: number;
}

export interface PvCpuOps {
  write_idt_entry: PvOp<(vector: number, gate: GateDesc) => void>;
  /** load_idt(&idt_descr): the descriptor is always idt_table's in the routines modelled */
  load_idt: PvOp<() => void>;
}

/** Vector numbers (arch/x86/include/asm/traps.h, v3.9). */
export const X86_TRAP_DB = 1;
export const X86_TRAP_BP = 3;
export const X86_TRAP_PF = 14;
/** NUM_EXCEPTION_VECTORS (arch/x86/include/asm/segment.h, v3.9) */
export const NUM_EXCEPTION_VECTORS = 32;
/** DEBUG_STACK: the IST slot of #DB and #BP (arch/x86/include/asm/page_64_types.h, v3.9) */
export const DEBUG_STACK = 4;
/** __KERNEL_CS = GDT_ENTRY_KERNEL_CS * 8 on 64-bit (arch/x86/include/asm/segment.h, v3.9) */
export const __KERNEL_CS = 0x10;
