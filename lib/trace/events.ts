/**
 * The typed events every layer emits into one recorder. An event carries `seq` (its position in
 * the run) and `phase` (the boot phase it happened in: the outermost modelled routine the lab
 * marks as a phase), so a chart can put any of them on the boot's time axis.
 */
export type PtLevel = 1 | 2 | 3 | 4;

/** Who handled a page fault. */
export type FaultHandler =
  | 'early-pf'    // bare metal: the early #PF handler (early_make_pgtable) materialised a mapping
  | 'kernel'      // bare metal: the kernel's own page-fault handler
  | 'bounced'     // Xen: bounced to the guest's registered handler
  | 'fixup'       // Xen: fixed up inside Xen (spurious fault, page-table write emulation)
  | 'unhandled';  // no handler: the domain (or the machine) crashed

export type TraceEventBody =
  | { type: 'routine-enter'; name: string; depth: number }
  | { type: 'routine-leave'; name: string; depth: number }
  | { type: 'phase'; name: string }
  | { type: 'pt-page-alloc'; level: PtLevel; pfn: number; by: string }
  | { type: 'pt-page-free'; level: PtLevel; pfn: number; by: string }
  | { type: 'hypercall'; name: string; op: string | null; result: number; domid: number }
  | { type: 'page-fault'; address: string; errorCode: number; handler: FaultHandler; rip: string | null }
  | { type: 'cr3-load'; value: string; by: string }
  /** the guest's set_trap_table reached Xen: the vectors Xen holds for vCPU 0 afterwards */
  | { type: 'trap-table'; vectors: number[]; by: string }
  | { type: 'console'; source: 'xen' | 'guest'; line: string }
  | { type: 'domain-crash'; domid: number; reason: string };

export type TraceEvent = TraceEventBody & { seq: number; phase: string };
