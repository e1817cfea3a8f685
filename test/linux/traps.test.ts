/**
 * How the guest's traps reach Xen, checked against the sources:
 * - Linux 3.9.6 arch/x86/kernel/traps.c:686-695 early_trap_init (#DB, #BP; the #PF gate only under
 *   CONFIG_X86_32), :697-702 early_trap_pf_init (the 64-bit #PF gate); setup.c:882 early_trap_init,
 *   :928 x86_init.oem.arch_setup, :1104 init_mem_mapping, :1106 early_trap_pf_init.
 * - Linux 3.8.13 arch/x86/kernel/traps.c:700-707 early_trap_init sets the #PF gate (line 705) on
 *   every architecture before load_idt.
 * - Linux 3.9.6 arch/x86/xen/enlighten.c:682-734 cvt_gate_to_trap (debug -> xen_debug, int3 ->
 *   xen_int3, interrupt gates set flag bit 2), :741-768 xen_write_idt_entry (set_trap_table only for
 *   a gate inside the loaded IDT), :797-815 xen_load_idt (the whole table, line 811).
 * - Xen 4.2.0 xen/arch/x86/traps.c:3703-3750 do_set_trap_table keeps the entries per vCPU;
 *   :1102-1134 propagate_page_fault takes trap_ctxt[14] (line 1118); include/asm-x86/x86_64/regs.h:22 null_trap_bounce is
 *   "eip == 0" for a 64-bit guest: no #PF entry, "unhandled page fault".
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../lib/lab/boot';
import { LabError } from '../../lib/errors';
import type { TraceEvent } from '../../lib/trace/events';
import type { VariantId } from '../../lib/linux/variants';

type TrapTableEvent = Extract<TraceEvent, { type: 'trap-table' }>;
const trapEvents = (variant: VariantId) => {
  const r = boot({ variant, memory: '512M' }).run().result();
  return r.trace.events.filter((e): e is TrapTableEvent => e.type === 'trap-table').map((e) => `${e.by}: ${e.vectors.join(',')}`);
};

describe('the guest registers its trap gates with Xen as setup_arch sets them', () => {
  it('8170e6bed465: xen_load_idt (end of early_trap_init) gives Xen #DB and #BP only; the crash comes before early_trap_pf_init', () => {
    expect(trapEvents('8170e6bed465')).toEqual(['xen_load_idt: 1,3']);
  });

  it('5b5c1af104ab: the #PF gate reaches Xen through xen_write_idt_entry, after init_mem_mapping', () => {
    expect(trapEvents('5b5c1af104ab')).toEqual(['xen_load_idt: 1,3', 'xen_write_idt_entry: 1,3,14']);
    const r = boot({ variant: '5b5c1af104ab', memory: '512M' }).run().result();
    const events = r.trace.allEvents();
    const pfGate = events.find((e) => e.type === 'trap-table' && e.by === 'xen_write_idt_entry')!;
    const initMemMappingLeft = events.find((e) => e.type === 'routine-leave' && e.name === 'init_mem_mapping')!;
    const pfInitEntered = events.find((e) => e.type === 'routine-enter' && e.name === 'early_trap_pf_init')!;
    expect(initMemMappingLeft.seq).toBeLessThan(pfInitEntered.seq);
    expect(pfInitEntered.seq).toBeLessThan(pfGate.seq);
  });

  it('v3.8 and the parent of 8170e6bed465: early_trap_init sets the #PF gate, so the first xen_load_idt carries 1, 3 and 14', () => {
    expect(trapEvents('v3.8')).toEqual(['xen_load_idt: 1,3,14']);
    expect(trapEvents('8170e6bed465^')).toEqual(['xen_load_idt: 1,3,14']);
  });

  it('early_trap_init runs before x86_init.oem.arch_setup (xen_arch_setup)', () => {
    const r = boot({ memory: '512M' }).run().result();
    const entered = r.trace.routines.events().filter((e) => e.type === 'routine-enter').map((e) => (e as { name: string }).name);
    expect(entered.indexOf('early_trap_init')).toBeGreaterThan(entered.indexOf('setup_arch'));
    expect(entered.indexOf('early_trap_init')).toBeLessThan(entered.indexOf('xen_arch_setup'));
    expect(entered.indexOf('xen_load_idt')).toBeGreaterThan(entered.indexOf('early_trap_init'));
  });
});

describe('run.xenTrapTable(): the trap table Xen holds for vCPU 0', () => {
  it('at the crash of 8170e6bed465: xen_debug and xen_int3, no #PF entry', () => {
    const run = boot({ memory: '512M' }).run();
    expect(run.outcome).toBe('crashed');
    const t = run.xenTrapTable();
    expect(t.map((e) => [e.vector, e.symbol])).toEqual([[1, 'xen_debug'], [3, 'xen_int3']]);
    const symbols = run.current!.kernel.variant.symbols;
    for (const e of t) {
      expect(e.address).toMatch(/^[0-9a-f]{16}$/);
      expect(BigInt(`0x${e.address}`) & 0xffffffffffffn).toBe(BigInt(symbols.address(e.symbol)));
    }
    // Xen's side of it: the vCPU's trap_ctxt[14] is empty, which propagate_page_fault reads
    expect(run.current!.platform.xen!.vcpu.trapCtxt[14].address).toBe(0);
  });

  it('changes along the run: empty before xen_load_idt, page_fault added once early_trap_pf_init has run', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '512M' });
    expect(run.xenTrapTable()).toEqual([]);
    run.runTo('xen_load_idt');
    expect(run.xenTrapTable()).toEqual([]);
    run.runTo('early_trap_pf_init');
    expect(run.xenTrapTable().map((e) => e.vector)).toEqual([1, 3]);
    run.run();
    expect(run.xenTrapTable().map((e) => `${e.vector}:${e.symbol}`)).toEqual(['1:xen_debug', '3:xen_int3', '14:page_fault']);
  });

  it('the entries carry the gate flags cvt_gate_to_trap sets: DPL 3 for int3, events masked for interrupt gates', () => {
    const run = boot({ variant: '5b5c1af104ab', memory: '512M' }).run();
    const ctxt = run.current!.platform.xen!.vcpu.trapCtxt;
    expect(ctxt[1].flags).toBe(0 | 4); // set_intr_gate_ist: DPL 0, GATE_INTERRUPT
    expect(ctxt[3].flags).toBe(3 | 4); // set_system_intr_gate_ist: DPL 3
    expect(ctxt[14].flags).toBe(0 | 4); // set_intr_gate
  });

  it('refuses on bare metal with NOT_XEN', () => {
    const run = boot({ platform: 'bare-metal', memory: '256M' }).run();
    expect(() => run.xenTrapTable()).toThrow(LabError);
    try { run.xenTrapTable(); } catch (e) { expect((e as LabError).code).toBe('NOT_XEN'); }
  });
});

describe('bare metal runs the same gate routines against the IDT', () => {
  const pfGateAt = (variant: VariantId, symbol: string): string | null => {
    const run = boot({ variant, platform: 'bare-metal', memory: '1G' }).runTo(symbol);
    return run.current!.kernel.idt_table[14]?.handler ?? null;
  };

  it('8170e6bed465: the early handler stays through init_mem_mapping; early_trap_pf_init installs page_fault', () => {
    expect(pfGateAt('8170e6bed465', 'init_mem_mapping')).toBe('early_idt_handler');
    expect(pfGateAt('8170e6bed465', 'initmem_init')).toBe('page_fault');
  });

  it('v3.8 and the parent: page_fault from early_trap_init on, and no early faults', () => {
    expect(pfGateAt('v3.8', 'init_memory_mapping')).toBe('page_fault');
    expect(pfGateAt('8170e6bed465^', 'init_mem_mapping')).toBe('page_fault');
    expect(pfGateAt('8170e6bed465^', 'early_trap_init')).toBe('early_idt_handler');
    const r = boot({ variant: '8170e6bed465^', platform: 'bare-metal', memory: '1G' }).run().result();
    expect(r.outcome).toBe('booted');
    expect(r.counters.pageFaults).toMatchObject({ earlyPf: 0, unhandled: 0 });
  });
});
