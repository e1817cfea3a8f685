/**
 * Building the direct mapping: kernel_physical_mapping_init and the phys_*_init helpers
 * (arch/x86/mm/init_64.c, v3.9). Each child table is allocated, filled, and only then hooked into
 * its parent through the pv hooks (alloc_* then set_*), which is what lets Xen validate it.
 */
import type { Kernel } from '../kernel';
import { PG_LEVEL_1G, PG_LEVEL_2M } from '../kernel';
import { PAGE_SIZE, PMD_SIZE, PUD_SIZE, PGDIR_SIZE, pgd_index, pmd_index, pte_index, pud_index } from '../layout';
import { PAGE_KERNEL, PAGE_KERNEL_LARGE, _PAGE_PRESENT, _PAGE_PSE, _PAGE_TABLE, entryFrame, entryHi, entryLo, type PgProt } from '../pgtable';

/** Allocates one page-table page for level `level` (alloc_low_pages in 3.9, the pgt_buf in 3.8). */
export type PageTableAllocator = (k: Kernel, level: 1 | 2 | 3) => number;

export interface MappingContext {
  alloc: PageTableAllocator;
  /** the e820 RAM ranges: phys_*_init clear entries with no RAM behind them */
  isRam: (start: number, end: number) => boolean;
}

/** The kernel VA of the table an entry points to (pgd_page_vaddr and friends): __va(pfn << 12). */
function childTable(k: Kernel, lo: number, hi: number): number {
  return k.__va(k.pv.entry_frame_to_pfn.fn(entryFrame(lo, hi)) * PAGE_SIZE);
}

function writeTableEntry(k: Kernel, op: 'set_pgd' | 'set_pud' | 'set_pmd', ptr: number, pfn: number, flags: number): void {
  const frame = k.pv.pfn_to_entry_frame.fn(pfn);
  k.pv[op].fn(ptr, entryLo(frame, flags), entryHi(frame, 0));
}

// arch/x86/mm/init_64.c (v3.9); resumable between L4 slots (lib/linux/kernel.ts callResumable)
export function kernel_physical_mapping_init(k: Kernel, ctx: MappingContext, start: number, end: number, page_size_mask: number): number {
  const locals = { last_map_addr: end, addr: 0, next: 0, child: 0, fresh: 0, pudPfn: 0 };
  return k.callResumable('kernel_physical_mapping_init', locals, (l, pc) => {
    const pgdBase = k.ktextVa(k.image.init_level4_pgt); // pgd_offset_k: init_mm.pgd = swapper_pg_dir
    const endVa = k.__va(end);
    switch (pc) {
      case 0:
        l.addr = k.__va(start);
        return 1;
      case 1: {
        if (!(l.addr < endVa)) return 3;
        const pgd = pgdBase + pgd_index(l.addr) * 8;
        l.next = Math.floor(l.addr / PGDIR_SIZE) * PGDIR_SIZE + PGDIR_SIZE;
        if (l.next > endVa) l.next = endVa;
        const [lo, hi] = k.readEntry(pgd);
        if ((lo & _PAGE_PRESENT) !== 0) {
          l.child = childTable(k, lo, hi);
          l.fresh = 0;
        } else {
          l.pudPfn = ctx.alloc(k, 3);
          l.child = k.__va(l.pudPfn * PAGE_SIZE);
          l.fresh = 1;
        }
        return 2;
      }
      case 2:
        l.last_map_addr = phys_pud_init(k, ctx, l.child, k.__pa(l.addr), k.__pa(l.next), page_size_mask);
        if (l.fresh === 1) {
          // pgd_populate(&init_mm, pgd, pud): paravirt_alloc_pud, then set_pgd
          k.pv.alloc_pud.fn(l.pudPfn);
          writeTableEntry(k, 'set_pgd', pgdBase + pgd_index(l.addr) * 8, l.pudPfn, _PAGE_TABLE);
        }
        l.addr = l.next;
        return 1;
      default:
        k.pv.flush_tlb_kernel.fn(); // __flush_tlb_all()
        return -1;
    }
  }).last_map_addr;
}

// arch/x86/mm/init_64.c (v3.9); resumable between L3 entries (one GiB each)
export function phys_pud_init(k: Kernel, ctx: MappingContext, pudPage: number, addr: number, end: number, page_size_mask: number): number {
  const locals = { last_map_addr: end, i: pud_index(addr), addr, pmdPfn: 0, child: 0 };
  return k.callResumable('phys_pud_init', locals, (l, pc) => {
    const next = Math.floor(l.addr / PUD_SIZE) * PUD_SIZE + PUD_SIZE;
    const pud = pudPage + l.i * 8;
    const advance = (): number => { l.addr = next; l.i++; return 0; };
    switch (pc) {
      case 0: {
        if (l.i >= 512) return 3;
        if (l.addr >= end) {
          const base = Math.floor(l.addr / PUD_SIZE) * PUD_SIZE;
          if (!ctx.isRam(base, next)) k.pv.set_pud.fn(pud, 0, 0);
          return advance();
        }
        const [lo, hi] = k.readEntry(pud);
        if ((lo & _PAGE_PRESENT) !== 0) {
          if ((lo & _PAGE_PSE) === 0) {
            l.child = childTable(k, lo, hi);
            return 1;
          }
          if ((page_size_mask & (1 << PG_LEVEL_1G)) !== 0) { l.last_map_addr = next; return advance(); }
        }
        if ((page_size_mask & (1 << PG_LEVEL_1G)) !== 0) {
          const prot = PAGE_KERNEL_LARGE(k.g.supports_global);
          const frame = k.pv.pfn_to_entry_frame.fn(Math.floor(l.addr / PUD_SIZE) * (PUD_SIZE / PAGE_SIZE));
          k.pv.set_pte.fn(pud, entryLo(frame, prot.lo), entryHi(frame, prot.hi));
          l.last_map_addr = next;
          return advance();
        }
        l.pmdPfn = ctx.alloc(k, 2);
        return 2;
      }
      case 1:
        l.last_map_addr = phys_pmd_init(k, ctx, l.child, l.addr, end, page_size_mask);
        k.pv.flush_tlb_kernel.fn();
        return advance();
      case 2:
        l.last_map_addr = phys_pmd_init(k, ctx, k.__va(l.pmdPfn * PAGE_SIZE), l.addr, end, page_size_mask);
        // pud_populate(&init_mm, pud, pmd): paravirt_alloc_pmd, then set_pud
        k.pv.alloc_pmd.fn(l.pmdPfn);
        writeTableEntry(k, 'set_pud', pud, l.pmdPfn, _PAGE_TABLE);
        return advance();
      default:
        k.pv.flush_tlb_kernel.fn();
        return -1;
    }
  }).last_map_addr;
}

// arch/x86/mm/init_64.c (v3.9)
export function phys_pmd_init(k: Kernel, ctx: MappingContext, pmdPage: number, address: number, end: number, page_size_mask: number): number {
  return k.call('phys_pmd_init', () => {
    let last_map_addr = end;
    const prot = PAGE_KERNEL(k.g.supports_global);
    for (let i = pmd_index(address); i < 512; i++) {
      const pmd = pmdPage + i * 8;
      const next = Math.floor(address / PMD_SIZE) * PMD_SIZE + PMD_SIZE;
      if (address >= end) {
        const base = Math.floor(address / PMD_SIZE) * PMD_SIZE;
        if (!ctx.isRam(base, next)) k.pv.set_pmd.fn(pmd, 0, 0);
        address = next;
        continue;
      }
      const [lo, hi] = k.readEntry(pmd);
      if ((lo & _PAGE_PRESENT) !== 0) {
        if ((lo & _PAGE_PSE) === 0) {
          last_map_addr = phys_pte_init(k, ctx, childTable(k, lo, hi), address, end, prot);
          address = next;
          continue;
        }
        if ((page_size_mask & (1 << PG_LEVEL_2M)) !== 0) { last_map_addr = next; address = next; continue; }
      }
      if ((page_size_mask & (1 << PG_LEVEL_2M)) !== 0) {
        const large = PAGE_KERNEL_LARGE(k.g.supports_global);
        const frame = k.pv.pfn_to_entry_frame.fn(Math.floor(address / PMD_SIZE) * (PMD_SIZE / PAGE_SIZE));
        k.pv.set_pte.fn(pmd, entryLo(frame, large.lo), entryHi(frame, large.hi));
        k.trace.countPteWrite(2);
        last_map_addr = next;
        address = next;
        continue;
      }
      const ptePfn = ctx.alloc(k, 1);
      last_map_addr = phys_pte_init(k, ctx, k.__va(ptePfn * PAGE_SIZE), address, end, prot);
      // pmd_populate_kernel(&init_mm, pmd, pte): paravirt_alloc_pte, then set_pmd
      k.pv.alloc_pte.fn(ptePfn);
      writeTableEntry(k, 'set_pmd', pmd, ptePfn, _PAGE_TABLE);
      address = next;
    }
    return last_map_addr;
  });
}

// arch/x86/mm/init_64.c (v3.9)
export function phys_pte_init(k: Kernel, ctx: MappingContext, ptePage: number, addr: number, end: number, prot: PgProt): number {
  return k.call('phys_pte_init', () => {
    // set_pte is a plain store here (native_set_pte, xen_set_pte_init): when the page can be
    // stored to without a fault, fill it through its storage, as a TLB hit would let the CPU.
    const words = k.pv.set_pte.plainStore === true && k.cpu.pageWords !== undefined ? k.cpu.pageWords(ptePage, true) : null;
    return words === null ? pteLoopByAccess(k, ctx, ptePage, addr, end, prot) : pteLoopOnPage(k, ctx, words, addr, end, prot);
  });
}

/** The loop of phys_pte_init, one guest access per read and write. */
function pteLoopByAccess(k: Kernel, ctx: MappingContext, ptePage: number, addr: number, end: number, prot: PgProt): number {
  let last_map_addr = end;
  const cpu = k.cpu;
  const setPte = k.pv.set_pte.fn;
  const toFrame = k.pv.pfn_to_entry_frame.fn;
  for (let i = pte_index(addr); i < 512; i++) {
    const pte = ptePage + i * 8;
    const next = addr + PAGE_SIZE;
    if (addr >= end) {
      if (!ctx.isRam(addr, next)) setPte(pte, 0, 0);
      addr = next;
      continue;
    }
    // "We will re-use the existing mapping. Xen for example has some special requirements,
    //  like mapping pagetable pages as RO."
    if ((cpu.read32(pte) & _PAGE_PRESENT) !== 0) { addr = next; continue; }
    const frame = toFrame(addr / PAGE_SIZE);
    // Xen's pte_pfn_to_mfn: a pfn with no machine frame (INVALID_P2M_ENTRY) makes an empty pte
    if (frame < 0) setPte(pte, 0, 0);
    else setPte(pte, entryLo(frame, prot.lo), entryHi(frame, prot.hi));
    k.trace.countPteWrite(1);
    last_map_addr = next;
    addr = next;
  }
  return last_map_addr;
}

/** Frames of one page-table page's pfns (pteLoopOnPage's scratch: the loop never nests). */
const pageFrames = new Float64Array(512);

/** The same loop over the page's storage (set_pte being a plain store of the entry). */
function pteLoopOnPage(k: Kernel, ctx: MappingContext, words: Uint32Array, addr: number, end: number, prot: PgProt): number {
  let last_map_addr = end;
  const storeLow = k.pv.set_pte.storeLow;
  const first = pte_index(addr);
  // the frames of the pfns this page maps below `end`, looked up in one call (make_pte for each)
  const mapped = Math.max(0, Math.min(512 - first, Math.ceil((end - addr) / PAGE_SIZE)));
  const op = k.pv.pfn_to_entry_frame;
  const base = addr / PAGE_SIZE;
  if (op.range !== undefined) op.range(base, mapped, pageFrames);
  else for (let j = 0; j < mapped; j++) pageFrames[j] = op.fn(base + j);
  const protLo = prot.lo & 0xfff;
  const protHi = prot.hi;
  let written = 0;
  for (let i = first; i < 512; i++) {
    const next = addr + PAGE_SIZE;
    if (addr >= end) {
      if (!ctx.isRam(addr, next)) { words[i * 2] = 0; words[i * 2 + 1] = 0; }
      addr = next;
      continue;
    }
    if ((words[i * 2] & _PAGE_PRESENT) !== 0) { addr = next; continue; }
    const frame = pageFrames[i - first];
    // INVALID_P2M_ENTRY: an empty pte (pte_pfn_to_mfn); else entryLo / entryHi, in int32 arithmetic
    // while the frame is below 2^31 (always, up to 8 TiB)
    const lo = frame < 0 ? 0 : frame < 0x80000000 ? (((frame & 0xfffff) << 12) | protLo) >>> 0 : entryLo(frame, prot.lo);
    const hi = frame < 0 ? 0 : frame < 0x80000000 ? ((frame >>> 20) | protHi) >>> 0 : entryHi(frame, prot.hi);
    words[i * 2] = storeLow === undefined ? lo : storeLow(lo, hi);
    words[i * 2 + 1] = hi;
    written++;
    last_map_addr = next;
    addr = next;
  }
  k.trace.countPteWrites(1, written);
  return last_map_addr;
}
