/**
 * Provenance of the registers in Xen's crash dump (xen/arch/x86/x86_64/traps.c _show_registers,
 * Xen 4.2.0, as lib/xen/registers-dump.ts prints it). The model runs routines, not instructions,
 * so a general register holds a value only where a routine writes one to mimic a dump; the
 * control registers other than cr2/cr3 and the flags are the model's choice of host.
 */
import type { ProvenanceEntry } from './provenance-kinds';
import type { ProvenanceInput } from './provenance';
import { symbolProvenance } from './provenance-symbols';

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

const MIMIC = 'chosen to mimic a dump (the real register allocation is unknown: no disassembly of the reporter\'s build is stored)';
const GENERAL: Record<string, string> = {
  rax: `xen_get_user_pgd puts VMEMMAP_START here, as a \`mov 0x30(%rax,%rdx)\` load of page->private would; ${MIMIC}`,
  rdx: `xen_get_user_pgd puts pfn × sizeof(struct page) here (figures the model derives) for the same load; ${MIMIC}`,
  rcx: `xen_get_user_pgd puts −__START_KERNEL_map here, the constant __pa() adds; ${MIMIC}`,
  rbx: `xen_write_cr3 puts its cr3 argument here; ${MIMIC}`,
  rsi: `xen_write_cr3 puts its cr3 argument here; ${MIMIC}`,
  rdi: `xen_write_cr3 sets it to 0; ${MIMIC}`,
  r15: `init_mem_mapping puts ISA_END_ADDRESS here; ${MIMIC}`,
};
const UNSET = 'never written by the model, which runs routines, not instructions: what the CPU held is not in the report';
const SELECTOR = 'Xen\'s flat selector for a 64-bit PV kernel (FLAT_KERNEL_*, xen/include/public/arch-x86/xen-x86_64.h), set by the model\'s domain builder and bounce frame';

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
  for (const [name, value] of dump.values) {
    if (name === 'rip') out[name] = ripEntry(value, input);
    else if (name === 'rsp' || name === 'rbp') out[name] = stackPointerEntry(name, value, input);
    else if (name === 'cr2') out[name] = { kind: 'derived', reason: 'the fault address, as Xen saved it for the guest (its virtual cr2)' };
    else if (name === 'cr3') {
      out[name] = {
        kind: 'derived',
        reason: 'the machine frame Xen holds as the guest\'s base pointer (init_level4_pgt\'s frame); its number comes from how the model\'s host and domain builder allocate memory',
      };
    } else if (name === 'cr0' || name === 'cr4') {
      out[name] = { kind: 'invented', reason: `the model's host: Xen's ${name} for a PV vCPU on a CPU the model picks (the report does not show it)` };
    } else if (name === 'rflags') {
      out[name] = { kind: 'invented', reason: 'IF and bit 1, as the model\'s domain builder starts the vCPU; the model never changes the guest\'s flags' };
    } else if (['cs', 'ss', 'ds', 'es', 'fs', 'gs'].includes(name)) {
      out[name] = { kind: 'derived', reason: SELECTOR };
    } else {
      out[name] = { kind: 'invented', reason: GENERAL[name] ?? UNSET };
    }
  }
  return out;
}
