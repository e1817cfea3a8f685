/**
 * xen_memory_setup (x86_init.resources.memory_setup under Xen): the guest's e820 as Linux 3.9
 * builds it from the map Xen hands out (the machine's for dom0), with what that costs: the pages
 * of the initial allocation that sit in the map's holes and non-RAM ranges are given back to Xen
 * ("Freeing %lx-%lx pfn range: %lu pages freed"), those pfns become 1-1 (identity) entries
 * ("1-1 mapping on %lx->%lx"), and as many pages are asked back for pfns above the allocation,
 * inside RAM ranges ("Populating %lx-%lx pfn range: %lu pages added"); RAM above that is extra
 * memory (a balloon's room), reserved in memblock.
 * The source asks Xen for one frame per hypercall; the model passes a chunk's frames in one call
 * (Xen stops at the first failure either way, so the frames given and taken are the same).
 * // arch/x86/xen/setup.c, arch/x86/xen/p2m.c (set_phys_range_identity) (Linux 3.9.6)
 */
import type { Kernel } from '../kernel';
import { E820_RAM, E820_RESERVED, E820_UNUSABLE, type E820Entry, type E820Map, sanitize_e820_map } from '../e820';
import { PAGE_SIZE } from '../layout';
import { panic } from '../mm/panic';
import {
  XENMEM_decrease_reservation, XENMEM_machine_memory_map, XENMEM_maximum_reservation, XENMEM_populate_physmap,
} from './hypercall';
import type { XenGuest } from './mmu';
import { INVALID_P2M_ENTRY } from './p2m';

/** CONFIG_XEN_MAX_DOMAIN_MEMORY (500 GiB on x86_64) in pages: MAX_DOMAIN_PAGES */
export const MAX_DOMAIN_PAGES = (500 * 2 ** 30) / PAGE_SIZE;
/** EXTRA_MEM_RATIO: extra memory at most 10 times the base */
export const EXTRA_MEM_RATIO = 10;
/** MAXMEM on x86_64: 1 << MAX_PHYSMEM_BITS (46) */
const MAXMEM = 2 ** 46;
const ISA_START_ADDRESS = 0xa0000;
const ISA_END_ADDRESS = 0x100000;
/** PAGE_KERNEL_IO (present, RW, accessed, dirty, _PAGE_IOMAP; NX in the high word) */
const PAGE_KERNEL_IO_LO = 0x1 | 0x2 | 0x20 | 0x40 | 0x400;
const PAGE_KERNEL_IO_HI = 0x80000000;

const PFN_DOWN = (x: number): number => Math.floor(x / PAGE_SIZE);
const PFN_UP = (x: number): number => Math.ceil(x / PAGE_SIZE);
const hx = (n: number): string => n.toString(16);

/** What xen_memory_setup decided (for tests and notebooks). */
export interface XenMemorySetup {
  released: number;
  identity: number;
  populated: number;
  /** the extra memory regions (xen_extra_mem): [start, size) in bytes */
  extra: { start: number; size: number }[];
}

// arch/x86/xen/setup.c (v3.9.6): give back or fill pfns [start, end); prints what it did
function xen_do_chunk(k: Kernel, x: XenGuest, start: number, end: number, release: boolean): number {
  return k.call('xen_do_chunk', () => {
    const pfns: number[] = [];
    const frames: number[] = [];
    for (let pfn = start; pfn < end; pfn++) {
      const mfn = x.p2m.pfn_to_mfn(pfn);
      if (release) {
        // make sure the pfn exists to start with
        if (mfn === INVALID_P2M_ENTRY || x.p2m.mfn_to_pfn(mfn) !== pfn) continue;
        frames.push(mfn);
      } else {
        if (mfn !== INVALID_P2M_ENTRY) continue;
        frames.push(pfn);
      }
      pfns.push(pfn);
    }
    let len = 0;
    if (frames.length > 0) {
      const out: number[] = [];
      const rc = x.hv.HYPERVISOR_memory_op(release ? XENMEM_decrease_reservation : XENMEM_populate_physmap, frames, out);
      len = typeof rc === 'number' ? rc : 0;
      // early_set_phys_to_machine for each frame done: contiguous runs of pfns
      let i = 0;
      while (i < len) {
        let j = i + 1;
        while (j < len && pfns[j] === pfns[j - 1] + 1) j++;
        if (release) x.p2m.setInvalid(pfns[i], pfns[j - 1] + 1);
        else x.p2m.setFrames(pfns[i], out.slice(i, j));
        i = j;
      }
    }
    if (len > 0) k.printk(`${release ? 'Freeing' : 'Populating'} ${hx(start)}-${hx(end)} pfn range: ${len} pages ${release ? 'freed' : 'added'}`);
    return len;
  });
}

// arch/x86/xen/p2m.c (v3.9.6): IDENTITY_FRAME(pfn) for [pfn_s, pfn_e); prints the range set
function set_phys_range_identity(k: Kernel, x: XenGuest, pfn_s: number, pfn_e: number): number {
  return k.call('set_phys_range_identity', () => {
    if (pfn_s > pfn_e) return 0;
    x.p2m.setIdentity(pfn_s, pfn_e);
    k.printk(`1-1 mapping on ${hx(pfn_s)}->${hx(pfn_e)}`);
    return pfn_e - pfn_s;
  });
}

// arch/x86/xen/setup.c (v3.9.6)
function xen_set_identity_and_release_chunk(k: Kernel, x: XenGuest, start_pfn: number, end_pfn: number, nr_pages: number,
  acc: { released: number; identity: number }): void {
  k.call('xen_set_identity_and_release_chunk', () => {
    // pfns already mapped get a 1:1 mapping of the machine frame first
    for (let pfn = start_pfn; pfn <= k.g.max_pfn_mapped && pfn < end_pfn; pfn++) {
      const va = BigInt(k.__va(pfn * PAGE_SIZE)) | 0xffff000000000000n;
      const val = (BigInt(PAGE_KERNEL_IO_HI) << 32n) | BigInt(pfn * PAGE_SIZE + PAGE_KERNEL_IO_LO);
      x.hv.HYPERVISOR_update_va_mapping(va, val, 0); // (void): the result is not checked
    }
    if (start_pfn < nr_pages) acc.released += xen_do_chunk(k, x, start_pfn, Math.min(end_pfn, nr_pages), true);
    acc.identity += set_phys_range_identity(k, x, start_pfn, end_pfn);
  });
}

// arch/x86/xen/setup.c (v3.9.6): non-RAM ranges and gaps, each run up to the next RAM range
function xen_set_identity_and_release(k: Kernel, x: XenGuest, list: readonly E820Entry[], nr_pages: number): { released: number; identity: number } {
  return k.call('xen_set_identity_and_release', () => {
    let start = 0;
    const acc = { released: 0, identity: 0 };
    list.forEach((entry, i) => {
      const end = entry.addr + entry.size;
      if (entry.type === E820_RAM || i === list.length - 1) {
        const start_pfn = PFN_DOWN(start);
        let end_pfn = PFN_UP(end);
        if (entry.type === E820_RAM) end_pfn = PFN_UP(entry.addr);
        if (start_pfn < end_pfn) xen_set_identity_and_release_chunk(k, x, start_pfn, end_pfn, nr_pages, acc);
        start = end;
      }
    });
    if (acc.released !== 0) k.printk(`Released ${acc.released} pages of unused memory`);
    if (acc.identity !== 0) k.printk(`Set ${acc.identity} page(s) to 1-1 mapping`);
    return acc;
  });
}

// arch/x86/xen/setup.c (v3.9.6): fill pfns above max_pfn inside RAM ranges, up to credits_left pages
function xen_populate_chunk(k: Kernel, x: XenGuest, list: readonly E820Entry[], max_pfn: number, last: { pfn: number }, credits: number): number {
  return k.call('xen_populate_chunk', () => {
    let done = 0;
    let credits_left = credits;
    for (const entry of list) {
      if (credits_left <= 0) break;
      if (entry.type !== E820_RAM) continue;
      const e_pfn = PFN_DOWN(entry.addr + entry.size);
      if (e_pfn <= max_pfn) continue; // only the E820 after xen_start_info->nr_pages
      const s_pfn = PFN_UP(entry.addr);
      let capacity: number; let dest_pfn: number;
      if (s_pfn <= max_pfn) { capacity = e_pfn - max_pfn; dest_pfn = max_pfn; } else { capacity = e_pfn - s_pfn; dest_pfn = s_pfn; }
      if (credits_left < capacity) capacity = credits_left;
      const pfns = xen_do_chunk(k, x, dest_pfn, dest_pfn + capacity, false);
      done += pfns;
      last.pfn = dest_pfn + pfns;
      if (pfns < capacity) break;
      credits_left -= pfns;
    }
    return done;
  });
}

// arch/x86/xen/setup.c (v3.9.6): RAM regions aligned to whole pages, then e820_add_region
function xen_align_and_add_e820_region(e820: E820Map, start: number, size: number, type: number): void {
  let end = start + size;
  if (type === E820_RAM) {
    start = Math.ceil(start / PAGE_SIZE) * PAGE_SIZE;
    end = Math.floor(end / PAGE_SIZE) * PAGE_SIZE;
  }
  e820.e820_add_region(start, end - start, type);
}

// arch/x86/xen/setup.c (v3.9.6): an extra memory region, reserved in memblock, its pfns invalid
function xen_add_extra_mem(k: Kernel, x: XenGuest, extra: { start: number; size: number }[], start: number, size: number): void {
  const last = extra[extra.length - 1];
  if (last !== undefined && last.start + last.size === start) last.size += size;
  else extra.push({ start, size });
  k.call('memblock_reserve', () => k.memblock.reserve(start, size));
  x.p2m.setInvalid(PFN_DOWN(start), PFN_DOWN(start + size));
}

/**
 * xen_memory_setup (arch/x86/xen/setup.c, v3.9.6): fills `e820` from Xen's map and returns "Xen"
 * (the name e820_print_map prints). `initial` is true for dom0 (XENMEM_machine_memory_map).
 */
export function xen_memory_setup(k: Kernel, x: XenGuest, e820: E820Map, initial: boolean, result?: XenMemorySetup): string {
  return k.call('xen_memory_setup', () => {
    const si = x.hv.start_info;
    let max_pfn = Math.min(MAX_DOMAIN_PAGES, si.nr_pages);
    let mem_end = max_pfn * PAGE_SIZE;
    let map: E820Entry[];
    const rc = initial ? x.hv.HYPERVISOR_memory_op(XENMEM_machine_memory_map) : -38; // -ENOSYS: no map for a domU in the model
    if (typeof rc === 'number') {
      if (initial) panic(k, `xen_memory_setup: XENMEM_machine_memory_map returned ${rc}`); // BUG_ON(xen_initial_domain())
      // 8 MiB of slack to balance backend allocations
      map = [{ addr: 0, size: mem_end + 8 * 2 ** 20, type: E820_RAM }];
    } else {
      map = rc.map((e) => ({ ...e }));
    }
    map = sanitize_e820_map(map) ?? map; // make sure the Xen-supplied map is well ordered
    let max_pages = MAX_DOMAIN_PAGES;
    if (initial) {
      const r = x.hv.HYPERVISOR_memory_op(XENMEM_maximum_reservation);
      if (typeof r === 'number' && r > 0) max_pages = r;
    }
    max_pages = Math.min(max_pages, MAX_DOMAIN_PAGES);
    let extra_pages = 0;
    if (max_pages > max_pfn) extra_pages += max_pages - max_pfn;
    // 1-1 for all non-RAM pages and gaps, releasing the RAM pages that would be made inaccessible
    const acc = xen_set_identity_and_release(k, x, map, max_pfn);
    let released = acc.released;
    const last = { pfn: 0 };
    const populated = xen_populate_chunk(k, x, map, max_pfn, last, released);
    released -= populated;
    extra_pages += released;
    if (last.pfn > max_pfn) {
      max_pfn = Math.min(MAX_DOMAIN_PAGES, last.pfn);
      mem_end = max_pfn * PAGE_SIZE;
    }
    extra_pages = Math.min(EXTRA_MEM_RATIO * Math.min(max_pfn, MAXMEM / PAGE_SIZE), extra_pages);
    const extra: { start: number; size: number }[] = [];
    let i = 0;
    while (i < map.length) {
      const addr = map[i].addr;
      let size = map[i].size;
      let type = map[i].type;
      if (type === E820_RAM) {
        if (addr < mem_end) {
          size = Math.min(size, mem_end - addr);
        } else if (extra_pages !== 0) {
          size = Math.min(size, extra_pages * PAGE_SIZE);
          extra_pages -= size / PAGE_SIZE;
          xen_add_extra_mem(k, x, extra, addr, size);
        } else {
          type = E820_UNUSABLE;
        }
      }
      xen_align_and_add_e820_region(e820, addr, size, type);
      map[i].addr += size;
      map[i].size -= size;
      if (map[i].size === 0) i++;
    }
    // the ISA region is reserved anyway: too many things poke about in there
    e820.e820_add_region(ISA_START_ADDRESS, ISA_END_ADDRESS - ISA_START_ADDRESS, E820_RESERVED);
    // Xen's bits: the p2m list, start_info and the rest up to the page tables
    k.call('memblock_reserve', () => k.memblock.reserve(k.__pa(si.mfn_list), si.pt_base - si.mfn_list));
    e820.sanitize();
    if (result !== undefined) {
      result.released = acc.released;
      result.populated = populated;
      result.identity = acc.identity;
      result.extra = extra;
    }
    return 'Xen';
  });
}
