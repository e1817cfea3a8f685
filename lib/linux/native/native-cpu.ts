/**
 * The bare-metal IDT slots of pv_cpu_ops (arch/x86/include/asm/desc.h, v3.9.6:
 * native_write_idt_entry copies the gate into the table, native_load_idt is `lidt`). The CPU reads
 * the IDT in memory at each exception, so a gate written into the loaded table is live at once.
 */
import type { Kernel } from '../kernel';
import { pvOp } from '../pv-mmu-ops';
import type { GateDesc, PvCpuOps } from '../pv-cpu-ops';

export function nativeCpuOps(k: Kernel): PvCpuOps {
  return {
    write_idt_entry: pvOp('native_write_idt_entry', (vector: number, gate: GateDesc) => { k.idt_table[vector] = gate; }),
    load_idt: pvOp('native_load_idt', () => { k.g.idt_loaded = true; }),
  };
}
