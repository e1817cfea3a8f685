/**
 * Domain 0 as Xen builds it itself (construct_dom0), not as the toolstack builds a domU: on a host
 * made from the machine's e820 map, the kernel, its ramdisk (left where the boot loader's module
 * was relocated: the top of the highest RAM range) and the bootstrap region laid out from
 * virt_base, one contiguous allocation of 2^order frames for everything but the ramdisk, Xen's own
 * bootstrap page tables (L4, then per 2 MiB an L1, with L2 and L3 as needed, the tables mapped
 * read-only), the phys-to-machine list (a debug build hands the frames past the initial mapping out
 * in reverse), start_info with SIF_PRIVILEGED | SIF_INITDOMAIN, and the lines it prints (the
 * "PHYSICAL MEMORY ARRANGEMENT" and "VIRTUAL MEMORY ARRANGEMENT" block among them).
 * The ELF notes' and libelf's verbose lines (elf_parse_binary, elf_xen_parse_note, elf_load_binary)
 * are not modelled: the kernel image is given as its extent and entry.
 * Where 4.1.5-pre and 4.2.0 differ on this path: 4.2 refuses a kernel without XENFEAT_dom0 in its
 * notes ("Kernel does not support Dom0 operation") and checks elf_load_binary's result; neither
 * prints anything for the kernels modelled here.
 * // xen/arch/x86/domain_build.c (construct_dom0, compute_dom0_nr_pages, alloc_chunk) (Xen 4.1.5-pre at b39efd3dff)
 */
import { LabError, describeValue, expectInteger } from '../errors';
import { canonicalAddress } from '../x86';
import { Domain } from './domain';
import { E820_RAM, E820_UNUSABLE, print_e820_memory_map } from './e820';
import type { XenHost } from './host';
import { get_page } from './mm/page-ref';
import { get_page_type } from './mm/validate';
import { OWNER_NONE, PGT_l4_page_table, PGT_pinned, PGT_root_page_table, PGT_validated, PGT_writable_page } from './page-info';
import { FLAT_KERNEL_CS, FLAT_KERNEL_DS, FLAT_KERNEL_SS, MAX_GUEST_CMDLINE, SIZEOF_START_INFO, START_INFO_OFFSETS } from './public/xen';
import { _PAGE_GUEST_KERNEL_HI } from './mm/pte-flags';
import { PvVcpu } from './pv-vcpu';
import { set_evtchn_upcall_mask } from './registers-dump';

const PAGE = 4096;
/** BASE_PROT: present, RW, accessed, user (64-bit PV kernels run in ring 3) */
const BASE_PROT = 0x27;
/** L2_PROT, L3_PROT, L4_PROT: BASE_PROT | dirty */
const TABLE_PROT = 0x67;
/** sizeof(struct dom0_vga_console_info): video_type, then the union (vesa_lfb: 30 bytes, 4-aligned) at offset 4 */
export const SIZEOF_DOM0_VGA_CONSOLE_INFO = 36;
/** SIF_PRIVILEGED, SIF_INITDOMAIN (public/xen.h) */
const SIF_PRIVILEGED = 1;
const SIF_INITDOMAIN = 2;
/** MAX_VIRT_CPUS (public/arch-x86/xen.h: 128 on 4.1) */
const MAX_VIRT_CPUS = 128;
/** XEN_LEGACY_MAX_VCPUS: the vcpu_info slots in shared_info */
const XEN_LEGACY_MAX_VCPUS = 32;
const TWO_MB = 2 * 1024 * 1024;

/** The dom0 kernel as Xen's ELF loader sees it (addresses: bits 47:0 of the virtual ones). */
export interface Dom0KernelImage {
  /** VIRT_BASE (__START_KERNEL_map) */
  virtBase: number;
  /** the image's physical extent (elf.pstart, elf.pend): virt_kstart/kend are virtBase plus these */
  pstart: number;
  pend: number;
  /** virt_entry: startup_xen */
  entry: number;
  /** writes the image's static content of guest pfn `pfn` into `words` (1024 32-bit words, zeroed) */
  fill(pfn: number, words: Uint32Array): void;
}

export interface BuildDom0Options {
  kernel: Dom0KernelImage;
  /** nr_pages (default: compute_dom0_nr_pages) */
  nrPages?: number | null;
  /** machine address of the initial allocation (default: the highest suitably aligned free block) */
  allocStart?: number | null;
  /** the ramdisk's size in bytes (0: none) */
  initrdBytes?: number;
  /** opt_dom0_max_vcpus (default: the host's physical CPUs, at most MAX_VIRT_CPUS) */
  vcpus?: number | null;
  /** the physical CPU vCPU 0 runs on (default 0) */
  pcpu?: number;
  /** dom0's command line (start_info.cmd_line) */
  cmdline?: string;
}

/** The virtual layout construct_dom0 computes (bits 47:0 of each address) and what it decides. */
export interface Dom0Layout {
  v_start: number;
  vkern_start: number;
  vkern_end: number;
  vinitrd_start: number;
  vinitrd_end: number;
  vphysmap_start: number;
  vphysmap_end: number;
  vstartinfo_start: number;
  vstartinfo_end: number;
  vpt_start: number;
  vpt_end: number;
  nr_pt_pages: number;
  vstack_start: number;
  vstack_end: number;
  v_end: number;
  /** get_order_from_bytes(v_end - v_start less the ramdisk) */
  order: number;
}

export interface Dom0Build {
  domain: Domain;
  vcpu: PvVcpu;
  layout: Dom0Layout;
  nrPages: number;
  /** first frame of the initial allocation, and alloc_epfn (its end when printed) */
  allocSpfn: number;
  allocEpfn: number;
  /** the ramdisk's first machine frame (initrd->mod_start), or -1 */
  initrdMfn: number;
  /** start_info's virtual address (rsi), as a canonical bigint */
  startInfoVa: bigint;
  startInfo: { nr_pages: number; mfn_list: number; pt_base: number; nr_pt_frames: number; mod_start: number; mod_len: number; flags: number };
}

const roundPgUp = (x: number): number => Math.ceil(x / PAGE) * PAGE;

/** get_order_from_bytes: the least order with PAGE << order >= size. */
export function get_order_from_bytes(size: number): number {
  let order = 0;
  while (PAGE * 2 ** order < size) order++;
  return order;
}

/** NR(_l, _h, _s): the number of 2^s-aligned blocks [l, h) touches. */
function NR(l: number, h: number, s: number): number {
  const size = 2 ** s;
  return (Math.ceil(h / size) * size - Math.floor(l / size) * size) / size;
}

// xen/arch/x86/domain_build.c (Xen 4.1.5-pre): the layout's "simultaneous equations", 64-bit guest, no P2M note
export function dom0Layout(kernel: Pick<Dom0KernelImage, 'virtBase' | 'pstart' | 'pend'>, nrPages: number, initrdBytes: number): Dom0Layout {
  const v_start = kernel.virtBase;
  const vkern_start = kernel.virtBase + kernel.pstart;
  const vkern_end = kernel.virtBase + kernel.pend;
  const vinitrd_start = roundPgUp(vkern_end);
  const vinitrd_end = vinitrd_start + initrdBytes;
  const vphysmap_start = roundPgUp(vinitrd_end);
  const vphysmap_end = vphysmap_start + nrPages * 8;
  const vstartinfo_start = roundPgUp(vphysmap_end);
  const vstartinfo_end = vstartinfo_start + SIZEOF_START_INFO + SIZEOF_DOM0_VGA_CONSOLE_INFO;
  const vpt_start = roundPgUp(vstartinfo_end);
  let nr_pt_pages = 2;
  let vpt_end = 0; let vstack_start = 0; let vstack_end = 0; let v_end = 0;
  for (;; nr_pt_pages++) {
    vpt_end = vpt_start + nr_pt_pages * PAGE;
    vstack_start = vpt_end;
    vstack_end = vstack_start + PAGE;
    v_end = Math.ceil(vstack_end / (4 * 1024 * 1024)) * 4 * 1024 * 1024;
    if (v_end - vstack_end < 512 * 1024) v_end += 4 * 1024 * 1024; // at least 512 KiB of padding
    if (1 + NR(v_start, v_end, 39) + NR(v_start, v_end, 30) + NR(v_start, v_end, 21) <= nr_pt_pages) break;
  }
  let count = v_end - v_start;
  if (initrdBytes !== 0) count -= roundPgUp(initrdBytes); // vinitrd_start is never 0 here
  return {
    v_start, vkern_start, vkern_end, vinitrd_start, vinitrd_end,
    vphysmap_start, vphysmap_end, vstartinfo_start, vstartinfo_end, vpt_start, vpt_end, nr_pt_pages, vstack_start,
    vstack_end, v_end, order: get_order_from_bytes(count),
  };
}

/**
 * Where the boot loader's ramdisk module ends up (__start_xen relocates the modules top-down into
 * the highest RAM range, each 2 MiB-aligned chunk's end, before construct_dom0 runs): its first
 * machine frame, or -1 without a ramdisk.
 * // xen/arch/x86/setup.c (__start_xen, consider_modules) (Xen 4.1.5-pre)
 */
export function initrdPlacement(host: XenHost, initrdBytes: number): number {
  if (initrdBytes === 0) return -1;
  const size = roundPgUp(initrdBytes);
  const ram = (host.e820 ?? []).filter((e) => e.type === E820_RAM);
  for (let i = ram.length - 1; i >= 0; i--) {
    const s = Math.max(Math.ceil(ram[i].start / TWO_MB) * TWO_MB, 16 * 1024 * 1024); // BOOTSTRAP_MAP_BASE
    const e = Math.floor(ram[i].end / TWO_MB) * TWO_MB;
    if (s < e && e - s >= size) return (e - size) / PAGE;
  }
  throw new LabError('BAD_CONFIG', `dom0.initrdBytes ${describeValue(initrdBytes)}: no RAM range of host.e820 holds the ramdisk`);
}

/** Free RAM frames of the host (owner none). */
function freeFrames(host: XenHost): number {
  const ft = host.frameTable;
  let n = 0;
  for (let mfn = 0; mfn < host.maxPage; mfn++) if (ft.owner[mfn] === OWNER_NONE) n++;
  return n;
}

// xen/arch/x86/domain_build.c (Xen 4.1.5-pre): dom0's pages when no dom0_mem is given
export function compute_dom0_nr_pages(avail: number, kernel: Pick<Dom0KernelImage, 'virtBase' | 'pend'>, initrdBytes: number): { nrPages: number; clipped: boolean } {
  // no dom0_mem: keep 1/16th of the memory (at most 128 MiB) for DMA buffers and the like
  let nr = avail - Math.min(Math.floor(avail / 16), (128 * 1024 * 1024) / PAGE);
  // legacy kernels (no XEN_ELFNOTE_INIT_P2M) need virtual space after the initial allocation for
  // their page tables: keep the initial mapping under half the space left above virt_base
  const vend = roundPgUp(kernel.virtBase + kernel.pend) + roundPgUp(initrdBytes);
  const room = 2 ** 48 - kernel.virtBase; // bytes from virt_base to the end of the address space
  const used = vend - kernel.virtBase + nr * 8;
  if (2 * used >= room) {
    nr = Math.floor((2 ** 48 - vend) / 16);
    return { nrPages: nr, clipped: true };
  }
  return { nrPages: nr, clipped: false };
}

/** The e820 host's frames construct_dom0 denies dom0 (iomem_deny_access). */
function deniedFrames(host: XenHost): Set<number> {
  const denied = new Set<number>();
  denied.add(Math.floor(host.lapicAddress / PAGE)); // mp_lapic_addr
  for (const a of host.ioapicAddresses) denied.add(Math.floor(a / PAGE)); // mp_ioapics[i].mpc_apicaddr
  for (const e of host.e820 ?? []) {
    if (e.type !== E820_UNUSABLE) continue;
    const sfn = Math.max(Math.floor(e.start / PAGE), 0x100);
    const efn = Math.floor((e.end - 1) / PAGE);
    for (let f = sfn; f <= efn; f++) denied.add(f);
  }
  return denied;
}

const hex16 = (va48: number): string => canonicalAddress(va48).toString(16).padStart(16, '0');
const paddr = (pa: number): string => pa.toString(16).padStart(16, '0');

/** Builds domain 0 on an e820 host (see the file comment); refuses bad input before any change. */
export function construct_dom0(host: XenHost, options: BuildDom0Options): Dom0Build {
  // ---- checks first
  if (host.e820 === null) throw new LabError('BAD_CONFIG', 'construct_dom0 needs a host built from an e820 map (XenHost({ e820 }))');
  if (host.getDomain(0) !== undefined) throw new LabError('BAD_CONFIG', 'domain 0 already exists on this host');
  const k = options.kernel;
  if (typeof k !== 'object' || k === null || typeof k.fill !== 'function') {
    throw new LabError('WRONG_TYPE', `options.kernel must be { virtBase, pstart, pend, entry, fill }; got ${describeValue(k)}`);
  }
  const initrdBytes = options.initrdBytes === undefined ? 0 : expectInteger('dom0.initrdBytes', options.initrdBytes, 0, 2 ** 40);
  const pcpu = options.pcpu === undefined ? 0 : expectInteger('pcpu', options.pcpu, 0, host.pcpus - 1);
  const vcpus = options.vcpus === undefined || options.vcpus === null ? Math.min(host.pcpus, MAX_VIRT_CPUS) : expectInteger('dom0.vcpus', options.vcpus, 1, MAX_VIRT_CPUS);
  const cmdline = options.cmdline ?? '';
  const ft = host.frameTable;
  const initrdMfn = initrdPlacement(host, initrdBytes);
  const initrdPages = Math.ceil(initrdBytes / PAGE);
  const avail = freeFrames(host);
  let nrPages: number;
  let clipped = false;
  if (options.nrPages === undefined || options.nrPages === null) {
    ({ nrPages, clipped } = compute_dom0_nr_pages(avail, k, initrdBytes));
  } else {
    nrPages = expectInteger('dom0.pages', options.nrPages, 4096, 2 ** 36);
  }
  if (nrPages > avail) {
    throw new LabError('BAD_CONFIG',
      `dom0.pages 0x${nrPages.toString(16)} is beyond the map: host.e820 leaves 0x${avail.toString(16)} free RAM pages (Xen's own frames excluded)`);
  }
  const L = dom0Layout(k, nrPages, initrdBytes);
  if (L.v_end >= 2 ** 48) throw new LabError('BAD_CONFIG', 'dom0: the initial mapping runs past the end of the address space: give fewer pages or a smaller ramdisk');
  if (2 ** L.order + initrdPages > nrPages) {
    throw new LabError('BAD_CONFIG', `dom0.pages 0x${nrPages.toString(16)}: "Domain 0 allocation is too small for kernel image." (needs 2^${L.order} + the ramdisk's ${initrdPages} pages)`);
  }
  const blockPages = 2 ** L.order;
  const blockFree = (spfn: number): boolean => {
    if (spfn + blockPages > host.maxPage) return false;
    for (let f = spfn; f < spfn + blockPages; f++) {
      if (ft.owner[f] !== OWNER_NONE) return false;
      if (initrdMfn >= 0 && f >= initrdMfn && f < initrdMfn + initrdPages) return false;
    }
    return true;
  };
  let allocSpfn: number;
  if (options.allocStart !== undefined && options.allocStart !== null) {
    const a = options.allocStart;
    if (!Number.isInteger(a) || a % (blockPages * PAGE) !== 0) {
      throw new LabError('BAD_CONFIG', `dom0.allocStart 0x${Number(a).toString(16)} must be aligned to the allocation's size (2^${L.order} pages, ${blockPages * PAGE} bytes): alloc_domheap_pages hands out naturally aligned blocks`);
    }
    allocSpfn = a / PAGE;
    if (!blockFree(allocSpfn)) {
      throw new LabError('BAD_CONFIG', `dom0.allocStart 0x${a.toString(16)}: the ${blockPages} frames from there are not all free RAM (outside the map, Xen's own, or the ramdisk's)`);
    }
  } else {
    allocSpfn = -1;
    for (let s = Math.floor((host.maxPage - blockPages) / blockPages) * blockPages; s >= 0; s -= blockPages) {
      if (blockFree(s)) { allocSpfn = s; break; }
    }
    if (allocSpfn < 0) throw new LabError('BAD_CONFIG', '"Not enough RAM for domain 0 allocation."');
  }

  // ---- the build
  const con = host.console;
  con.printk('*** LOADING DOMAIN 0 ***\n');
  con.printk(' Xen  kernel: 64-bit, lsb, compat32\n');
  con.printk(` Dom0 kernel: 64-bit, PAE, lsb, paddr 0x${k.pstart.toString(16)} -> 0x${k.pend.toString(16)}\n`);
  if (clipped) con.printk(`Dom0 memory clipped to ${nrPages} pages\n`);

  const domid = 0;
  const domain = new Domain(host, domid);
  host.domains.set(domid, domain);
  domain.iomemDenied = deniedFrames(host);
  // alloc_domheap_pages(d, order, 0), then the ramdisk's frames assigned as they are
  ft.assignRange(allocSpfn, blockPages, domid); // PGC_allocated: one reference each
  let totPages = blockPages;
  const allocEpfn = allocSpfn + totPages;
  for (let f = 0; f < initrdPages; f++) ft.assign(initrdMfn + f, domid);
  totPages += initrdPages;
  const initrdPfn = initrdBytes !== 0 ? (L.vinitrd_start - L.v_start) / PAGE : -1;

  con.printk(`PHYSICAL MEMORY ARRANGEMENT:\n Dom0 alloc.:   ${paddr(allocSpfn * PAGE)}->${paddr(allocEpfn * PAGE)}`);
  if (totPages < nrPages) con.printk(` (${nrPages - totPages} pages to be allocated)`);
  if (initrdBytes !== 0) con.printk(`\n Init. ramdisk: ${paddr(initrdMfn * PAGE)}->${paddr(initrdMfn * PAGE + initrdBytes)}`);
  con.printk(`\nVIRTUAL MEMORY ARRANGEMENT:\n Loaded kernel: ${hex16(L.vkern_start)}->${hex16(L.vkern_end)}\n` +
    ` Init. ramdisk: ${hex16(L.vinitrd_start)}->${hex16(L.vinitrd_end)}\n` + // placed after the kernel even when empty
    ` Phys-Mach map: ${hex16(L.vphysmap_start)}->${hex16(L.vphysmap_end)}\n` +
    ` Start info:    ${hex16(L.vstartinfo_start)}->${hex16(L.vstartinfo_end)}\n` +
    ` Page tables:   ${hex16(L.vpt_start)}->${hex16(L.vpt_end)}\n` +
    ` Boot stack:    ${hex16(L.vstack_start)}->${hex16(L.vstack_end)}\n` +
    ` TOTAL:         ${hex16(L.v_start)}->${hex16(L.v_end)}\n`);
  con.printk(` ENTRY ADDRESS: ${hex16(k.entry)}\n`);

  // ---- pfn -> mfn for the initial region (the order construct_dom0 maps and lists them in)
  const p2m = new Float64Array(nrPages).fill(-1);
  const count = totPages;
  const REVERSE_START = (L.v_end - L.v_start) / PAGE; // debug builds only
  for (let pfn = 0; pfn < count; pfn++) {
    let mfn = pfn + allocSpfn;
    if (pfn >= initrdPfn && initrdPfn >= 0) {
      if (pfn < initrdPfn + initrdPages) mfn = initrdMfn + (pfn - initrdPfn);
      else mfn -= initrdPages;
    }
    // (vinitrd_start || pfn < initrd_pfn): vinitrd_start is never 0 for a kernel without XEN_ELFNOTE_MOD_START_PFN
    if (host.debug && pfn > REVERSE_START) mfn = allocEpfn - (pfn - REVERSE_START);
    p2m[pfn] = mfn;
  }
  domain.p2mFrames = p2m;

  // ---- the bootstrap page tables, in the frames after the start_info page
  const mapPages = (L.v_end - L.v_start) / PAGE;
  let mptPfn = (L.vpt_start - L.v_start) / PAGE; // the pfn of the next page-table page
  const mptMfn = (pfn: number): number => pfn + allocSpfn - (initrdBytes !== 0 ? initrdPages : 0);
  const words = (mfn: number): Uint32Array => host.memory.words(mfn);
  const setEntry = (tab: Uint32Array, index: number, mfn: number, lo: number, hi = 0): void => {
    tab[index * 2] = ((mfn % 0x100000) * PAGE + lo) >>> 0;
    tab[index * 2 + 1] = (Math.floor(mfn / 0x100000) | hi) >>> 0;
  };
  const l4mfn = mptMfn(mptPfn++);
  host.memory.clearFrame(l4mfn);
  const l4tab = words(l4mfn); // Xen's own slots are copied in when the table is validated (init_guest_l4_table)
  let l3tab: Uint32Array | null = null;
  let l2tab: Uint32Array | null = null;
  let l1tab: Uint32Array | null = null;
  let initrdNext = initrdMfn;
  let dataNext = allocSpfn;
  const vptFirst = (L.vpt_start - L.v_start) / PAGE;
  for (let c = 0; c < mapPages; c++) {
    const va = L.v_start + c * PAGE;
    if (l1tab === null || Math.floor(va / PAGE) % 512 === 0) {
      const l1mfn = mptMfn(mptPfn++);
      host.memory.clearFrame(l1mfn);
      l1tab = words(l1mfn);
      if (l2tab === null || Math.floor(va / 2 ** 21) % 512 === 0) {
        const l2mfn = mptMfn(mptPfn++);
        host.memory.clearFrame(l2mfn);
        l2tab = words(l2mfn);
        if (l3tab === null || Math.floor(va / 2 ** 30) % 512 === 0) {
          const l3mfn = mptMfn(mptPfn++);
          host.memory.clearFrame(l3mfn);
          l3tab = words(l3mfn);
          setEntry(l4tab, Math.floor(va / 2 ** 39) % 512, l3mfn, TABLE_PROT);
        }
        setEntry(l3tab, Math.floor(va / 2 ** 30) % 512, l2mfn, TABLE_PROT);
      }
      setEntry(l2tab, Math.floor(va / 2 ** 21) % 512, l1mfn, TABLE_PROT);
    }
    const mfn = c >= initrdPfn && initrdPfn >= 0 && c < initrdPfn + initrdPages ? initrdNext++ : dataNext++;
    // pages that are part of the page tables are mapped read-only
    const ro = c >= vptFirst && c < vptFirst + L.nr_pt_pages;
    setEntry(l1tab, Math.floor(va / PAGE) % 512, mfn, ro ? BASE_PROT & ~0x2 : BASE_PROT, _PAGE_GUEST_KERNEL_HI);
  }
  if (mptPfn - vptFirst > L.nr_pt_pages) throw new LabError('INVALID_STATE', 'construct_dom0: the page tables outgrew their region');

  con.printk(`Dom0 has maximum ${vcpus} VCPUs\n`);

  // ---- the kernel image (elf_load_binary), into the frames its pfns map to
  const kpfn0 = k.pstart / PAGE;
  for (let pfn = kpfn0; pfn < Math.ceil(k.pend / PAGE); pfn++) k.fill(pfn, words(p2m[pfn]));

  // ---- the rest of dom0's pages (alloc_chunk): free RAM, highest 2 MiB chunk first; a debug build
  // numbers them from the top pfn down
  const m2p = host.m2p;
  const setM2p = (mfn: number, pfn: number): void => m2p.set(mfn, pfn);
  for (let pfn = 0; pfn < count; pfn++) setM2p(p2m[pfn], pfn);
  let next = count;
  let chunkTop = Math.floor(host.maxPage / 512) * 512;
  while (next < nrPages) {
    if (chunkTop <= 0) throw new LabError('BAD_CONFIG', '"Not enough RAM for DOM0 reservation."');
    chunkTop -= 512;
    const frames: number[] = [];
    for (let f = chunkTop; f < chunkTop + 512 && next + frames.length < nrPages; f++) if (ft.owner[f] === OWNER_NONE) frames.push(f);
    if (frames.length === 0) continue;
    const whole = frames[0] === chunkTop && frames[frames.length - 1] === chunkTop + frames.length - 1;
    for (const f of frames) {
      const pfn = host.debug ? nrPages - 1 - (next - count) : next;
      ft.assign(f, domid);
      p2m[pfn] = f;
      if (!whole) setM2p(f, pfn);
      next++;
    }
    if (whole) {
      const firstPfn = host.debug ? nrPages - 1 - (next - frames.length - count) : next - frames.length;
      m2p.setExtent(firstPfn, chunkTop, frames.length, host.debug ? -1 : 1);
    }
  }
  domain.totPages = nrPages;

  // ---- the phys-to-machine list, 8 bytes a pfn, at vphysmap_start
  const physmapPfn = (L.vphysmap_start - L.v_start) / PAGE;
  for (let pfn = 0; pfn < nrPages; pfn += 512) {
    const w = words(p2m[physmapPfn + pfn / 512]);
    for (let j = 0; j < 512 && pfn + j < nrPages; j++) {
      const mfn = p2m[pfn + j];
      w[j * 2] = mfn % 0x100000000;
      w[j * 2 + 1] = Math.floor(mfn / 0x100000000);
    }
  }

  // ---- shared_info (Xen heap, shared writable), every legacy vcpu_info's upcall mask set
  domain.perdomainL3Mfn = host.allocXenheapPage();
  const shinfo = host.allocXenheapPage();
  domain.sharedInfoMfn = shinfo;
  ft.owner[shinfo] = domid;
  ft.typeInfo[shinfo] = PGT_writable_page | PGT_validated;
  ft.typeCount[shinfo] = 1;
  ft.refCount[shinfo] = 1;
  host.m2p.invalidate(shinfo);
  const sh = words(shinfo);
  for (let i = 0; i < XEN_LEGACY_MAX_VCPUS; i++) {
    const byte = i * 64 + 1;
    sh[byte >>> 2] |= 1 << ((byte & 3) * 8);
  }

  // ---- start_info
  const siPfn = (L.vstartinfo_start - L.v_start) / PAGE;
  const siWords = words(p2m[siPfn]);
  siWords.fill(0);
  const dv = new DataView(siWords.buffer, siWords.byteOffset, PAGE);
  const bytes = new Uint8Array(siWords.buffer, siWords.byteOffset, PAGE);
  const O = START_INFO_OFFSETS;
  const magic = 'xen-3.0-x86_64';
  for (let i = 0; i < magic.length; i++) bytes[O.magic + i] = magic.charCodeAt(i);
  const flags = SIF_PRIVILEGED | SIF_INITDOMAIN;
  dv.setBigUint64(O.nr_pages, BigInt(nrPages), true);
  dv.setBigUint64(O.shared_info, BigInt(shinfo) * 4096n, true);
  dv.setUint32(O.flags, flags, true);
  dv.setUint32(O.console_mfn, SIZEOF_START_INFO, true); // console.dom0.info_off
  dv.setUint32(O.console_mfn + 4, SIZEOF_DOM0_VGA_CONSOLE_INFO, true); // console.dom0.info_size
  dv.setBigUint64(O.pt_base, canonicalAddress(L.vpt_start), true);
  dv.setBigUint64(O.nr_pt_frames, BigInt(L.nr_pt_pages), true);
  dv.setBigUint64(O.mfn_list, canonicalAddress(L.vphysmap_start), true);
  if (initrdBytes !== 0) {
    dv.setBigUint64(O.mod_start, canonicalAddress(L.vinitrd_start), true);
    dv.setBigUint64(O.mod_len, BigInt(initrdBytes), true);
  }
  for (let i = 0; i < Math.min(cmdline.length, MAX_GUEST_CMDLINE - 1); i++) bytes[O.cmd_line + i] = cmdline.charCodeAt(i) & 0xff;
  dv.setBigUint64(O.first_p2m_pfn, BigInt(count), true);
  bytes[SIZEOF_START_INFO] = 0x03; // dom0_vga_console_info.video_type: XEN_VGATYPE_TEXT_MODE_3

  // ---- the tables are validated and the L4 pinned (what construct_dom0 sets by hand: each table
  // page typed and validated, the mapped pages writable, the top level pinned)
  const prev = host.currentDomid;
  host.currentDomid = domid;
  try {
    if (!get_page(host, l4mfn, domid) || !get_page_type(host, l4mfn, PGT_l4_page_table)) {
      throw new LabError('INVALID_STATE', 'construct_dom0: the bootstrap page tables failed validation');
    }
    ft.typeInfo[l4mfn] |= PGT_pinned;

    // ---- vCPU 0: registers as construct_dom0 leaves them, CR3 = the L4
    const vcpu = new PvVcpu(domain, 0, pcpu);
    domain.vcpus.push(vcpu);
    vcpu.vcpuInfoMfn = shinfo;
    vcpu.vcpuInfoOffset = 0;
    set_evtchn_upcall_mask(vcpu, 1);
    const r = vcpu.regs;
    r.ds = FLAT_KERNEL_DS; r.es = FLAT_KERNEL_DS; r.fs = FLAT_KERNEL_DS; r.gs = FLAT_KERNEL_DS;
    r.ss = FLAT_KERNEL_SS; r.cs = FLAT_KERNEL_CS;
    r.rip = canonicalAddress(k.entry);
    r.rsp = canonicalAddress(L.vstack_end);
    r.rsi = canonicalAddress(L.vstartinfo_start);
    r.rflags = (1n << 9n) | 2n; // X86_EFLAGS_IF (and the reserved bit 1)
    vcpu.kernelSp = r.rsp;
    vcpu.kernelMode = true;
    if (!get_page(host, l4mfn, domid) || !get_page_type(host, l4mfn, PGT_root_page_table)) {
      throw new LabError('INVALID_STATE', 'construct_dom0: cannot load CR3');
    }
    vcpu.guestTable = l4mfn;
    host.trace.emit({ type: 'cr3-load', value: (l4mfn * PAGE).toString(16).padStart(16, '0'), by: 'construct_dom0' });
    return {
      domain, vcpu, layout: L, nrPages, allocSpfn, allocEpfn, initrdMfn, startInfoVa: r.rsi,
      startInfo: {
        nr_pages: nrPages, mfn_list: L.vphysmap_start, pt_base: L.vpt_start, nr_pt_frames: L.nr_pt_pages,
        mod_start: initrdBytes !== 0 ? L.vinitrd_start : 0, mod_len: initrdBytes, flags,
      },
    };
  } finally {
    host.currentDomid = prev;
  }
}

/**
 * The lines __start_xen prints before construct_dom0 that follow from the model's inputs: the
 * synchronous-console note (console_init_preirq, when sync_console is on), the command line, and
 * the e820 map under "Xen-e820 RAM map:" (init_e820, for a map the boot loader gave as e820).
 * The hardware's own lines (ACPI tables, CPUs, timers) are not modelled.
 * // xen/drivers/char/console.c (console_init_preirq), xen/arch/x86/setup.c (__start_xen), xen/arch/x86/e820.c (init_e820) (Xen 4.1.5-pre)
 */
export function xen_boot_lines(host: XenHost): void {
  const con = host.console;
  if (host.bootOptions.sync_console) con.printk('Console output is synchronous.\n');
  con.printk(`Command line: ${host.bootOptions.cmdline}\n`);
  if (host.e820 !== null) {
    const memmap_type = 'Xen-e820'; // the boot loader gave an e820 map (not the BIOS's mem_lower/upper)
    con.printk(`${memmap_type} RAM map:\n`);
    for (const line of print_e820_memory_map(host.e820)) con.printk(`${line}\n`);
  }
}
