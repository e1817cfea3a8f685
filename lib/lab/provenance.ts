/**
 * Where each value a run reports comes from. Four kinds, from most to least real:
 * - 'report': an input copied from the crash report (the default config copies the domU report's:
 *   domain 7, cpu#3, the Xen release its banner names; a dom0 run is compared with the dom0
 *   report's inputs, lib/lab/dom0-report.ts). A knob set to another value is 'invented'.
 * - 'derived': computed by the model from its state (the fault address, the L4 index, ec, which
 *   routine faults, every count). Its inputs may be fitted; the reason names them.
 * - 'fitted': data chosen so that the output matches the report (symbol addresses, where
 *   init_level4_pgt sits in the image, sizeof(struct page) 56), or plain arithmetic on such data.
 * - 'invented': what the report does not show and the model makes up (register values set to
 *   mimic a dump, cr0/cr4/rflags, functions placed in free text, stack words it never wrote).
 * A console line is classified by its least-real figure (see provenance-console.ts).
 */
import { PAGE_SIZE } from '../x86/address';
import { formatVirtualAddress } from '../x86/address';
import { KERNEL_IMAGE } from '../linux/image';
import { VMEMMAP_START, pgd_index } from '../linux/layout';
import type { StructPageLayout } from '../linux/struct-page';
import type { SymbolTable } from '../linux/symbols';
import { normalizeConfig, type NormalizedConfig } from './config';
import type { StackFrame } from './guest-stack';
import type { SavedRegisterWord } from '../linux/kernel-stack';
import type { Provenance, ProvenanceEntry } from './provenance-kinds';
import { symbolProvenance } from './provenance-symbols';
import { registerDump, registerProvenance } from './provenance-registers';
import { consoleProvenance } from './provenance-console';
import { DOM0_REPORT_CONFIG } from './dom0-report';

export * from './provenance-kinds';
export { symbolProvenance } from './provenance-symbols';

export interface ProvenanceInput {
  config: NormalizedConfig;
  xenConsole: readonly string[];
  guestStack: readonly StackFrame[];
  fault: { address: string; errorCode: number } | null;
  pgdPfn: number;
  symbols: SymbolTable;
  structPage: StructPageLayout;
  /** the boot stack (init_thread_union), bits 47:0: [bottom, top) */
  bootStack: [number, number];
  /** stack words holding a callee-saved register a prologue pushed, by address (bits 47:0) */
  savedRegisterWords?: ReadonlyMap<number, SavedRegisterWord>;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * The config the report implies: the domU report's (the defaults copy it) or, for a dom0 run, the
 * dom0 report's inputs (DOM0_REPORT_CONFIG).
 */
function reportConfig(config: NormalizedConfig): { report: NormalizedConfig; name: string; copied: string } {
  return config.platform === 'xen' && config.domid === 0
    ? { report: normalizeConfig(DOM0_REPORT_CONFIG), name: 'the dom0 report\'s', copied: 'an input of the dom0 report\'s run (DOM0_REPORT_CONFIG)' }
    : { report: normalizeConfig({}), name: 'the report\'s', copied: 'copied as the default of the run\'s config' };
}

/** A config value copied from the report: 'report' when unchanged, 'invented' when set. */
function knob(name: string, value: unknown, reportValue: unknown, what: string, ref: { name: string; copied: string }): ProvenanceEntry {
  if (value === reportValue) {
    return { kind: 'report', reason: `${what} ${String(value)} is ${ref.name}, ${ref.copied} (a knob: '${name}')` };
  }
  return { kind: 'invented', reason: `set by this run's config (${name}: ${String(value)}); ${ref.name} is ${String(reportValue)}` };
}

function structPageSizeEntry(config: NormalizedConfig, report: NormalizedConfig, structPage: StructPageLayout): ProvenanceEntry {
  const reportPfn = KERNEL_IMAGE.init_level4_pgt / PAGE_SIZE;
  const offset = reportPfn * report.structPageSize; // the report's address less VMEMMAP_START and offsetof(private)
  const address = formatVirtualAddress(VMEMMAP_START + offset + structPage.private);
  if (config.structPageSize !== report.structPageSize) {
    return {
      kind: 'invented',
      reason: `set by this run's config (structPageSize: ${config.structPageSize}, the size with CONFIG_HAVE_ALIGNED_STRUCT_PAGE, which SLUB selects); ` +
        `the report's fault address ${address} needs ${report.structPageSize}`,
    };
  }
  return {
    kind: 'fitted',
    reason: `fitted to the report, with evidence: its fault address ${address} less VMEMMAP_START and offsetof(struct page, private) ` +
      `(${structPage.private}) is ${hex(offset)} = ${report.structPageSize} × ${hex(reportPfn)}, while ${hex(offset)} / 64 = ${offset / 64} is not whole, ` +
      'so the reporter\'s kernel did not have the 64-byte aligned struct page (CONFIG_HAVE_ALIGNED_STRUCT_PAGE, selected by SLUB)',
  };
}

function pgdPfnEntry(pgdPfn: number, report: NormalizedConfig, structPage: StructPageLayout): ProvenanceEntry {
  if (pgdPfn === 0) return { kind: 'derived', reason: 'the run has not started: no pgd yet' };
  if (pgdPfn * PAGE_SIZE !== KERNEL_IMAGE.init_level4_pgt) {
    return { kind: 'derived', reason: `the pfn of the kernel's pgd in this run (${hex(pgdPfn)})` };
  }
  const address = formatVirtualAddress(VMEMMAP_START + pgdPfn * report.structPageSize + structPage.private);
  return {
    kind: 'fitted',
    reason: `init_level4_pgt's place in the kernel image (pfn ${hex(pgdPfn)}) is fitted: it is the report's fault address ${address} ` +
      `less VMEMMAP_START and offsetof(private), over sizeof(struct page) ${report.structPageSize}; no System.map of the reporter's build is stored`,
  };
}

function faultEntries(input: ProvenanceInput): { faultAddress: ProvenanceEntry; l4Index: ProvenanceEntry } {
  const f = input.fault;
  if (f === null) {
    const none: ProvenanceEntry = { kind: 'derived', reason: 'the model ran without an unhandled page fault: there is none to report' };
    return { faultAddress: none, l4Index: none };
  }
  const va48 = Number(BigInt(`0x${f.address}`) & 0xffffffffffffn);
  const privateVa = VMEMMAP_START + input.pgdPfn * input.structPage.size + input.structPage.private;
  const faultAddress: ProvenanceEntry = va48 === privateVa
    ? {
      kind: 'derived',
      reason: `computed by the model: the read of page->private for the pgd's struct page, VMEMMAP_START + pfn ${hex(input.pgdPfn)} × ` +
        `sizeof(struct page) ${input.structPage.size} + ${input.structPage.private}, faults because the vmemmap is not mapped yet ` +
        '(its inputs pgdPfn and structPageSize have their own provenance)',
    }
    : { kind: 'derived', reason: 'the address of the access that faulted, computed by the model from its state' };
  const l4Index: ProvenanceEntry = {
    kind: 'derived',
    reason: `pgd_index of the fault address: its bits 47:39 are ${hex(pgd_index(va48))}`,
  };
  return { faultAddress, l4Index };
}

/** The provenance of a run's reported values. */
export function buildProvenance(input: ProvenanceInput): Provenance {
  const { config } = input;
  const ref = reportConfig(config);
  const report = ref.report;
  const unused = (e: ProvenanceEntry): ProvenanceEntry =>
    (config.platform === 'xen' ? e : { kind: e.kind, reason: `${e.reason} (not used on bare metal)` });
  const p: Provenance = {
    domid: unused(knob('domid', config.domid, report.domid, 'domain id', ref)),
    pcpu: unused(knob('pcpu', config.pcpu, report.pcpu, 'physical CPU', ref)),
    structPageSize: structPageSizeEntry(config, report, input.structPage),
    pgdPfn: pgdPfnEntry(input.pgdPfn, report, input.structPage),
    ...faultEntries(input),
  };
  p.xenRelease = unused(config.xenRelease === report.xenRelease
    ? { kind: 'report', reason: `the Xen release ${ref.name} banner names, ${ref.copied}` }
    : { kind: 'invented', reason: `set by this run's config (Xen ${config.xenRelease}); ${ref.name} banner names ${report.xenRelease}` });
  p.xenDebug = unused(config.xenDebug === report.xenDebug
    ? { kind: 'report', reason: `a ${config.xenDebug ? 'debug' : 'release'} build of Xen, as ${ref.name} banner says (debug=${config.xenDebug ? 'y' : 'n'}), ${ref.copied}` }
    : { kind: 'invented', reason: `set by this run's config (xen.debug: ${String(config.xenDebug)}); ${ref.name} banner says debug=${report.xenDebug ? 'y' : 'n'}` });
  const seen = new Set<string>();
  for (const frame of input.guestStack) {
    if (seen.has(frame.symbol)) continue;
    seen.add(frame.symbol);
    p[`stack.${frame.symbol}`] = symbolProvenance(input.symbols, frame.symbol);
  }
  // construct_dom0's ENTRY ADDRESS: the kernel's ELF entry, startup_xen (fitted to the dom0 report)
  if (input.xenConsole.some((l) => l.includes('ENTRY ADDRESS:'))) p.entry = symbolProvenance(input.symbols, 'startup_xen');
  const dump = registerDump(input.xenConsole);
  const registers = registerProvenance(dump, input);
  for (const [name, entry] of Object.entries(registers)) p[`registers.${name}`] = entry;
  const lines = consoleProvenance(input, p, dump);
  lines.forEach((entry, n) => { p[`console.${n}`] = entry; });
  return p;
}
