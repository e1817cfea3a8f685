/**
 * Direct-map set-up: arch/x86/mm/init.c at v3.9-rc1 (8170e6bed465 and the fix) and at v3.8.
 * 3.9 maps RAM top-down in growing steps so that each new page-table page comes from memory that is
 * already mapped (alloc_low_pages); from 8170e6bed465 on it ends by loading CR3 on 64-bit too: the
 * line that reaches Xen's write_cr3 before vmemmap exists (its parent only flushed the TLB). 3.8
 * maps bottom-up from a pre-sized buffer (find_early_table_space) and on 64-bit only flushes the TLB.
 */
import type { Kernel } from '../kernel';
import { PG_LEVEL_1G, PG_LEVEL_2M } from '../kernel';
import { ISA_END_ADDRESS, PAGE_SIZE, PGDIR_SIZE, PMD_SIZE, PUD_SIZE } from '../layout';
import { kernel_physical_mapping_init, type MappingContext } from './init-64';
import { panic } from './panic';
import { fmt010 } from '../printk-format';

/** INIT_PGT_BUF_SIZE (3.9-rc1): "need 4 4k for initial PMD_SIZE, 4k for 0-ISA_END_ADDRESS" */
export const INIT_PGT_BUF_SIZE = 5 * PAGE_SIZE;
/** STEP_SIZE_SHIFT (3.9): the step grows 32-fold while more RAM gets mapped */
export const STEP_SIZE_SHIFT = 5;

const roundDown = (x: number, a: number): number => Math.floor(x / a) * a;
const roundUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** A piece of init_memory_mapping's work: [start, end) with the page sizes allowed. */
interface MapRange { start: number; end: number; page_size_mask: number }

// arch/x86/mm/init.c (v3.9)
export function probe_page_size_mask(k: Kernel, cpuHasPse: boolean, cpuHasGbpages: boolean): void {
  k.call('probe_page_size_mask', () => {
    let mask = 0;
    if (cpuHasGbpages) mask |= 1 << PG_LEVEL_1G;
    if (cpuHasPse) mask |= 1 << PG_LEVEL_2M;
    k.g.page_size_mask = mask;
  });
}

// arch/x86/mm/init.c (v3.9): early_alloc_pgt_buf, the BRK buffer alloc_low_pages starts from
export function early_alloc_pgt_buf(k: Kernel): void {
  k.call('early_alloc_pgt_buf', () => {
    const base = k.image.__brk_base;
    k.g.pgt_buf_start = base / PAGE_SIZE;
    k.g.pgt_buf_end = k.g.pgt_buf_start;
    k.g.pgt_buf_top = k.g.pgt_buf_start + INIT_PGT_BUF_SIZE / PAGE_SIZE;
  });
}

// arch/x86/mm/init.c (v3.9-rc1): one page-table page, already in the direct map, zeroed
export function alloc_low_pages(k: Kernel, num: number): number {
  return k.call('alloc_low_pages', () => {
    const g = k.g;
    let pfn: number;
    if (g.pgt_buf_end + num > g.pgt_buf_top) {
      if (g.min_pfn_mapped >= g.max_pfn_mapped) panic(k, 'alloc_low_page: ran out of memory');
      const ret = k.call('memblock_find_in_range', () =>
        k.memblock.findInRange(g.min_pfn_mapped * PAGE_SIZE, g.max_pfn_mapped * PAGE_SIZE, PAGE_SIZE * num, PAGE_SIZE));
      if (ret === 0) panic(k, 'alloc_low_page: can not alloc memory');
      k.call('memblock_reserve', () => k.memblock.reserve(ret, PAGE_SIZE * num));
      pfn = ret / PAGE_SIZE;
    } else {
      pfn = g.pgt_buf_end;
      g.pgt_buf_end += num;
      k.printk(`BRK [${fmt010(pfn * PAGE_SIZE)}, ${fmt010(g.pgt_buf_end * PAGE_SIZE - 1)}] PGTABLE`);
    }
    for (let i = 0; i < num; i++) k.clear_page(k.__va((pfn + i) * PAGE_SIZE));
    return pfn;
  });
}

/** The 3.9 allocator as a MappingContext allocator: one page, its level reported to the trace. */
function lowPageAllocator(k: Kernel, level: 1 | 2 | 3): number {
  const pfn = alloc_low_pages(k, 1);
  k.trace.emit({ type: 'pt-page-alloc', level, pfn, by: 'alloc_low_pages' });
  return pfn;
}

// arch/x86/mm/init.c (v3.9): split [start, end) into 4k head, 2M, 1G, 2M tail, 4k tail
export function split_mem_range(start: number, end: number, mask: number): MapRange[] {
  const mr: MapRange[] = [];
  const save = (s: number, e: number, m: number): void => { if (s < e) mr.push({ start: s, end: e, page_size_mask: m }); };
  let pos = start;
  let endPos = Math.min(roundUp(pos, PMD_SIZE), end);
  save(pos, endPos, 0);
  pos = endPos;
  endPos = Math.min(roundUp(pos, PUD_SIZE), roundDown(end, PMD_SIZE));
  if (endPos > pos) { save(pos, endPos, mask & (1 << PG_LEVEL_2M)); pos = endPos; }
  endPos = roundDown(end, PUD_SIZE);
  if (endPos > pos) { save(pos, endPos, mask & ((1 << PG_LEVEL_2M) | (1 << PG_LEVEL_1G))); pos = endPos; }
  endPos = roundDown(end, PMD_SIZE);
  if (endPos > pos) { save(pos, endPos, mask & (1 << PG_LEVEL_2M)); pos = endPos; }
  save(pos, end, 0);
  // merge neighbours with the same page size
  const merged: MapRange[] = [];
  for (const r of mr) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.end === r.start && last.page_size_mask === r.page_size_mask) last.end = r.end;
    else merged.push({ ...r });
  }
  return merged;
}

const pageSizeName = (mask: number): string =>
  (mask & (1 << PG_LEVEL_1G)) !== 0 ? '1G' : (mask & (1 << PG_LEVEL_2M)) !== 0 ? '2M' : '4k';

function mappingContext(k: Kernel, alloc: MappingContext['alloc']): MappingContext {
  return { alloc, isRam: (s, e) => k.memblock.anyMemory(s, e) };
}

// arch/x86/mm/init.c (v3.9): map [start, end) into the direct map; returns the end pfn mapped
export function init_memory_mapping(k: Kernel, start: number, end: number): number {
  // resumable between ranges (lib/linux/kernel.ts callResumable): the ranges are recomputed, not kept
  const l = k.callResumable('init_memory_mapping', { i: 0, ret: 0 }, (l, pc) => {
    if (pc === 0) {
      k.printk(`init_memory_mapping: [mem ${fmt010(start)}-${fmt010(end - 1)}]`);
      const ranges = k.call('split_mem_range', () => split_mem_range(start, end, k.g.page_size_mask));
      for (const r of ranges) k.printk(` [mem ${fmt010(r.start)}-${fmt010(r.end - 1)}] page ${pageSizeName(r.page_size_mask)}`);
      return 1;
    }
    if (pc === 1) {
      const ranges = split_mem_range(start, end, k.g.page_size_mask);
      if (l.i >= ranges.length) return 2;
      const r = ranges[l.i];
      l.ret = kernel_physical_mapping_init(k, mappingContext(k, lowPageAllocator), r.start, r.end, r.page_size_mask);
      l.i++;
      return 1;
    }
    // add_pfn_range_mapped(start >> PAGE_SHIFT, ret >> PAGE_SHIFT)
    k.g.max_pfn_mapped = Math.max(k.g.max_pfn_mapped, l.ret / PAGE_SIZE);
    return -1;
  });
  return l.ret / PAGE_SIZE;
}

// arch/x86/mm/init.c (v3.9): map the RAM inside [range_start, range_end); returns bytes mapped
export function init_range_memory_mapping(k: Kernel, range_start: number, range_end: number): number {
  return k.callResumable('init_range_memory_mapping', { i: 0, mapped: 0 }, (l) => {
    const ranges = k.memblock.memoryIn(range_start, range_end);
    if (l.i >= ranges.length) return -1;
    const r = ranges[l.i];
    init_memory_mapping(k, r.base, r.end);
    l.mapped += r.end - r.base;
    l.i++;
    return 0;
  }).mapped;
}

// arch/x86/mm/init.c (v3.9-rc1): the whole direct map, top-down, then (from 8170e6bed465 on) load_cr3(swapper_pg_dir)
export function init_mem_mapping(k: Kernel, cpuHasPse: boolean, cpuHasGbpages: boolean): void {
  const locals = { end: 0, real_end: 0, step_size: 0, last_start: 0, mapped_ram_size: 0, start: 0 };
  k.callResumable('init_mem_mapping', locals, (l, pc) => {
    const g = k.g;
    switch (pc) {
      case 0:
        probe_page_size_mask(k, cpuHasPse, cpuHasGbpages);
        l.end = g.max_pfn * PAGE_SIZE;
        return 1;
      case 1:
        // the ISA range is always mapped regardless of memory holes
        init_memory_mapping(k, 0, ISA_END_ADDRESS);
        return 2;
      case 2: {
        // xen has big range in reserved near end of ram, skip it at first
        const addr = k.call('memblock_find_in_range', () => k.memblock.findInRange(ISA_END_ADDRESS, l.end, PMD_SIZE, PAGE_SIZE));
        l.real_end = addr + PMD_SIZE;
        l.step_size = PMD_SIZE;
        g.max_pfn_mapped = 0; // will get exact value next
        g.min_pfn_mapped = l.real_end / PAGE_SIZE;
        l.last_start = l.real_end;
        l.mapped_ram_size = 0;
        // The compiled loop keeps end, step_size and ISA_END_ADDRESS in callee-saved registers (rbx,
        // r13, r15: which ones is read off the reports' dumps and stacks); xen_write_cr3 saves them.
        k.stack.setRegister('rbx', BigInt(l.end), 'end = max_pfn << PAGE_SHIFT');
        k.stack.setRegister('r13', BigInt(l.step_size), 'step_size');
        k.stack.setRegister('r15', BigInt(ISA_END_ADDRESS), 'ISA_END_ADDRESS');
        // real_end and mapped_ram_size live across the loop too: r12 and r14 (read off the dom0 report's
        // stack, where xen_write_cr3 saved them: the start of the last range, and the sum of the ranges mapped)
        k.stack.setRegister('r12', BigInt(l.real_end), 'real_end');
        k.stack.setRegister('r14', 0n, 'mapped_ram_size');
        return 3;
      }
      case 3:
        // We start from the top (end of memory) and go to the bottom; the memblock_find_in_range gets
        // us a block from the top that is already mapped, for the new page tables.
        if (!(l.last_start > ISA_END_ADDRESS)) return 5;
        l.start = l.last_start > l.step_size ? Math.max(roundDown(l.last_start - 1, l.step_size), ISA_END_ADDRESS) : ISA_END_ADDRESS;
        return 4;
      case 4: {
        const new_mapped_ram_size = init_range_memory_mapping(k, l.start, l.last_start);
        l.last_start = l.start;
        g.min_pfn_mapped = l.last_start / PAGE_SIZE;
        // only increase step_size after a big range gets mapped
        if (new_mapped_ram_size > l.mapped_ram_size) {
          l.step_size *= 2 ** STEP_SIZE_SHIFT;
          k.stack.setRegister('r13', BigInt(l.step_size), 'step_size');
        }
        l.mapped_ram_size += new_mapped_ram_size;
        k.stack.setRegister('r14', BigInt(l.mapped_ram_size), 'mapped_ram_size');
        return 3;
      }
      case 5:
        if (l.real_end < l.end) init_range_memory_mapping(k, l.real_end, l.end);
        return 6;
      default: {
        if (g.max_pfn > g.max_low_pfn) g.max_low_pfn = g.max_pfn;
        // 8170e6bed465 ("-v6: switch to init_level4_pgt in init_mem_mapping") moved load_cr3 out of
        // the 32-bit branch: from it on, 64-bit reloads CR3 here too (v3.9.6 init.c:451-452)
        const end_ = k.variant.initMemMappingEnd;
        if (end_ === 'load_cr3' || (end_ === 'load_cr3-unless-xen-pv' && k.platform !== 'xen')) {
          const cr3 = k.__pa(k.ktextVa(k.image.init_level4_pgt)); // load_cr3(swapper_pg_dir)
          k.pv.write_cr3.fn(cr3);
        }
        k.pv.flush_tlb_kernel.fn(); // __flush_tlb_all()
        return -1;
      }
    }
  });
}

// ---- v3.8 ---------------------------------------------------------------------------------------

/**
 * find_early_table_space(mr, nr_range) (arch/x86/mm/init.c, v3.8.13 lines 43-100): the page-table
 * pages the ranges can need at most (one pud entry per started GiB, one pmd entry per started
 * 2 MiB unless 1G pages cover it, one pte per 4 KiB unless large pages cover it, a page more per
 * range that crosses an L4 slot), then room for them below max_pfn_mapped.
 */
export function find_early_table_space(k: Kernel, ranges: MapRange[]): void {
  k.call('find_early_table_space', () => {
    const g = k.g;
    let puds = 0;
    let pmds = 0;
    let ptes = 0;
    let pgd_extra = 0;
    for (const r of ranges) {
      if (Math.floor(r.end / PGDIR_SIZE) - Math.floor(r.start / PGDIR_SIZE) !== 0) pgd_extra++;
      const range = r.end - r.start;
      puds += Math.ceil(range / PUD_SIZE);
      if ((r.page_size_mask & (1 << PG_LEVEL_1G)) !== 0) {
        const extra = range - Math.floor(range / PUD_SIZE) * PUD_SIZE;
        pmds += Math.ceil(extra / PMD_SIZE);
      } else {
        pmds += Math.ceil(range / PMD_SIZE);
      }
      if ((r.page_size_mask & (1 << PG_LEVEL_2M)) !== 0) {
        const extra = range - Math.floor(range / PMD_SIZE) * PMD_SIZE;
        ptes += Math.ceil(extra / PAGE_SIZE);
      } else {
        ptes += Math.ceil(range / PAGE_SIZE);
      }
    }
    let tables = roundUp(puds * 8, PAGE_SIZE);
    tables += roundUp(pmds * 8, PAGE_SIZE);
    tables += roundUp(ptes * 8, PAGE_SIZE);
    tables += pgd_extra * PAGE_SIZE;
    const start = 0;
    const good_end = g.max_pfn_mapped * PAGE_SIZE;
    const base = k.memblock.findInRange(start, good_end, tables, PAGE_SIZE);
    if (base === 0) panic(k, 'Cannot find space for the kernel page tables');
    g.pgt_buf_start = base / PAGE_SIZE;
    g.pgt_buf_end = g.pgt_buf_start;
    g.pgt_buf_top = g.pgt_buf_start + tables / PAGE_SIZE;
    const end = ranges[ranges.length - 1].end;
    k.printk(`kernel direct mapping tables up to 0x${(end - 1).toString(16)} @ [mem ${fmt010(base)}-${fmt010(g.pgt_buf_top * PAGE_SIZE - 1)}]`);
  });
}

// arch/x86/mm/init_64.c (v3.8): the next page of the pre-sized buffer
function alloc_low_page_3_8(k: Kernel, level: 1 | 2 | 3): number {
  return k.call('alloc_low_page', () => {
    const pfn = k.g.pgt_buf_end++;
    if (pfn >= k.g.pgt_buf_top) panic(k, 'alloc_low_page: ran out of memory');
    k.clear_page(k.__va(pfn * PAGE_SIZE));
    k.trace.emit({ type: 'pt-page-alloc', level, pfn, by: 'alloc_low_page' });
    return pfn;
  });
}

// arch/x86/mm/init.c (v3.8.13): init_memory_mapping, bottom-up, no CR3 load on 64-bit
export function init_memory_mapping_3_8(k: Kernel, start: number, end: number, pagetable_reserve: (start: number, end: number) => void): number {
  return k.call('init_memory_mapping', () => {
    k.printk(`init_memory_mapping: [mem ${fmt010(start)}-${fmt010(end - 1)}]`);
    const ranges = split_mem_range(start, end, k.g.page_size_mask);
    for (const r of ranges) k.printk(` [mem ${fmt010(r.start)}-${fmt010(r.end - 1)}] page ${pageSizeName(r.page_size_mask)}`);
    find_early_table_space(k, ranges);
    const ctx = mappingContext(k, alloc_low_page_3_8);
    let ret = 0;
    for (const r of ranges) ret = kernel_physical_mapping_init(k, ctx, r.start, r.end, r.page_size_mask);
    k.pv.flush_tlb_kernel.fn(); // __flush_tlb_all(); 64-bit: no load_cr3 here
    // x86_init.mapping.pagetable_reserve(PFN_PHYS(pgt_buf_start), PFN_PHYS(pgt_buf_end))
    if (k.g.pgt_buf_end > k.g.pgt_buf_start) pagetable_reserve(k.g.pgt_buf_start * PAGE_SIZE, k.g.pgt_buf_end * PAGE_SIZE);
    return ret / PAGE_SIZE;
  });
}
