/**
 * The domain builder for a 64-bit PV guest, as Xen 4.2's libxc lays it out (xc_dom_build_image
 * and the x86_64 hooks): the kernel image at its virtual base (pfn = (vstart - virt_base) >> 12),
 * then the phys-to-machine list (mfn_list), start_info, the xenstore and console pages, the
 * bootstrap page tables (one L4, then L3s, L2s, L1s mapping virt_base up to a 4 MiB boundary with
 * at least 512 KiB of slop after the last bootstrap element; the tables themselves mapped
 * read-only), and the boot stack. The L4 is pinned (MMUEXT_PIN_L4_TABLE, validating the whole
 * tree), vCPU 0 gets the initial registers (cs e033, ss e02b, rsi = start_info, rsp = top of the
 * boot stack, rflags IF) and CR3. No trap table is registered.
 * Guest memory comes from the host in 2 MiB extents from the top of memory down, so mfn != pfn.
 * // tools/libxc/xc_dom_core.c, xc_dom_x86.c, xc_dom_boot.c; xen/arch/x86/domain.c (arch_set_info_guest) (Xen 4.2.0)
 */
import { LabError, describeValue, expectInteger } from '../errors';
import { checkVa48, parseVirtualAddress, canonicalAddress } from '../x86';
import { Domain } from './domain';
import { initialMappingEnd, maxPvDomainPages } from './initial-mapping';
import type { XenHost } from './host';
import { get_page, put_page } from './mm/page-ref';
import { get_page_type } from './mm/validate';
import { PGT_l4_page_table, PGT_pinned, PGT_root_page_table, PGT_validated, PGT_writable_page } from './page-info';
import {
  DOMID_FIRST_RESERVED, FLAT_KERNEL_CS, FLAT_KERNEL_DS, FLAT_KERNEL_SS, MAX_GUEST_CMDLINE, START_INFO_OFFSETS,
} from './public/xen';
import { PvVcpu } from './pv-vcpu';
import { set_evtchn_upcall_mask } from './registers-dump';

/** The kernel image the guest model provides. */
export interface KernelImage {
  /** virt_base: __START_KERNEL_map (a bigint or hex string, or a number holding bits 47:0) */
  virtBase: bigint | string | number;
  /** the guest pfn where the image starts (kernel_seg.pfn), e.g. 0x1000 for a kernel at 16 MiB */
  loadPfn: number;
  /** the image's size in pages */
  pages: number;
  /** writes the image's static content of guest page `pfn` into `words` (1024 32-bit words, zeroed) */
  fill(pfn: number, words: Uint32Array): void;
  /** the entry point (virt_entry): startup_xen (bigint, hex string, or bits 47:0 as a number) */
  entry: bigint | string | number;
}

export interface BuildPvDomainOptions {
  domid: number;
  /** the domain's memory (a multiple of 4 KiB) */
  memoryBytes: number | bigint;
  /** the physical CPU vCPU 0 runs on (default 0) */
  pcpu?: number;
  /** only 1 is modelled */
  vcpus?: number;
  kernel: KernelImage;
  /** the kernel command line copied into start_info.cmd_line */
  cmdline?: string;
}

/** struct start_info as the builder filled it (also written into the start_info page). */
export interface StartInfo {
  magic: string;
  nr_pages: number;
  /** the MACHINE address of the shared_info page */
  shared_info: bigint;
  flags: number;
  store_mfn: number;
  store_evtchn: number;
  console: { domU: { mfn: number; evtchn: number } };
  /** VIRTUAL address of the bootstrap L4 */
  pt_base: bigint;
  nr_pt_frames: number;
  /** VIRTUAL address of the P2M list (mfn_list[pfn] = mfn, 8 bytes each) */
  mfn_list: bigint;
  mod_start: bigint;
  mod_len: number;
  cmd_line: string;
  first_p2m_pfn: number;
  nr_p2m_frames: number;
}

/** A segment of the bootstrap region (xc_dom_seg). */
export interface BootSegment {
  vstart: bigint;
  vend: bigint;
  pfn: number;
  pages: number;
}

/** Where the builder put everything. */
export interface BootLayout {
  virtBase: bigint;
  totalPages: number;
  kernel: BootSegment;
  p2m: BootSegment;
  startInfoPfn: number;
  xenstorePfn: number;
  consolePfn: number;
  pgtables: BootSegment & { l4: number; l3: number; l2: number; l1: number };
  bootstackPfn: number;
  /** dom->virt_alloc_end and dom->virt_pgtab_end: the mapped region ends at the latter */
  virtAllocEnd: bigint;
  virtPgtabEnd: bigint;
  /** the start_info page's virtual address (rsi) */
  startInfoVa: bigint;
}

export interface PvDomainBuild {
  domain: Domain;
  /** vCPU 0, registers set as the builder leaves them */
  vcpu: PvVcpu;
  startInfo: StartInfo;
  /** the start_info page's virtual address (the initial rsi) */
  startInfoVa: bigint;
  layout: BootLayout;
}

const PAGE = 4096;
const L1_PROT = 0x23; // _PAGE_PRESENT|_PAGE_RW|_PAGE_ACCESSED
const L2_PROT = 0x67; // ... |_PAGE_DIRTY|_PAGE_USER
const XEN_GUEST_TYPE = 'xen-3.0-x86_64';
/** The event channels the toolstack allocates first (xc_evtchn_alloc_unbound): xenstore, console. */
const STORE_EVTCHN = 1;
const CONSOLE_EVTCHN = 2;

/** nr_page_tables(dom, start, end, bits) with addresses as 48-bit numbers. */
function nr_page_tables(start: number, end: number, bits: number): number {
  if (bits === 0) return 0;
  const size = 2 ** bits;
  const s = Math.floor(start / size) * size;
  const e = Math.floor(end / size) * size + (size - 1);
  return Math.floor((e - s) / size) + 1;
}

/** Builds a 64-bit PV domain on `host` (see the file comment). */
export function buildPvDomain(host: XenHost, options: BuildPvDomainOptions): PvDomainBuild {
  // ---- check everything before touching the host
  if (typeof options !== 'object' || options === null) {
    throw new LabError('WRONG_TYPE', `options must be an object { domid, memoryBytes, pcpu, kernel }; got ${describeValue(options)}`);
  }
  const domid = expectInteger('options.domid', options.domid, 1, DOMID_FIRST_RESERVED - 1);
  if (host.getDomain(domid) !== undefined) {
    throw new LabError('BAD_CONFIG', `options.domid ${domid} is already in use on this host`);
  }
  const bytes = typeof options.memoryBytes === 'bigint' ? Number(options.memoryBytes) : options.memoryBytes;
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes % PAGE !== 0 || bytes < 16 * 1024 * 1024 || bytes > 2 ** 46) {
    throw new LabError('BAD_CONFIG', `options.memoryBytes must be a multiple of 4096 from 16 MiB to 64 TiB; got ${describeValue(options.memoryBytes)}`);
  }
  const pcpu = options.pcpu === undefined ? 0 : expectInteger('options.pcpu', options.pcpu, 0, host.pcpus - 1);
  if (options.vcpus !== undefined && options.vcpus !== 1) {
    throw new LabError('BAD_CONFIG', `options.vcpus must be 1 (only one vCPU is modelled); got ${describeValue(options.vcpus)}`);
  }
  const k = options.kernel;
  if (typeof k !== 'object' || k === null || typeof k.fill !== 'function') {
    throw new LabError('WRONG_TYPE', `options.kernel must be { virtBase, loadPfn, pages, fill(pfn, words), entry }; got ${describeValue(k)}`);
  }
  const virtBase = addressOption('options.kernel.virtBase', k.virtBase);
  if (virtBase % (4 * 1024 * 1024) !== 0) {
    throw new LabError('BAD_CONFIG', `options.kernel.virtBase must be 4 MiB aligned; got ${canonicalAddress(virtBase).toString(16)}`);
  }
  const entry = addressOption('options.kernel.entry', k.entry);
  const totalPages = bytes / PAGE;
  const loadPfn = expectInteger('options.kernel.loadPfn', k.loadPfn, 0, totalPages - 1);
  const kernelPages = expectInteger('options.kernel.pages', k.pages, 1, totalPages - loadPfn);
  if (initialMappingEnd(virtBase, loadPfn, kernelPages, totalPages) > 2 ** 48) {
    const max = maxPvDomainPages(virtBase, loadPfn, kernelPages);
    throw new LabError('BAD_CONFIG',
      `options.memoryBytes: the p2m list of ${totalPages} pages (${(totalPages * 8) / 2 ** 20} MiB) does not fit the initial mapping after the kernel below the top of the address space (xc_dom_alloc_segment would wrap past 2^64); with this kernel at most ${max / 262144} GiB`);
  }
  const cmdline = options.cmdline ?? '';
  if (typeof cmdline !== 'string') throw new LabError('WRONG_TYPE', `options.cmdline must be a string; got ${describeValue(cmdline)}`);

  // ---- xc_dom_build_image: the virtual layout
  let virtAllocEnd = virtBase;
  const seg = (vstart: number, pages: number): BootSegment => {
    const s = { vstart: canonicalAddress(vstart), vend: canonicalAddress(vstart + pages * PAGE), pfn: (vstart - virtBase) / PAGE, pages };
    virtAllocEnd = vstart + pages * PAGE;
    return s;
  };
  const allocPage = (): number => { const pfn = (virtAllocEnd - virtBase) / PAGE; virtAllocEnd += PAGE; return pfn; };
  const kernelSeg = seg(virtBase + loadPfn * PAGE, kernelPages);
  const p2mSeg = seg(virtAllocEnd, Math.ceil((totalPages * 8) / PAGE)); // alloc_magic_pages: "phys2mach"
  const startInfoPfn = allocPage();
  const xenstorePfn = allocPage();
  const consolePfn = allocPage();
  // count_pgtables_x86_64: bits 48, 39, 30, 21
  const extraPages = 1 + 128; // the boot stack, and 512 KiB padding
  let pages = extraPages;
  let tryVirtEnd = 0;
  let pgL4 = 0; let pgL3 = 0; let pgL2 = 0; let pgL1 = 0;
  for (;;) {
    const fourMb = 4 * 1024 * 1024;
    tryVirtEnd = Math.floor((virtAllocEnd + pages * PAGE) / fourMb) * fourMb + (fourMb - 1);
    const tryPfnEnd = Math.floor((tryVirtEnd - virtBase) / PAGE);
    if (tryPfnEnd > totalPages || tryVirtEnd >= 2 ** 48) {
      throw new LabError('BAD_CONFIG',
        `count_pgtables: not enough memory for initial mapping (0x${tryPfnEnd.toString(16)} > 0x${totalPages.toString(16)}): give the domain more memory or a smaller image`);
    }
    pgL4 = nr_page_tables(virtBase, tryVirtEnd, 48);
    pgL3 = nr_page_tables(virtBase, tryVirtEnd, 39);
    pgL2 = nr_page_tables(virtBase, tryVirtEnd, 30);
    pgL1 = nr_page_tables(virtBase, tryVirtEnd, 21);
    pages = pgL4 + pgL3 + pgL2 + pgL1 + extraPages;
    if (virtAllocEnd + pages * PAGE <= tryVirtEnd + 1) break;
  }
  const virtPgtabEnd = tryVirtEnd + 1;
  const nrPt = pgL4 + pgL3 + pgL2 + pgL1;
  const ptSeg = seg(virtAllocEnd, nrPt);
  const bootstackPfn = allocPage();

  // ---- arch_setup_meminit: populate_physmap
  const domain = new Domain(host, domid);
  const extents = host.allocDomainFrames(totalPages);
  const ft = host.frameTable;
  for (const [pfn0, mfn0, count] of extents) {
    domain.p2mExtents.push({ pfn: pfn0, mfn: mfn0, count });
    ft.assignRange(mfn0, count, domid);
    host.m2p.setExtent(pfn0, mfn0, count);
  }
  domain.totPages = totalPages;
  host.domains.set(domid, domain);
  // Xen's per-domain pages: the per-domain L3 and shared_info (share_xen_page_with_guest, writable)
  domain.perdomainL3Mfn = host.allocXenheapPage();
  const shinfo = host.allocXenheapPage();
  domain.sharedInfoMfn = shinfo;
  ft.owner[shinfo] = domid;
  ft.typeInfo[shinfo] = PGT_writable_page | PGT_validated;
  ft.typeCount[shinfo] = 1;
  ft.refCount[shinfo] = 1;
  host.m2p.invalidate(shinfo);

  const mfnOf = (pfn: number): number => domain.pfnToMfn(pfn);
  const wordsOf = (pfn: number): Uint32Array => host.memory.words(mfnOf(pfn));

  // ---- the kernel image
  for (let i = 0; i < kernelPages; i++) k.fill(loadPfn + i, wordsOf(loadPfn + i));

  // ---- the p2m list: mfn_list[pfn] = mfn, written extent by extent, a page of the list at a time
  for (const e of domain.p2mExtents) {
    let page = p2mSeg.pfn + Math.floor((e.pfn * 8) / PAGE);
    let words = wordsOf(page);
    let w = ((e.pfn * 8) % PAGE) / 4;
    // An extent is 2 MiB aligned in machine memory, so its mfns share their high 32 bits.
    const hi = Math.floor(e.mfn / 0x100000000);
    let lo = e.mfn - hi * 0x100000000;
    for (let j = 0; j < e.count; j++, lo++, w += 2) {
      if (w === PAGE / 4) { words = wordsOf(++page); w = 0; } // the next page of the list
      words[w] = lo;
      words[w + 1] = hi;
    }
  }

  // ---- setup_pgtables_x86_64
  const l4pfn = ptSeg.pfn;
  let l3pfn = l4pfn + pgL4;
  let l2pfn = l3pfn + pgL3;
  let l1pfn = l2pfn + pgL2;
  const l4tab = wordsOf(l4pfn);
  let l3tab: Uint32Array | null = null;
  let l2tab: Uint32Array | null = null;
  let l1tab: Uint32Array | null = null;
  const ptStart = virtBase + ptSeg.pfn * PAGE;
  const ptEnd = ptStart + nrPt * PAGE;
  const setEntry = (tab: Uint32Array, index: number, mfn: number, prot: number): void => {
    tab[index * 2] = ((mfn % 0x100000) * PAGE + prot) >>> 0;
    tab[index * 2 + 1] = Math.floor(mfn / 0x100000);
  };
  for (let addr = virtBase; addr < virtPgtabEnd; addr += PAGE) {
    if (l3tab === null) {
      l3tab = wordsOf(l3pfn);
      setEntry(l4tab, Math.floor(addr / 2 ** 39) % 512, mfnOf(l3pfn), L2_PROT);
      l3pfn++;
    }
    if (l2tab === null) {
      l2tab = wordsOf(l2pfn);
      const l3off = Math.floor(addr / 2 ** 30) % 512;
      setEntry(l3tab, l3off, mfnOf(l2pfn), L2_PROT);
      if (l3off === 511) l3tab = null;
      l2pfn++;
    }
    if (l1tab === null) {
      l1tab = wordsOf(l1pfn);
      const l2off = Math.floor(addr / 2 ** 21) % 512;
      setEntry(l2tab, l2off, mfnOf(l1pfn), L2_PROT);
      if (l2off === 511) l2tab = null;
      l1pfn++;
    }
    const l1off = Math.floor(addr / PAGE) % 512;
    const pgpfn = (addr - virtBase) / PAGE;
    const ro = addr >= ptStart && addr < ptEnd; // page tables are r/o
    setEntry(l1tab, l1off, mfnOf(pgpfn), ro ? L1_PROT & ~0x2 : L1_PROT);
    if (l1off === 511) l1tab = null;
  }

  // ---- start_info_x86_64
  const si: StartInfo = {
    magic: XEN_GUEST_TYPE,
    nr_pages: totalPages,
    shared_info: BigInt(shinfo) * 4096n,
    flags: 0,
    store_mfn: mfnOf(xenstorePfn),
    store_evtchn: STORE_EVTCHN,
    console: { domU: { mfn: mfnOf(consolePfn), evtchn: CONSOLE_EVTCHN } },
    pt_base: ptSeg.vstart,
    nr_pt_frames: nrPt,
    mfn_list: p2mSeg.vstart,
    mod_start: 0n,
    mod_len: 0,
    cmd_line: cmdline.slice(0, MAX_GUEST_CMDLINE - 1),
    first_p2m_pfn: 0,
    nr_p2m_frames: 0,
  };
  writeStartInfo(wordsOf(startInfoPfn), si);

  // ---- shared_info_x86_64: every legacy vcpu_info's evtchn_upcall_mask = 1
  const sh = host.memory.words(shinfo);
  for (let i = 0; i < 32; i++) {
    const byte = i * 64 + 1;
    sh[byte >>> 2] |= 1 << ((byte & 3) * 8);
  }

  // ---- arch_setup_bootlate: pin_table(MMUEXT_PIN_L4_TABLE, mfn of the L4)
  const l4mfn = mfnOf(l4pfn);
  if (!get_page(host, l4mfn, domid)) throw new LabError('INVALID_STATE', 'builder: cannot reference the bootstrap L4');
  if (!get_page_type(host, l4mfn, PGT_l4_page_table)) {
    put_page(host, l4mfn);
    throw new LabError('INVALID_STATE', 'builder: the bootstrap page tables failed validation (pin_table)');
  }
  ft.typeInfo[l4mfn] |= PGT_pinned;

  // ---- vcpu_x86_64 + arch_set_info_guest
  const vcpu = new PvVcpu(domain, 0, pcpu);
  domain.vcpus.push(vcpu);
  vcpu.vcpuInfoMfn = shinfo;
  vcpu.vcpuInfoOffset = 0;
  set_evtchn_upcall_mask(vcpu, 1);
  const r = vcpu.regs;
  r.ds = FLAT_KERNEL_DS; r.es = FLAT_KERNEL_DS; r.fs = FLAT_KERNEL_DS; r.gs = FLAT_KERNEL_DS;
  r.ss = FLAT_KERNEL_SS; r.cs = FLAT_KERNEL_CS;
  r.rip = canonicalAddress(entry);
  r.rsp = canonicalAddress(virtBase + (bootstackPfn + 1) * PAGE);
  r.rsi = canonicalAddress(virtBase + startInfoPfn * PAGE);
  r.rflags = (1n << 9n) | 2n; // Interrupt Enable; arch_set_info_guest sets bit 1
  vcpu.kernelSp = r.rsp;
  vcpu.kernelMode = true; // VGCF_in_kernel
  if (!get_page(host, l4mfn, domid) || !get_page_type(host, l4mfn, PGT_root_page_table)) {
    throw new LabError('INVALID_STATE', 'builder: cannot load CR3');
  }
  vcpu.guestTable = l4mfn;
  host.trace.emit({ type: 'cr3-load', value: (l4mfn * PAGE).toString(16).padStart(16, '0'), by: 'arch_set_info_guest' });

  const layout: BootLayout = {
    virtBase: canonicalAddress(virtBase),
    totalPages,
    kernel: kernelSeg,
    p2m: p2mSeg,
    startInfoPfn, xenstorePfn, consolePfn,
    pgtables: { ...ptSeg, l4: pgL4, l3: pgL3, l2: pgL2, l1: pgL1 },
    bootstackPfn,
    virtAllocEnd: canonicalAddress(virtAllocEnd),
    virtPgtabEnd: canonicalAddress(virtPgtabEnd),
    startInfoVa: r.rsi,
  };
  return { domain, vcpu, startInfo: si, startInfoVa: r.rsi, layout };
}

/** An address option: bigint or hex string (canonical), or bits 47:0 as a number. */
function addressOption(name: string, value: unknown): number {
  if (typeof value === 'number') return checkVa48(name, value);
  return parseVirtualAddress(name, value);
}

/** Writes struct start_info (x86_64 layout) into a page. */
function writeStartInfo(words: Uint32Array, si: StartInfo): void {
  const bytes = new Uint8Array(words.buffer, words.byteOffset, 4096);
  const dv = new DataView(words.buffer, words.byteOffset, 4096);
  const str = (off: number, s: string, max: number): void => {
    for (let i = 0; i < Math.min(s.length, max - 1); i++) bytes[off + i] = s.charCodeAt(i) & 0xff;
  };
  const O = START_INFO_OFFSETS;
  str(O.magic, si.magic, 32);
  dv.setBigUint64(O.nr_pages, BigInt(si.nr_pages), true);
  dv.setBigUint64(O.shared_info, si.shared_info, true);
  dv.setUint32(O.flags, si.flags, true);
  dv.setBigUint64(O.store_mfn, BigInt(si.store_mfn), true);
  dv.setUint32(O.store_evtchn, si.store_evtchn, true);
  dv.setBigUint64(O.console_mfn, BigInt(si.console.domU.mfn), true);
  dv.setUint32(O.console_evtchn, si.console.domU.evtchn, true);
  dv.setBigUint64(O.pt_base, si.pt_base, true);
  dv.setBigUint64(O.nr_pt_frames, BigInt(si.nr_pt_frames), true);
  dv.setBigUint64(O.mfn_list, si.mfn_list, true);
  dv.setBigUint64(O.mod_start, si.mod_start, true);
  dv.setBigUint64(O.mod_len, BigInt(si.mod_len), true);
  str(O.cmd_line, si.cmd_line, MAX_GUEST_CMDLINE);
  dv.setBigUint64(O.first_p2m_pfn, BigInt(si.first_p2m_pfn), true);
  dv.setBigUint64(O.nr_p2m_frames, BigInt(si.nr_p2m_frames), true);
}
