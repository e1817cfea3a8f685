/**
 * Whether a 64-bit PV domain's initial mapping fits: libxc's builder (Xen 4.2) lays the kernel out
 * at virt_base (__START_KERNEL_map for Linux) and puts the phys-to-machine list right after it,
 * 8 bytes a guest page, then start_info, the xenstore and console pages, the bootstrap page tables
 * and the boot stack, all in the mapping that starts at virt_base. With the kernel in the top
 * 2 GiB of the address space, the p2m list of a domain near 1 TiB reaches past 2^64:
 * xc_dom_alloc_segment computes vend = vstart + size in 64 bits and wraps, and the build goes
 * wrong. The model refuses such a domain up front instead. (Smaller ones can still fail: once the
 * mapping crosses 0xffffffffc0000000, past about 494 GiB with Linux's image, libxc 4.2's
 * setup_pgtables_x86_64 hooks its second L2 over the first, and the guest crashes on boot; the
 * builder model runs that loop as libxc does.)
 * // tools/libxc/xc_dom_core.c (xc_dom_alloc_segment), xc_dom_x86.c (alloc_magic_pages, count_pgtables) (Xen 4.2.0)
 */

const PAGE = 4096;
/** start_info, xenstore, console (alloc_magic_pages) */
const MAGIC_PAGES = 3;
/** boot stack 1 + 512 KiB padding (count_pgtables' extra pages) */
const EXTRA_PAGES = 1 + 128;
/** 4 MiB: count_pgtables rounds the mapping's end up to this */
const FOUR_MB = 4 * 1024 * 1024;

/**
 * The end (bits 47:0, exclusive, possibly past 2^48) of the builder's initial mapping for a
 * domain of `totalPages` with the kernel at `virtBase` + `loadPfn` pages, `kernelPages` long:
 * kernel, p2m list, magic pages, then the page tables counted for the whole mapping (one L1 per
 * 2 MiB, one L2 per GiB, one L3 per 512 GiB, one L4) and the extra pages, rounded up to 4 MiB.
 */
export function initialMappingEnd(virtBase: number, loadPfn: number, kernelPages: number, totalPages: number): number {
  const p2mPages = Math.ceil((totalPages * 8) / PAGE);
  const before = virtBase + (loadPfn + kernelPages + p2mPages + MAGIC_PAGES) * PAGE;
  // count_pgtables converges on tables for [virt_base, end); a bound: tables for twice the span
  const span = before - virtBase + EXTRA_PAGES * PAGE + FOUR_MB;
  const tables = 1 + Math.ceil(span / 2 ** 39) + Math.ceil(span / 2 ** 30) + Math.ceil(span / 2 ** 21) + 3;
  return Math.ceil((before + (tables + EXTRA_PAGES) * PAGE) / FOUR_MB) * FOUR_MB;
}

/**
 * The most guest pages (a multiple of 512: 2 MiB) whose initial mapping ends at or below `limit`
 * (bits 47:0 of an address; default 2^48, i.e. it does not wrap past 2^64).
 */
export function maxPvDomainPages(virtBase: number, loadPfn: number, kernelPages: number, limit = 2 ** 48): number {
  let lo = 0;
  let hi = 2 ** 36;
  while (hi - lo > 512) {
    const mid = Math.floor((lo + hi) / 2 / 512) * 512;
    if (initialMappingEnd(virtBase, loadPfn, kernelPages, mid) <= limit) lo = mid; else hi = mid;
  }
  return lo;
}
