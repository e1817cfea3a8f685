/**
 * A PV guest's IDT is Xen's trap table (arch/x86/xen/enlighten.c, v3.9.6 and v3.8.13): load_idt is
 * xen_load_idt, which remembers the descriptor and hands every usable gate of the table to Xen with
 * HYPERVISOR_set_trap_table; write_idt_entry is xen_write_idt_entry, which writes the gate and, when
 * it lies in the loaded table, hands that one gate to Xen too. cvt_gate_to_trap turns a gate into a
 * trap_info: on 64-bit the IST entries #DB and #BP are swapped for their Xen twins xen_debug and
 * xen_int3 (arch/x86/kernel/entry_64.S), double fault and NMI are left to Xen; an empty gate (the
 * .bss table) gives nothing. Xen keeps what it gets per vCPU (do_set_trap_table).
 */
import type { Kernel } from '../kernel';
import { panic } from '../mm/panic';
import { __KERNEL_CS, type GateDesc, type PvCpuOps } from '../pv-cpu-ops';
import { pvOp } from '../pv-mmu-ops';
import type { XenGuest } from './mmu';
import { xen_mc_flush } from './multicalls';

/** struct trap_info as the guest fills it (xen/include/public/arch-x86/xen.h). */
interface TrapInfo { vector: number; flags: number; cs: number; address: bigint }

const big = (va48: number): bigint => BigInt(va48) | (va48 >= 2 ** 47 ? 0xffff000000000000n : 0n);

/** The IST entries a 64-bit PV kernel gives Xen in their stead (cvt_gate_to_trap). */
const XEN_TWIN: Readonly<Record<string, string>> = { debug: 'xen_debug', int3: 'xen_int3', stack_segment: 'xen_stack_segment' };

// arch/x86/xen/enlighten.c (v3.9.6): a gate as Xen's trap_info, or null for gates Xen is not given
function cvt_gate_to_trap(k: Kernel, vector: number, g: GateDesc | null): TrapInfo | null {
  if (g === null) return null; // neither GATE_TRAP nor GATE_INTERRUPT: an empty descriptor
  let handler = g.handler;
  if (XEN_TWIN[handler] !== undefined) handler = XEN_TWIN[handler];
  else if (handler === 'double_fault' || handler === 'nmi') return null; // "Don't need to handle these"
  else if (g.ist !== 0) return null; // WARN_ON: "Some other trap using IST?"
  // flags: the DPL, and bit 2 for an interrupt gate ("interrupt gates clear IF")
  return { vector, flags: g.dpl | (g.type === 'interrupt' ? 1 << 2 : 0), cs: __KERNEL_CS, address: big(k.variant.symbols.address(handler)) };
}

// arch/x86/xen/enlighten.c (v3.9.6): HYPERVISOR_set_trap_table, BUG() on failure
function set_trap_table(k: Kernel, x: XenGuest, traps: TrapInfo[]): void {
  const rc = x.hv.HYPERVISOR_set_trap_table(traps);
  if (rc !== 0) panic(k, `HYPERVISOR_set_trap_table returned ${rc}`); // BUG()
}

/** The IDT slots of xen_cpu_ops (arch/x86/xen/enlighten.c, v3.9.6). */
export function xenCpuOps(k: Kernel, x: XenGuest): PvCpuOps {
  return {
    // arch/x86/xen/enlighten.c (v3.9.6): write the gate; if it is in the loaded IDT, tell Xen
    write_idt_entry: pvOp('xen_write_idt_entry', (vector: number, gate: GateDesc) => k.call('xen_write_idt_entry', () => {
      xen_mc_flush(k, x.hv, x.mc);
      k.idt_table[vector] = gate; // native_write_idt_entry
      if (!k.g.idt_loaded) return; // &dt[entrynum] outside [idt_desc.address, + size]: nothing loaded yet
      const info = cvt_gate_to_trap(k, vector, gate);
      if (info !== null) set_trap_table(k, x, [info]);
    })),
    // arch/x86/xen/enlighten.c (v3.9.6): remember the descriptor, convert the table, hand it to Xen
    load_idt: pvOp('xen_load_idt', () => k.call('xen_load_idt', () => {
      k.g.idt_loaded = true; // __get_cpu_var(idt_desc) = *desc
      const traps = k.call('xen_convert_trap_info', () => {
        const out: TrapInfo[] = [];
        for (let v = 0; v < k.idt_table.length; v++) {
          const info = cvt_gate_to_trap(k, v, k.idt_table[v]);
          if (info !== null) out.push(info);
        }
        return out; // traps[out].address = 0 ends the list
      });
      xen_mc_flush(k, x.hv, x.mc);
      set_trap_table(k, x, traps);
    })),
  };
}
