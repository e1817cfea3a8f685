/**
 * The guest's address space as the hardware sees it at a point of a run: the machine memory, the
 * CR3 in force, region names from the Linux layout and Xen's page types of machine frames. The
 * walk, the dump and the explorer all read it; nothing here changes the run.
 */
import { regionName } from '../linux/layout';
import type { PhysicalMemory } from '../x86/physical-memory';
import { ptdump, type PageTableDump, type PtdumpRun } from '../x86/ptdump';
import { walk, type Access, type AccessKind, type WalkResult } from '../x86/walk';
import type { Machine } from './machine';

export interface AddressSpace {
  /** machine memory (guest-physical on bare metal) */
  memory: PhysicalMemory;
  /** the CR3 the MMU uses now (a machine address) */
  cr3: bigint;
  /** the Linux region a virtual address (bits 47:0) lies in */
  regions: (va48: number) => string;
  /** Xen's type of a machine frame (e.g. 'l1_page_table'), or null on bare metal / none */
  pageType: (frame: number) => string | null;
}

export function addressSpaceOf(m: Machine): AddressSpace {
  return {
    memory: m.platform.memory,
    cr3: BigInt(m.platform.currentCr3()),
    regions: regionName,
    pageType: (f) => m.platform.pageType(f),
  };
}

/**
 * Walks `va` through the current tables as the processor would (a supervisor access by default),
 * setting accessed/dirty flags on success as the hardware does.
 */
export function walkAddressSpace(space: AddressSpace, va: bigint | string, access: Access | AccessKind = 'read'): WalkResult {
  const a: Access = typeof access === 'string' ? { kind: access, user: false } : access;
  return walk(space.memory, { cr3: space.cr3, efer: { nxe: true }, cr0: { wp: true } }, va, a);
}

/** The mapped ranges of the current address space, merged into runs (Linux ptdump style). */
export function dumpAddressSpace(space: AddressSpace): PageTableDump {
  return ptdump(space.memory, space.cr3, { nxe: true });
}

export interface PageTableDiff {
  /** runs present in `after` and not in `before` (same start, size and flags) */
  added: PtdumpRun[];
  /** runs present in `before` and not in `after` */
  removed: PtdumpRun[];
  /** bytes mapped before and after */
  mappedBefore: number;
  mappedAfter: number;
  /** paging structures at each level, before and after */
  tablesBefore: PageTableDump['tables'];
  tablesAfter: PageTableDump['tables'];
}

const runKey = (r: PtdumpRun): string =>
  `${r.start}:${r.end}:${r.pageSize}:${Number(r.flags.rw)}${Number(r.flags.user)}${Number(r.flags.nx)}${Number(r.flags.global)}`;

/** What changed between two dumps of an address space. */
export function diffPageTables(before: PageTableDump, after: PageTableDump): PageTableDiff {
  const b = new Set(before.runs.map(runKey));
  const a = new Set(after.runs.map(runKey));
  return {
    added: after.runs.filter((r) => !b.has(runKey(r))),
    removed: before.runs.filter((r) => !a.has(runKey(r))),
    mappedBefore: before.mappedBytes,
    mappedAfter: after.mappedBytes,
    tablesBefore: before.tables,
    tablesAfter: after.tables,
  };
}
