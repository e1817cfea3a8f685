/**
 * The kernels of the story, in history order, as data: what each one runs, and the symbol table
 * and stack frame shapes that make its stack words symbolise as the report's do.
 *
 * Addresses: the function starts of 8170e6bed465 are those implied by the crash report (the
 * seed's frames and Konrad Wilk's full report of 22 Feb 2013: e.g. the frame xen_get_user_pgd+0x5a
 * puts xen_get_user_pgd at ffffffff8103fe60; startup_xen is the ELF entry the dom0 report's
 * construct_dom0 prints). Functions the reports do not show
 * are placed by the model in free text (marked `placed`); no System.map of these builds is
 * available. The other variants reuse the table (the fix adds xen_write_cr3_init).
 * Frame shapes (callee-saved registers pushed, bytes of locals) follow the frame-pointer chain of
 * the dom0 dump in the same report (rbp ffffffff81a01dd8 -> 1e08 -> 1e48 -> 1ed8 -> 1f28 -> 1f38
 * -> 1ff8); where the report leaves a choice (how many of a frame's words the function writes),
 * the shape is the one under which the stack words symbolise as the domU report's Call Trace does.
 */
import { LabError, describeValue } from '../errors';
import { SymbolTable, type SymbolEntry } from './symbols';

export type VariantId = 'v3.8' | '8170e6bed465^' | '8170e6bed465' | '5b5c1af104ab';
export const VARIANT_IDS: readonly VariantId[] = ['v3.8', '8170e6bed465^', '8170e6bed465', '5b5c1af104ab'];

export interface FrameShape {
  /** callee-saved registers pushed after rbp (their values are written to the stack) */
  saved: number;
  /** bytes of locals below them (not written by the model: stale words stay visible) */
  locals: number;
}

export interface KernelVariant {
  id: VariantId;
  title: string;
  /** the commit's subject line */
  subject: string;
  /** the kernel release linux_banner prints (the Makefile's VERSION.PATCHLEVEL.SUBLEVEL-EXTRAVERSION) */
  release: string;
  /** bare metal boots on early_level4_pgt with the early #PF handler (early_make_pgtable) */
  earlyPfHandler: boolean;
  /** '3.8': init_memory_mapping bottom-up with find_early_table_space and 3.8's Xen hooks
   *  (mask_rw_pte, xen_mapping_pagetable_reserve); '3.9': Yinghai Lu's init_mem_mapping, top-down
   *  with the BRK buffer and alloc_low_pages */
  memoryMapping: '3.8' | '3.9';
  /**
   * Where the 64-bit #PF gate is set (arch/x86/kernel/traps.c): 'early_trap_init' (3.8 and the
   * parent of 8170e6bed465: it reaches Xen with the first xen_load_idt), or 'early_trap_pf_init'
   * (8170e6bed465 on: after init_mem_mapping, through xen_write_idt_entry under Xen)
   */
  pfGate: 'early_trap_init' | 'early_trap_pf_init';
  /**
   * What ends init_mem_mapping on 64-bit: 'load_cr3' (8170e6bed465 on: load_cr3(swapper_pg_dir)
   * then __flush_tlb_all), 'flush' (before it: __flush_tlb_all only), or 'load_cr3-unless-xen-pv'
   * (a what-if: the reload skipped when xen_pv_domain())
   */
  initMemMappingEnd: 'load_cr3' | 'flush' | 'load_cr3-unless-xen-pv';
  /** the write_cr3 slot of xen_mmu_ops at boot on 64-bit */
  xenEarlyWriteCr3: 'xen_write_cr3' | 'xen_write_cr3_init';
  /** xen_get_user_pgd: 'vmemmap' (as every kernel does it) or 'guarded' (a what-if: no user pgd until xen_post_allocator_init) */
  xenGetUserPgd: 'vmemmap' | 'guarded';
  /** the what-if applied to this variant, or null */
  whatIf: string | null;
  symbols: SymbolTable;
  /** return-address offsets of call sites: `caller>callee` -> offset inside the caller */
  callSites: Readonly<Record<string, number>>;
  frames: Readonly<Record<string, FrameShape>>;
  /** offsets of modelled memory-access instructions: `function:what` -> offset (the RIP on a fault) */
  instructions: Readonly<Record<string, number>>;
  /**
   * What the compiled code leaves in the registers and status flags at a modelled instruction,
   * where the model runs the routine but not its instructions: FITTED to the reports (see
   * FITTED_MACHINE_STATE). `function:what` as in `instructions`.
   */
  fittedState: Readonly<Record<string, FittedStateAt>>;
  /**
   * The crash report this run reproduces (its per-report fitted values apply), or null: then only
   * the values both reports agree on apply. Set by the lab (lib/lab/report-runs.ts), not by the variant.
   */
  fittedReport: CrashReport | null;
}

/** The two crash reports of 22 Feb 2013 (Konrad Rzeszutek Wilk, LKML thread "[GIT PULL] x86/mm changes for v3.9-rc1"). */
export type CrashReport = 'domU' | 'dom0';
export const CRASH_REPORTS: Readonly<Record<CrashReport, string>> = {
  domU: 'the domU report (a 1 GiB PV guest on Xen 4.2.0)',
  dom0: 'the dom0 report (the serial log of dom0 on Xen 4.1.5-pre, debug, on an 8 GB MSI MS-7680)',
};

/** A register (or the status flags) left by compiled code the model does not run, read off the report. */
export interface FittedValue {
  /** the value, 16 hex digits at most (for 'statusFlags': the RFLAGS status bits, CF PF AF ZF SF OF) */
  value: string;
  /** why it cannot be derived, and what is known about it */
  reason: string;
}

/** Registers and status flags at one instruction: name -> fitted value. */
export type FittedMachineState = Readonly<Record<string, FittedValue>>;

/** The fitted state at one instruction: what both reports show, and what each report shows alone. */
export interface FittedStateAt {
  shared: FittedMachineState;
  byReport: Readonly<Record<CrashReport, FittedMachineState>>;
}

/** A fitted value as applied to a run, with the reports it was read off. */
export interface AppliedFittedValue extends FittedValue {
  from: readonly CrashReport[];
}

const hex = (s: string): number => Number(BigInt(`0x${s}`) & ((1n << 48n) - 1n));

/**
 * Where a function's start address came from: it was fitted to a frame of a crash report, so that
 * the model's stack words symbolise as the report's do. `frame` is the frame as the report prints
 * it (symbol+offset); the start is the report's return address (or RIP) minus that offset, the
 * subtraction a reader can redo. `source`: 'commit message' for the frames quoted in
 * 5b5c1af104ab's message; 'full report' for frames only in Konrad Wilk's report of 22 Feb 2013
 * (LKML; its Xen lines and Call Trace are transcribed in test/fixtures/domu-report*.txt).
 */
export interface FittedSymbol extends SymbolEntry {
  fitted: { frame: string; source: 'commit message' | 'full report' | 'dom0 report' };
}

/**
 * Functions whose starts the crash report implies (8170e6bed465 build): FITTED to the report, not
 * known from a System.map. Each address is the report's frame address minus the frame's offset
 * (e.g. the frame at xen_get_user_pgd+0x5a, less 0x5a). The call-site offsets in CALL_SITES and
 * the +0x5a in INSTRUCTIONS are the same frames' offsets, fitted too. The sizes are invented
 * (large enough to hold the offsets the frames show).
 */
export const REPORTED: readonly FittedSymbol[] = [
  // the faulting RIP and the stale word above it: xen_get_user_pgd+0x5a
  { name: 'xen_get_user_pgd', address: hex('ffffffff8103fe60'), size: 0x70, fitted: { frame: 'xen_get_user_pgd+0x5a', source: 'commit message' } },
  // return address into xen_write_cr3 (its call of xen_get_user_pgd)
  { name: 'xen_write_cr3', address: hex('ffffffff81042cb0'), size: 0x190, fitted: { frame: 'xen_write_cr3+0x77', source: 'commit message' } },
  // return address into __add_preferred_console.clone.1 (a stale word from an earlier call)
  { name: '__add_preferred_console.clone.1', address: hex('ffffffff810940d0'), size: 0x110, fitted: { frame: '__add_preferred_console.clone.1+0x9b', source: 'full report' } },
  // a stale return address into printk (from vprintk_emit, long returned)
  { name: 'printk', address: hex('ffffffff81666d29'), size: 0x4b, fitted: { frame: 'printk+0x48', source: 'commit message' } },
  { name: 'x86_64_start_reservations', address: hex('ffffffff81abc5cd'), size: 0x30, fitted: { frame: 'x86_64_start_reservations+0x2a', source: 'full report' } },
  { name: 'start_kernel', address: hex('ffffffff81abccd2'), size: 0x3f0, fitted: { frame: 'start_kernel+0x90', source: 'full report' } },
  { name: 'xen_start_kernel', address: hex('ffffffff81abeb63'), size: 0x6f0, fitted: { frame: 'xen_start_kernel+0x564', source: 'full report' } },
  // return address into setup_arch (its call of init_mem_mapping)
  { name: 'setup_arch', address: hex('ffffffff81ac21fd'), size: 0xbf0, fitted: { frame: 'setup_arch+0x742', source: 'commit message' } },
  // return address into init_mem_mapping (load_cr3 -> pv_mmu_ops.write_cr3)
  { name: 'init_mem_mapping', address: hex('ffffffff81ad2b28'), size: 0x260, fitted: { frame: 'init_mem_mapping+0x1f9', source: 'commit message' } },
  // the ELF entry (XEN_ELFNOTE_ENTRY, arch/x86/xen/xen-head.S: .init.text) construct_dom0 prints as
  // ENTRY ADDRESS in the dom0 report; no frame of the domU report shows it, so no symbol it shows moves
  { name: 'startup_xen', address: hex('ffffffff81abc1e0'), size: 0x20, fitted: { frame: 'startup_xen+0x0', source: 'dom0 report' } },
];

/** The fitted entry for a symbol, or null when the model placed it (or it is not a symbol). */
export function fittedSymbol(name: string): FittedSymbol | null {
  return REPORTED.find((s) => s.name === name) ?? null;
}

/** Functions the model runs that the report does not show: placed in free text, in this order. */
const PLACED_TEXT = [
  'vprintk_emit', 'strlcpy', 'add_preferred_console', '__xen_write_cr3', 'xen_mc_flush', 'xen_set_pmd_hyper',
  'xen_set_pud_hyper', 'xen_set_pgd_hyper', 'xen_set_pte_init', 'xen_alloc_pte_init', 'xen_alloc_pmd_init',
  'make_lowmem_page_readonly', 'lookup_address', 'pin_pagetable_pfn', 'xen_flush_tlb', 'xen_set_pte_at',
  'native_write_cr3', 'native_flush_tlb', 'memblock_find_in_range', 'memblock_reserve', 'xen_mark_init_mm_pinned',
  'early_idt_handler', 'xen_write_cr3_init', 'startup_64', 'startup_xen', 'xen_pgd_walk',
  'page_fault', 'do_page_fault', 'xen_load_idt', 'xen_arch_setup', 'xen_pgd_alloc', 'xen_set_pmd', 'xen_set_pud',
  'xen_set_pgd', 'xen_alloc_pte', 'xen_alloc_pmd', 'xen_alloc_pud', 'pgd_alloc', 'pgd_ctor', 'xen_activate_mm', 'xen_pgd_pin', 'switch_mm',
  // the trap entries (arch/x86/kernel/entry_64.S) and the IDT's pv ops (arch/x86/xen/enlighten.c)
  'debug', 'int3', 'xen_debug', 'xen_int3', 'xen_write_idt_entry', 'xen_convert_trap_info', 'native_load_idt',
  'no_context', 'make_lowmem_page_readwrite', 'xen_mapping_pagetable_reserve',
];
const PLACED_INIT = [
  'x86_64_start_kernel', 'reset_early_page_tables', 'early_make_pgtable', 'copy_bootdata', 'clear_bss',
  'reserve_ebda_region', 'xen_setup_kernel_pagetable', 'convert_pfn_mfn', 'set_page_prot', 'xen_build_dynamic_phys_to_machine',
  'xen_init_mmu_ops', 'memblock_x86_fill', 'early_alloc_pgt_buf', 'reserve_brk', 'probe_page_size_mask',
  'init_memory_mapping', 'init_range_memory_mapping', 'split_mem_range', 'kernel_physical_mapping_init',
  'phys_pud_init', 'phys_pmd_init', 'phys_pte_init', 'alloc_low_pages', 'alloc_low_page', 'find_early_table_space',
  'early_trap_init',
  'early_trap_pf_init', 'initmem_init', 'xen_pagetable_init', 'paging_init', 'sparse_init',
  'sparse_mem_map_populate', 'vmemmap_populate', 'vmemmap_alloc_block', 'xen_post_allocator_init',
  'xen_setup_shared_info', 'native_pagetable_init', 'xen_cleanhighmap',
  // dom0's memory set-up (arch/x86/kernel/setup.c, e820.c, arch/x86/xen/setup.c, p2m.c)
  'setup_memory_map', 'xen_memory_setup', 'xen_set_identity_and_release', 'xen_set_identity_and_release_chunk',
  'xen_do_chunk', 'set_phys_range_identity', 'xen_populate_chunk', 'trim_bios_range', 'e820_end_of_ram_pfn',
];

function buildSymbols(): SymbolTable {
  const entries: SymbolEntry[] = [...REPORTED];
  // a fitted start wins over a placed one; its slot stays empty, so the other placed starts do not move
  const fitted = new Set(REPORTED.map((s) => s.name));
  PLACED_TEXT.forEach((name, i) => { if (!fitted.has(name)) entries.push({ name, address: hex('ffffffff81200000') + i * 0x200, size: 0x200 }); });
  PLACED_INIT.forEach((name, i) => entries.push({ name, address: hex('ffffffff81ae0000') + i * 0x400, size: 0x400 }));
  return new SymbolTable(entries);
}

/** Call sites the crash report shows (return addresses = caller + offset). */
const CALL_SITES: Record<string, number> = {
  'xen_start_kernel>x86_64_start_reservations': 0x564,
  'x86_64_start_reservations>start_kernel': 0x2a,
  'start_kernel>setup_arch': 0x90,
  'setup_arch>init_mem_mapping': 0x742,
  // load_cr3() is an indirect call through pv_mmu_ops.write_cr3: one call site, whichever op.
  'init_mem_mapping>xen_write_cr3': 0x1f9,
  'init_mem_mapping>xen_write_cr3_init': 0x1f9,
  'init_mem_mapping>native_write_cr3': 0x1f9,
  'xen_write_cr3>xen_get_user_pgd': 0x77,
  'printk>vprintk_emit': 0x48,
  '__add_preferred_console.clone.1>strlcpy': 0x9b,
};

/** Frame shapes read off the dom0 dump's frame-pointer chain; others get DEFAULT_FRAME. */
const FRAMES: Record<string, FrameShape> = {
  xen_start_kernel: { saved: 5, locals: 0x88 },
  x86_64_start_reservations: { saved: 0, locals: 0 },
  start_kernel: { saved: 4, locals: 0x20 },
  printk: { saved: 0, locals: 0x50 },
  add_preferred_console: { saved: 0, locals: 0 },
  '__add_preferred_console.clone.1': { saved: 2, locals: 0x10 },
  setup_arch: { saved: 5, locals: 0x58 },
  init_mem_mapping: { saved: 6, locals: 0 },
  xen_write_cr3: { saved: 4, locals: 0 },
  xen_write_cr3_init: { saved: 2, locals: 0 },
  xen_get_user_pgd: { saved: 0, locals: 0 },
};
/** The load of page->private in xen_get_user_pgd is at +0x5a (the seed's faulting RIP). */
const INSTRUCTIONS: Record<string, number> = {
  'xen_get_user_pgd:page->private': 0x5a,
};

/**
 * The machine state at the faulting load in xen_get_user_pgd (+0x5a) that the model cannot derive,
 * FITTED to the two reports of the same kernel: the domU report (1 GiB guest, Xen 4.2.0) and the
 * dom0 report (Xen 4.1.5-pre). The model runs xen_write_cr3 and xen_get_user_pgd as routines;
 * which scratch registers their compiled code clobbers, with what, and the flags its last
 * arithmetic instruction leaves, would need the reporter's vmlinux (not stored). `shared`: values
 * both reports show (so they come from the kernel's code, applied to every run of it); `byReport`:
 * values the reports disagree on (r10, r11: they depend on the run), applied only to the run that
 * reproduces that report. The registers the model derives (rax, rbx, rcx, rdx, rsi, r13, r15,
 * rbp, rsp) are not here.
 */
const FITTED_MACHINE_STATE: Record<string, FittedStateAt> = {
  'xen_get_user_pgd:page->private': {
    shared: {
      statusFlags: {
        value: '4',
        reason: 'PF (parity), left by the last arithmetic instruction before the load, which the model does not run; ' +
          'the reports\' RFLAGS 206 and the bounce frame\'s 10006 show it (an even-parity result such as ' +
          'pfn × sizeof(struct page) = 0x...a0 would leave it: a guess, no disassembly is stored)',
      },
      r8: { value: '0', reason: 'a scratch register of the compiled xen_write_cr3/xen_get_user_pgd (caller-saved); the model does not run their instructions' },
      r9: {
        value: '10000001',
        reason: 'a scratch register left by a call the model does not run instruction by instruction; both reports show it, ' +
          'so it comes from the kernel\'s code, but which code is unknown without its vmlinux',
      },
      rdi: {
        value: '0',
        reason: 'xen_get_user_pgd\'s argument register (it was called with __va(cr3)), clobbered by its compiled code before the load; both reports show 0',
      },
      r12: {
        value: '0',
        reason: 'callee-saved: xen_write_cr3 pushes init_mem_mapping\'s r12 (non-zero in the dom0 report\'s stack) and its compiled code then sets it to 0, as both reports show',
      },
      r14: {
        value: '0',
        reason: 'callee-saved: xen_write_cr3 pushes init_mem_mapping\'s r14 (non-zero in the dom0 report\'s stack) and its compiled code then sets it to 0, as both reports show',
      },
    },
    byReport: {
      domU: {
        r10: { value: '0', reason: 'a scratch register (caller-saved) the model does not compute; the dom0 report shows 5 here, so it depends on the run' },
        r11: { value: '0', reason: 'a scratch register (caller-saved) the model does not compute; the dom0 report shows 0x100000 here, so it depends on the run' },
      },
      dom0: {
        r10: { value: '5', reason: 'a scratch register (caller-saved) the model does not compute; the domU report shows 0 here, so it depends on the run' },
        r11: { value: '100000', reason: 'a scratch register (caller-saved) the model does not compute; the domU report shows 0 here, so it depends on the run' },
      },
    },
  },
};

/**
 * The fitted state at `function:what` for the variant's run: the values both reports show, plus
 * the values of the report the run reproduces (variant.fittedReport); null when there is none.
 */
export function fittedMachineState(variant: KernelVariant, at: string): Readonly<Record<string, AppliedFittedValue>> | null {
  const state = variant.fittedState[at];
  if (state === undefined) return null;
  const out: Record<string, AppliedFittedValue> = {};
  for (const [name, f] of Object.entries(state.shared)) out[name] = { ...f, from: ['domU', 'dom0'] };
  const report = variant.fittedReport;
  if (report !== null) for (const [name, f] of Object.entries(state.byReport[report])) out[name] = { ...f, from: [report] };
  return out;
}

/**
 * What each report alone shows at `function:what` for a register the run does not get (its
 * values disagree, and the run reproduces neither report), or null.
 */
export function unappliedFittedValues(variant: KernelVariant, at: string, name: string): { report: CrashReport; value: string }[] | null {
  const state = variant.fittedState[at];
  if (state === undefined || variant.fittedReport !== null || state.shared[name] !== undefined) return null;
  const out = (Object.keys(state.byReport) as CrashReport[]).flatMap((report) => {
    const f = state.byReport[report][name];
    return f === undefined ? [] : [{ report, value: f.value }];
  });
  return out.length > 0 ? out : null;
}

/** The variant, set to reproduce `report`'s run (its per-report fitted values apply), or neither (null). */
export function forReport(variant: KernelVariant, report: CrashReport | null): KernelVariant {
  return variant.fittedReport === report ? variant : { ...variant, fittedReport: report };
}

export const DEFAULT_FRAME: FrameShape = { saved: 2, locals: 0x10 };

const SYMBOLS = buildSymbols();

const SHARED = { symbols: SYMBOLS, callSites: CALL_SITES, frames: FRAMES, instructions: INSTRUCTIONS, fittedState: FITTED_MACHINE_STATE, fittedReport: null, xenGetUserPgd: 'vmemmap', whatIf: null } as const;

const VARIANTS: Record<VariantId, KernelVariant> = {
  'v3.8': {
    id: 'v3.8',
    title: 'Linux 3.8',
    subject: 'v3.8: static early page tables; init_memory_mapping extends init_level4_pgt in place',
    release: '3.8.0',
    earlyPfHandler: false,
    memoryMapping: '3.8',
    pfGate: 'early_trap_init',
    initMemMappingEnd: 'flush',
    xenEarlyWriteCr3: 'xen_write_cr3',
    ...SHARED,
  },
  // The parent of 8170e6bed465 in the x86/mm series (its commit id could not be established from
  // the stored sources: no tree with that history is mirrored here).
  '8170e6bed465^': {
    id: '8170e6bed465^',
    title: 'the parent of 8170e6bed465 (Yinghai Lu\'s top-down init_mem_mapping)',
    subject: 'before 8170e6bed465: init_mem_mapping top-down from the BRK buffer; no early #PF handler; no 64-bit CR3 reload',
    release: '3.9.0-rc1',
    earlyPfHandler: false,
    memoryMapping: '3.9',
    pfGate: 'early_trap_init',
    initMemMappingEnd: 'flush',
    xenEarlyWriteCr3: 'xen_write_cr3',
    ...SHARED,
  },
  '8170e6bed465': {
    id: '8170e6bed465',
    title: 'Linux 3.9-rc1 with 8170e6bed465',
    subject: 'x86, 64bit: Use a #PF handler to materialize early mappings on demand',
    release: '3.9.0-rc1',
    earlyPfHandler: true,
    memoryMapping: '3.9',
    pfGate: 'early_trap_pf_init',
    initMemMappingEnd: 'load_cr3',
    xenEarlyWriteCr3: 'xen_write_cr3',
    ...SHARED,
  },
  '5b5c1af104ab': {
    id: '5b5c1af104ab',
    title: 'Linux 3.9-rc1 with the fix 5b5c1af104ab',
    subject: 'x86-64, xen, mmu: Provide an early version of write_cr3.',
    release: '3.9.0-rc1',
    earlyPfHandler: true,
    memoryMapping: '3.9',
    pfGate: 'early_trap_pf_init',
    initMemMappingEnd: 'load_cr3',
    xenEarlyWriteCr3: 'xen_write_cr3_init',
    ...SHARED,
  },
};

/** The variant with this id; UNKNOWN_VARIANT (listing the known ones) otherwise. */
export function kernelVariant(id: unknown): KernelVariant {
  if (typeof id !== 'string' || !(VARIANT_IDS as readonly string[]).includes(id)) {
    throw new LabError('UNKNOWN_VARIANT', `variant must be one of ${VARIANT_IDS.join(', ')}; got ${describeValue(id)}`);
  }
  return VARIANTS[id as VariantId];
}
