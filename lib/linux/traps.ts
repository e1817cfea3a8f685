/**
 * The early gates of setup_arch (arch/x86/kernel/traps.c at v3.8.13 and v3.9.6) and the gate
 * helpers they use (arch/x86/include/asm/desc.h). early_trap_init sets #DB and #BP, on 3.8 (and on
 * every kernel before 8170e6bed465) also the 64-bit #PF gate, and ends with load_idt; from
 * 8170e6bed465 on the 64-bit #PF gate waits for early_trap_pf_init, right after init_mem_mapping,
 * so that the early #PF handler of a bare-metal boot stays in place while the direct map is built.
 * (trap_init, which fills the other vectors, runs after setup_arch and is not modelled.)
 * That 8170e6bed465 made the split itself: 3.8.13 has no early_trap_pf_init; 3.9.6 declares it in
 * arch/x86/include/asm/processor.h, which the commit touches, and the commit's changelog carries a
 * "-v8" note about keeping the early handler alive (public mirrors of the Linux history; the tree
 * itself is not mirrored here). So its parent still sets the 64-bit #PF gate in early_trap_init.
 */
import type { Kernel } from './kernel';
import { DEBUG_STACK, X86_TRAP_BP, X86_TRAP_DB, X86_TRAP_PF, type GateDesc } from './pv-cpu-ops';

// arch/x86/include/asm/desc.h (v3.9): pack_gate, then write_idt_entry(idt_table, gate, &s)
function _set_gate(k: Kernel, gate: number, type: GateDesc['type'], handler: string, dpl: number, ist: number): void {
  k.cpuOps.write_idt_entry.fn(gate, { handler, type, dpl, ist });
}

// arch/x86/include/asm/desc.h (v3.9)
export function set_intr_gate(k: Kernel, n: number, handler: string): void {
  _set_gate(k, n, 'interrupt', handler, 0, 0);
}

// arch/x86/include/asm/desc.h (v3.9)
function set_intr_gate_ist(k: Kernel, n: number, handler: string, ist: number): void {
  _set_gate(k, n, 'interrupt', handler, 0, ist);
}

// arch/x86/include/asm/desc.h (v3.9): DPL 3, "int3 can be called from all"
function set_system_intr_gate_ist(k: Kernel, n: number, handler: string, ist: number): void {
  _set_gate(k, n, 'interrupt', handler, 3, ist);
}

// arch/x86/kernel/traps.c (v3.8.13 and v3.9.6): the traps needed for early debugging, then load_idt
export function early_trap_init(k: Kernel): void {
  k.call('early_trap_init', () => {
    set_intr_gate_ist(k, X86_TRAP_DB, 'debug', DEBUG_STACK);
    set_system_intr_gate_ist(k, X86_TRAP_BP, 'int3', DEBUG_STACK);
    // 3.8.13: unconditional; 3.9.6: under CONFIG_X86_32 only (64-bit waits for early_trap_pf_init)
    if (k.variant.pfGate === 'early_trap_init') set_intr_gate(k, X86_TRAP_PF, 'page_fault');
    k.cpuOps.load_idt.fn(); // load_idt(&idt_descr)
  });
}

// arch/x86/kernel/traps.c (v3.9.6): the 64-bit #PF gate, once init_mem_mapping is done
export function early_trap_pf_init(k: Kernel): void {
  k.call('early_trap_pf_init', () => {
    if (k.variant.pfGate === 'early_trap_pf_init') set_intr_gate(k, X86_TRAP_PF, 'page_fault');
  });
}
