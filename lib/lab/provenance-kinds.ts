/**
 * The four kinds of provenance a reported value can have, from most to least real, and the shapes
 * a run's provenance takes (see provenance.ts for what each kind means).
 */
export type ProvenanceKind = 'report' | 'derived' | 'fitted' | 'invented';

/** The kinds from most real to least real. */
export const PROVENANCE_KINDS: readonly ProvenanceKind[] = ['report', 'derived', 'fitted', 'invented'];

/** One figure inside a console line: characters [start, end) of the line as printed. */
export interface ProvenancePart {
  start: number;
  end: number;
  kind: ProvenanceKind;
  /** what the figure is, e.g. 'rflags', 'domain id', 'return address into setup_arch' */
  label: string;
  /** the provenance key it shares, e.g. 'registers.rip', 'stack.setup_arch', 'domid' */
  key?: string;
}

export interface ProvenanceEntry {
  kind: ProvenanceKind;
  /** one line: why this kind */
  reason: string;
  /** console lines only: the figures in the line, each with its own kind */
  parts?: ProvenancePart[];
}

/**
 * Keys: 'domid', 'pcpu', 'structPageSize', 'pgdPfn', 'faultAddress', 'l4Index', 'xenRelease',
 * 'registers.<name>' (from Xen's register dump), 'stack.<symbol>' (each guest stack frame's
 * function start), 'console.<n>' (Xen's console line n).
 */
export type Provenance = Record<string, ProvenanceEntry>;

/** The less real of two kinds. */
export function lessReal(a: ProvenanceKind, b: ProvenanceKind): ProvenanceKind {
  return PROVENANCE_KINDS.indexOf(a) >= PROVENANCE_KINDS.indexOf(b) ? a : b;
}
