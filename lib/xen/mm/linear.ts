/**
 * Xen's reads of the guest's page tables through the linear map (slot 258 maps the current L4
 * onto itself): guest_map_l1e finds the L1 that maps a virtual address for update_va_mapping,
 * guest_get_eff_l1e reads the L1 entry itself for the writable-page-table fault path. Both walk
 * the table in CR3 (the vCPU's guest_table in kernel mode) as Xen, in ring 0, would: only
 * presence matters on the way down.
 * // xen/include/asm-x86/paging.h (guest_map_l1e, guest_get_eff_l1e) (Xen 4.2.0)
 */
import type { XenHost } from '../host';
import { PADDR_HI_MASK, _PAGE_PRESENT, _PAGE_PSE } from './pte-flags';

/** Where an L1 entry lives: its table's frame and index. */
export interface L1Location {
  gl1mfn: number;
  index: number;
}

function readEntry(host: XenHost, mfn: number, index: number, out: { lo: number; hi: number }): void {
  const words = host.memory.storage(mfn);
  if (words === undefined) { out.lo = 0; out.hi = 0; return; }
  out.lo = words[index * 2];
  out.hi = words[index * 2 + 1];
}

const e = { lo: 0, hi: 0 };

/**
 * guest_map_l1e(v, addr, &gl1mfn): the L1 frame and index for `va48` under the L4 `l4mfn`, or
 * null when the L4 or L3 entry is not present (the linear read faults) or the L2 entry is not
 * present or is a superpage.
 */
export function guest_map_l1e(host: XenHost, l4mfn: number, va48: number, out: L1Location): boolean {
  if (l4mfn === 0) return false;
  const i4 = Math.floor(va48 / 2 ** 39) % 512;
  const i3 = Math.floor(va48 / 2 ** 30) % 512;
  const i2 = Math.floor(va48 / 2 ** 21) % 512;
  readEntry(host, l4mfn, i4, e);
  if ((e.lo & _PAGE_PRESENT) === 0) return false;
  readEntry(host, (e.hi & PADDR_HI_MASK) * 0x100000 + (e.lo >>> 12), i3, e);
  if ((e.lo & _PAGE_PRESENT) === 0 || (e.lo & _PAGE_PSE) !== 0) return false;
  readEntry(host, (e.hi & PADDR_HI_MASK) * 0x100000 + (e.lo >>> 12), i2, e);
  if ((e.lo & (_PAGE_PRESENT | _PAGE_PSE)) !== _PAGE_PRESENT) return false;
  out.gl1mfn = (e.hi & PADDR_HI_MASK) * 0x100000 + (e.lo >>> 12);
  out.index = Math.floor(va48 / 4096) % 512;
  return true;
}

/**
 * guest_get_eff_l1e(v, addr, &l1e): the L1 entry mapping `va48` (lo, hi into `out`), empty when
 * an upper level is not present; `loc` receives where it lives.
 */
export function guest_get_eff_l1e(host: XenHost, l4mfn: number, va48: number, out: { lo: number; hi: number }, loc: L1Location): void {
  if (!guest_map_l1e(host, l4mfn, va48, loc)) { out.lo = 0; out.hi = 0; return; }
  readEntry(host, loc.gl1mfn, loc.index, out);
}
