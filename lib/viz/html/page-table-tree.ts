/**
 * An address space's page tables as a tree, read from physical memory starting at a PML4: one
 * node per present table entry, except that consecutive leaf entries mapping consecutive frames
 * with the same flags (accessed and dirty aside) and the same page type collapse into one run.
 * This is the data the explorer view draws; building it is the heavy part, so it lives here and
 * not in a notebook cell.
 */
import { LabError, describeValue } from '../../errors';
import { formatVirtualAddress, parseU64 } from '../../x86/address';
import type { PhysicalMemory } from '../../x86/physical-memory';
import { PTE_HI_ADDR, PTE_HI_XD, PTE_LO_FRAME, PTE_P, PTE_PS, TWO_32, pteFlagNames } from '../../x86/pte';
import { toRegionLookup } from '../regions';
import type { PageTypeLookup, RegionLookup, RegionRange } from '../types';

export interface PtNode {
  /** 4 = PML4E .. 1 = PTE */
  level: 1 | 2 | 3 | 4;
  /** index of the first entry and of the last (equal unless this is a run of leaves) */
  first: number;
  last: number;
  /** the virtual range covered, 16 hex digits each, end inclusive */
  start: string;
  end: string;
  /** the first entry's value, 16 hex digits */
  entry: string;
  /** the frame the first entry points to */
  frame: number;
  /** the first entry's flags, Linux ptdump style */
  flags: string[];
  /** true for a page mapping (PTE, or a PDE/PDPTE with PS) */
  leaf: boolean;
  /** bytes mapped per entry for a leaf; 0 for a table entry */
  pageSize: number;
  /** the region the range starts in, if a lookup was given */
  region?: string;
  /** the Xen page type of the (first) frame pointed to, if a lookup was given */
  pageType?: string;
  /** the entries of the table a non-leaf entry points to */
  children: PtNode[];
  /**
   * set when the entry points back to a table on its own path (a recursive or linear page-table
   * mapping, like Xen's in L4 slot 258): the level it points back to; not expanded again
   */
  loopsTo?: 1 | 2 | 3 | 4;
}

export interface PageTableTree {
  /** physical address of the PML4 table */
  pml4: number;
  pml4Type?: string;
  roots: PtNode[];
  /** page-table pages visited (the PML4 included) */
  tables: number;
  /** present entries seen */
  presentEntries: number;
  /** nodes in the tree */
  nodes: number;
  /** true when maxNodes stopped the walk early */
  truncated: boolean;
}

export interface PageTableTreeOptions {
  /** region names (Linux layout), as a lookup or a table of ranges */
  regions?: RegionLookup | readonly RegionRange[];
  /** Xen page types by frame */
  pageType?: PageTypeLookup;
  /** stop after this many nodes (default 5000) */
  maxNodes?: number;
}

const ENTRY_SPAN = [0, 2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39];
/** Flags that decide whether two leaves belong to one run: P RW US PWT PCD PS/PAT G (not A, D). */
const RUN_FLAG_MASK = 0x19f;

/** Builds the tree of the tables reachable from `pml4` (a physical address or a CR3 value). */
export function buildPageTableTree(mem: PhysicalMemory, pml4: bigint | string, options: PageTableTreeOptions = {}): PageTableTree {
  if (typeof mem !== 'object' || mem === null || !(mem.frames instanceof Map)) {
    throw new LabError('WRONG_TYPE', `mem must be a PhysicalMemory; got ${describeValue(mem)}`);
  }
  const root = Number(parseU64('pml4', pml4) & 0x000ffffffffff000n);
  const maxNodes = options.maxNodes ?? 5000;
  if (typeof maxNodes !== 'number' || !Number.isInteger(maxNodes) || maxNodes < 1) {
    throw new LabError('VALUE_OUT_OF_RANGE', `options.maxNodes must be a positive integer; got ${describeValue(maxNodes)}`);
  }
  if (options.pageType !== undefined && typeof options.pageType !== 'function') {
    throw new LabError('WRONG_TYPE', `options.pageType must be a function (frame) => type or left out; got ${describeValue(options.pageType)}`);
  }
  const regionOf = toRegionLookup('options.regions', options.regions);
  const pageType = options.pageType;
  const tree: PageTableTree = { pml4: root, roots: [], tables: 0, presentEntries: 0, nodes: 0, truncated: false };
  const t = pageType?.(root / 4096);
  if (t !== undefined && t !== null) tree.pml4Type = t;

  /** `path[k]` is the frame of the table visited at level 4 - k on the way down. */
  const visit = (tablePa: number, level: 1 | 2 | 3 | 4, base: number, path: number[]): PtNode[] => {
    tree.tables++;
    const words = mem.frames.get(Math.floor(tablePa / 4096));
    const out: PtNode[] = [];
    if (words === undefined) return out;
    let runKey = '';
    for (let i = 0; i < 512; i++) {
      const lo = words[i * 2];
      const hi = words[i * 2 + 1];
      if ((lo & PTE_P) === 0) { runKey = ''; continue; }
      tree.presentEntries++;
      const va = base + i * ENTRY_SPAN[level];
      const leaf = level === 1 || ((level === 2 || level === 3) && (lo & PTE_PS) !== 0);
      const frame = (hi & PTE_HI_ADDR) * (TWO_32 / 4096) + ((lo & PTE_LO_FRAME) >>> 12);
      const type = pageType?.(frame) ?? undefined;
      const prev = out[out.length - 1];
      const key = `${lo & RUN_FLAG_MASK}/${hi & PTE_HI_XD}/${type ?? ''}`;
      if (leaf && prev !== undefined && prev.leaf && runKey === key && prev.last === i - 1
        && frame === prev.frame + (i - prev.first) * (ENTRY_SPAN[level] / 4096)) {
        prev.last = i;
        prev.end = formatVirtualAddress(va + ENTRY_SPAN[level] - 1);
        continue;
      }
      if (tree.nodes >= maxNodes) { tree.truncated = true; return out; }
      tree.nodes++;
      runKey = leaf ? key : '';
      const node: PtNode = {
        level, first: i, last: i,
        start: formatVirtualAddress(va), end: formatVirtualAddress(va + ENTRY_SPAN[level] - 1),
        entry: (BigInt(hi >>> 0) << 32n | BigInt(lo >>> 0)).toString(16).padStart(16, '0'),
        frame, flags: pteFlagNames(lo, hi, level), leaf, pageSize: leaf ? ENTRY_SPAN[level] : 0, children: [],
      };
      const region = regionOf?.(va);
      if (region !== undefined && region !== null) node.region = region;
      if (type !== undefined) node.pageType = type;
      out.push(node);
      const back = path.indexOf(frame);
      if (!leaf && back >= 0) node.loopsTo = (4 - back) as 1 | 2 | 3 | 4;
      else if (!leaf && level > 1) node.children = visit(frame * 4096, (level - 1) as 1 | 2 | 3, va, [...path, frame]);
      if (tree.truncated) return out;
    }
    return out;
  };
  tree.roots = visit(root, 4, 0, [root / 4096]);
  return tree;
}
