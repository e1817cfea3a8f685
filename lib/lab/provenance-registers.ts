/**
 * Provenance of the registers in Xen's crash dump (xen/arch/x86/x86_64/traps.c _show_registers,
 * Xen 4.2.0, as lib/xen/registers-dump.ts prints it). The model runs routines, not instructions:
 * at the faulting load in xen_get_user_pgd a register is 'derived' when the modelled routines
 * compute its value (which register holds it is read off the report), 'fitted' when the value is
 * what compiled code the model does not run leaves there (lib/linux/variants.ts
 * FITTED_MACHINE_STATE: values both reports show, or the values of the report the run reproduces,
 * lib/lab/report-runs.ts), with the report(s) named; cr0/cr4 are Xen's flag sets, cr3 the machine
 * frame of the pgd.
 */
import type { ProvenanceEntry } from './provenance-kinds';
import type { ProvenanceInput } from './provenance';
import { symbolProvenance } from './provenance-symbols';
import { CRASH_REPORTS, fittedMachineState, forReport, kernelVariant, unappliedFittedValues, type KernelVariant } from '../linux/variants';
import { reportOf } from './report-runs';
import { cr3Provenance } from './report-host';

/** One register as the dump prints it: which console line, where in it, and its value. */
export interface RegisterSpan {
  name: string;
  line: number;
  start: number;
  end: number;
  value: bigint;
}

export interface RegisterDump {
  /** the last value printed for each register */
  values: Map<string, bigint>;
  spans: RegisterSpan[];
  /** the console line of "Guest stack trace from rsp=...", or -1 */
  stackLine: number;
}

const NAMED = /\b(rax|rbx|rcx|rdx|rsi|rdi|rbp|rsp|r8|r9|r10|r11|r12|r13|r14|r15|cr0|cr2|cr3|cr4|ds|es|fs|gs|ss|cs):\s+([0-9a-f]+)\b/g;
const RIP = /RIP:\s+([0-9a-f]{4}):\[<([0-9a-f]{16})>\]/;
const RFLAGS = /RFLAGS: ([0-9a-f]{16})/;

/** Finds the register dump in Xen's console: the lines from "CPU:" up to the guest stack. */
export function registerDump(lines: readonly string[]): RegisterDump {
  const dump: RegisterDump = { values: new Map(), spans: [], stackLine: -1 };
  const add = (name: string, line: number, start: number, text: string): void => {
    const value = BigInt(`0x${text}`);
    dump.values.set(name, value);
    dump.spans.push({ name, line, start, end: start + text.length, value });
  };
  let inDump = false;
  lines.forEach((line, n) => {
    if (/\)\s+CPU:\s+\d+$/.test(line)) inDump = true;
    if (line.includes('Guest stack trace from rsp=')) {
      const at = line.indexOf('rsp=') + 4;
      add('rsp', n, at, line.slice(at, at + 16));
      dump.stackLine = n;
      inDump = false;
      return;
    }
    if (!inDump) return;
    const rip = RIP.exec(line);
    if (rip !== null) {
      const csAt = rip.index + rip[0].indexOf(rip[1]);
      add('cs', n, csAt, rip[1]);
      add('rip', n, rip.index + rip[0].lastIndexOf(rip[2]), rip[2]);
      return;
    }
    const flags = RFLAGS.exec(line);
    if (flags !== null) add('rflags', n, flags.index + 8, flags[1]);
    for (const m of line.matchAll(NAMED)) add(m[1], n, (m.index ?? 0) + m[0].lastIndexOf(m[2]), m[2]);
  });
  return dump;
}

const REGISTER_CHOICE = 'which register the compiled code uses is read off the report (no disassembly of the reporter\'s build is stored)';
/** Registers whose values the model computes at the faulting load in xen_get_user_pgd. */
const DERIVED_AT_LOAD: Record<string, string> = {
  rax: `VMEMMAP_START, the base of virt_to_page in xen_get_user_pgd (the load is page->private at base + index); ${REGISTER_CHOICE}`,
  rdx: `the pgd's pfn × sizeof(struct page), virt_to_page's index, computed by the model from the pgd's pfn and its struct page layout; ${REGISTER_CHOICE}`,
  rcx: `−__START_KERNEL_map, the constant __pa() adds to a kernel-text address (arch/x86/include/asm/page_64.h); ${REGISTER_CHOICE}`,
  rbx: `xen_write_cr3's argument, __pa(swapper_pg_dir), kept across its calls in a callee-saved register; ${REGISTER_CHOICE}`,
  rsi: `xen_write_cr3's argument, __pa(swapper_pg_dir), the second argument of its call __xen_write_cr3(true, cr3); ${REGISTER_CHOICE}`,
  r13: 'init_mem_mapping\'s step_size at its load_cr3: PMD_SIZE shifted left by STEP_SIZE_SHIFT (5) each time a step maps more ' +
    'than all before it (arch/x86/mm/init.c, v3.9.6:418-436), computed by the model\'s loop over the guest\'s memory, so it moves with ' +
    'the memory size; callee-saved, so xen_write_cr3 keeps it (the dom0 report\'s stack shows it saved, the same)',
  r15: 'ISA_END_ADDRESS, the lower bound of init_mem_mapping\'s loop, kept in a callee-saved register xen_write_cr3 does not use ' +
    '(both reports show it)',
};
const UNSET = 'never written by the model, which runs routines, not instructions: what the CPU held is not in the report';
const SELECTOR = 'Xen\'s flat selector for a 64-bit PV kernel (FLAT_KERNEL_*, xen/include/public/arch-x86/xen-x86_64.h), set by the model\'s domain builder and bounce frame';

/** The faulting load the fitted machine state belongs to, as `function:what`. */
const FAULTING_LOAD = 'xen_get_user_pgd:page->private';

/** Is `rip` the modelled load the fitted state (lib/linux/variants.ts) belongs to? */
function atFaultingLoad(rip: bigint | undefined, input: ProvenanceInput): boolean {
  if (rip === undefined) return false;
  const variant = kernelVariant(input.config.variant);
  const offset = variant.instructions[FAULTING_LOAD];
  const [fn] = FAULTING_LOAD.split(':');
  return offset !== undefined && input.symbols.has(fn) && Number(rip & 0xffffffffffffn) === input.symbols.address(fn) + offset;
}

/** The run's variant as the machine ran it: with the report it reproduces, if any. */
function runVariant(input: ProvenanceInput): KernelVariant {
  return forReport(kernelVariant(input.config.variant), reportOf(input.config));
}

function fittedEntry(name: string, input: ProvenanceInput): ProvenanceEntry | null {
  const variant = runVariant(input);
  const state = fittedMachineState(variant, FAULTING_LOAD);
  const key = name === 'rflags' ? 'statusFlags' : name;
  const f = state?.[key];
  if (f === undefined) {
    const others = unappliedFittedValues(variant, FAULTING_LOAD, key);
    if (others === null) return null;
    return {
      kind: 'invented',
      reason: `left as the model had it (never written: 0), because this run reproduces neither report and the reports disagree here (${
        others.map((o) => `${o.report} report: 0x${o.value}`).join(', ')}): the value depends on the run, which the model does not run instruction by instruction`,
    };
  }
  const which = f.from.length > 1 ? 'fitted to both reports, which agree' : `fitted to ${CRASH_REPORTS[f.from[0]]}, the run this one reproduces`;
  if (name === 'rflags') {
    return {
      kind: 'fitted',
      reason: `IF and bit 1 as the domain builder starts the vCPU (derived); the status bits are ${which} (lib/linux/variants.ts): ${f.reason}`,
    };
  }
  return { kind: 'fitted', reason: `${which} (lib/linux/variants.ts): ${f.reason}` };
}

function ripEntry(value: bigint, input: ProvenanceInput): ProvenanceEntry {
  const s = value >> 48n === 0xffffn ? input.symbols.lookup(Number(value & 0xffffffffffffn)) : null;
  if (s === null) return { kind: 'derived', reason: 'the guest RIP Xen saved, outside the kernel\'s text: where the model\'s guest was' };
  const sym = symbolProvenance(input.symbols, s.symbol);
  if (sym.kind !== 'fitted') return { kind: 'invented', reason: `${s.text}: ${sym.reason}` };
  return {
    kind: 'fitted',
    reason: `${s.text}: ${s.symbol}'s start is fitted (see stack.${s.symbol}) and so is the offset of its modelled load, read off the report's RIP frame`,
  };
}

function stackPointerEntry(name: string, value: bigint, input: ProvenanceInput): ProvenanceEntry {
  const va48 = Number(value & 0xffffffffffffn);
  if (va48 >= input.bootStack[0] && va48 < input.bootStack[1]) {
    return {
      kind: 'fitted',
      reason: `computed by the model's stack (return addresses, saved rbp and registers per frame${name === 'rsp' ? ', then Xen\'s bounce frame' : ''}), ` +
        'but from fitted inputs: the stack\'s place (init_thread_union) and the frame shapes in lib/linux/variants.ts, read off the full report\'s frame-pointer chain',
    };
  }
  return { kind: 'derived', reason: `the guest's ${name} as the model left it (outside the boot stack)` };
}

/** registers.<name> for each register the dump prints. */
export function registerProvenance(dump: RegisterDump, input: ProvenanceInput): Record<string, ProvenanceEntry> {
  const out: Record<string, ProvenanceEntry> = {};
  const atLoad = atFaultingLoad(dump.values.get('rip'), input);
  for (const [name, value] of dump.values) {
    const fitted = atLoad ? fittedEntry(name, input) : null;
    if (name === 'rip') out[name] = ripEntry(value, input);
    else if (name === 'rsp' || name === 'rbp') out[name] = stackPointerEntry(name, value, input);
    else if (fitted !== null) out[name] = fitted;
    else if (atLoad && DERIVED_AT_LOAD[name] !== undefined) out[name] = { kind: 'derived', reason: DERIVED_AT_LOAD[name] };
    else if (name === 'cr2') out[name] = { kind: 'derived', reason: 'the fault address, as Xen saved it for the guest (its virtual cr2)' };
    else if (name === 'cr3') out[name] = cr3Provenance(input.config);
    else if (name === 'cr0') {
      out[name] = {
        kind: 'derived',
        reason: 'Xen\'s cr0 (PE MP ET NE WP AM PG, xen/arch/x86/setup.c) with TS set because the vCPU has not used the FPU yet (xen/arch/x86/i387.c)',
      };
    } else if (name === 'cr4') {
      out[name] = {
        kind: 'derived',
        reason: 'Xen\'s mmu_cr4_features for a PV vCPU (PSE PAE MCE PGE OSFXSR OSXMMEXCPT) plus OSXSAVE because the host CPU has XSAVE ' +
          '(host data, cpuHasXsave, on by default like the report\'s host)',
      };
    } else if (name === 'rflags') {
      out[name] = { kind: 'derived', reason: 'IF and bit 1, as the model\'s domain builder starts the vCPU; the model never changes the guest\'s flags' };
    } else if (['cs', 'ss', 'ds', 'es', 'fs', 'gs'].includes(name)) {
      out[name] = { kind: 'derived', reason: SELECTOR };
    } else {
      out[name] = { kind: 'invented', reason: UNSET };
    }
  }
  return out;
}
