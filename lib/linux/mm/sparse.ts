/**
 * paging_init and the vmemmap (arch/x86/mm/init_64.c, mm/sparse.c, mm/sparse-vmemmap.c, v3.9):
 * sparse_init gives every present memory section (128 MiB) its slice of the struct page array at
 * VMEMMAP_START, mapped with 2 MiB pages when the CPU has PSE, else 4 KiB pages (a Xen PV guest).
 * This is when the vmemmap's L4 slot (pgd_index(VMEMMAP_START)) first gets an entry.
 */
import type { Kernel } from '../kernel';
import { PAGE_SIZE, PMD_SIZE, pgd_index, pmd_index, pte_index, pud_index } from '../layout';
import { PAGE_KERNEL, PAGE_KERNEL_LARGE, _PAGE_PRESENT, _PAGE_TABLE, entryFrame, entryHi, entryLo } from '../pgtable';
import { pfn_to_page } from '../struct-page';
import { formatVirtualAddress as hexVa } from '../../x86/address';
import { panic } from './panic';

/** SECTION_SIZE_BITS 27 on x86-64: PAGES_PER_SECTION = 1 << (27 - PAGE_SHIFT) */
export const PAGES_PER_SECTION = 2 ** (27 - 12);
/** MAX_DMA_ADDRESS: the goal of early vmemmap allocations (16 MiB) */
const MAX_DMA_ADDRESS = 16 * 1024 * 1024;

// mm/sparse-vmemmap.c (v3.9): an early block from memblock, zeroed; returns its pfn
function vmemmap_alloc_block(k: Kernel, size: number, level: 0 | 1 | 2 | 3): number {
  return k.call('vmemmap_alloc_block', () => {
    const base = k.memblock.alloc(size, size, MAX_DMA_ADDRESS); // __earlyonly_bootmem_alloc
    if (base === 0) panic(k, `vmemmap_alloc_block: cannot allocate ${size} bytes`);
    if (level !== 0) k.trace.emit({ type: 'pt-page-alloc', level, pfn: base / PAGE_SIZE, by: 'vmemmap_alloc_block' });
    for (let off = 0; off < size; off += PAGE_SIZE) k.clear_page(k.__va(base + off));
    return base / PAGE_SIZE;
  });
}

/** Returns the VA of the table an entry points to, creating it (alloc hook, then set) if empty. */
function populate(k: Kernel, entry: number, level: 1 | 2 | 3, link: 'set_pgd' | 'set_pud' | 'set_pmd'): number {
  const [lo, hi] = k.readEntry(entry);
  if ((lo & _PAGE_PRESENT) !== 0) return k.__va(k.pv.entry_frame_to_pfn.fn(entryFrame(lo, hi)) * PAGE_SIZE);
  const pfn = vmemmap_alloc_block(k, PAGE_SIZE, level);
  if (level === 3) k.pv.alloc_pud.fn(pfn); else if (level === 2) k.pv.alloc_pmd.fn(pfn); else k.pv.alloc_pte.fn(pfn);
  const frame = k.pv.pfn_to_entry_frame.fn(pfn);
  k.pv[link].fn(entry, entryLo(frame, _PAGE_TABLE), entryHi(frame, 0)); // *_populate: __pa(table) | _PAGE_TABLE
  return k.__va(pfn * PAGE_SIZE);
}

// arch/x86/mm/init_64.c (v3.9): map [start, end) of the struct page array
export function vmemmap_populate(k: Kernel, start: number, end: number, cpuHasPse: boolean): void {
  k.call('vmemmap_populate', () => {
    const l4 = k.ktextVa(k.image.init_level4_pgt);
    // __supported_pte_mask does not change while the vmemmap is populated: the protections once
    const prot = PAGE_KERNEL(k.g.supports_global);
    const large = PAGE_KERNEL_LARGE(k.g.supports_global);
    let addr = start;
    while (addr < end) {
      const pud = populate(k, l4 + pgd_index(addr) * 8, 3, 'set_pgd');   // vmemmap_pgd_populate
      const pmd = populate(k, pud + pud_index(addr) * 8, 2, 'set_pud');  // vmemmap_pud_populate
      if (!cpuHasPse) {
        const pte = populate(k, pmd + pmd_index(addr) * 8, 1, 'set_pmd'); // vmemmap_pmd_populate
        const ptep = pte + pte_index(addr) * 8;                            // vmemmap_pte_populate
        if ((k.cpu.read32(ptep) & _PAGE_PRESENT) === 0) {
          const pfn = vmemmap_alloc_block(k, PAGE_SIZE, 0);
          const frame = k.pv.pfn_to_entry_frame.fn(pfn);
          k.pv.set_pte_at.fn(ptep, entryLo(frame, prot.lo), entryHi(frame, prot.hi));
        }
        addr = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE + PAGE_SIZE;
      } else {
        const pmdp = pmd + pmd_index(addr) * 8;
        if ((k.cpu.read32(pmdp) & _PAGE_PRESENT) === 0) {
          const pfn = vmemmap_alloc_block(k, PMD_SIZE, 0);
          const frame = k.pv.pfn_to_entry_frame.fn(pfn);
          k.pv.set_pmd.fn(pmdp, entryLo(frame, large.lo), entryHi(frame, large.hi));
          k.printk(` [${hexVa(addr)}-${hexVa(addr + PMD_SIZE - 1)}] PMD -> [${hexVa(k.__va(pfn * PAGE_SIZE))}-${hexVa(k.__va(pfn * PAGE_SIZE) + PMD_SIZE - 1)}] on node 0`);
        }
        addr = Math.floor(addr / PMD_SIZE) * PMD_SIZE + PMD_SIZE;
      }
    }
  });
}

// mm/sparse.c (v3.9): one vmemmap slice per present section; resumable between sections
// (lib/linux/kernel.ts callResumable): the sections are recomputed from memblock.memory, which
// nothing changes by now
export function sparse_init(k: Kernel, cpuHasPse: boolean): void {
  k.callResumable('sparse_init', { i: 0 }, (l) => {
    const sections = new Set<number>();
    for (const r of k.memblock.memory) {
      const first = Math.floor(r.base / PAGE_SIZE / PAGES_PER_SECTION);
      const last = Math.floor((r.end / PAGE_SIZE - 1) / PAGES_PER_SECTION);
      for (let pnum = first; pnum <= last; pnum++) sections.add(pnum);
    }
    const sorted = [...sections].sort((a, b) => a - b);
    if (l.i >= sorted.length) return -1;
    const pnum = sorted[l.i++];
    k.call('sparse_mem_map_populate', () => {
      const map = pfn_to_page(k.page, pnum * PAGES_PER_SECTION);
      vmemmap_populate(k, map, map + PAGES_PER_SECTION * k.page.size, cpuHasPse);
    });
    return 0;
  });
}

// arch/x86/mm/init_64.c (v3.9)
export function paging_init(k: Kernel, cpuHasPse: boolean): void {
  k.callResumable('paging_init', {}, () => {
    sparse_init(k, cpuHasPse);
    return -1;
  });
}
