/**
 * Writable page tables: a guest kernel's plain store into an L1 page table that it maps
 * read-only faults; if the domain enabled VMASST_TYPE_writable_pagetables, Xen emulates the
 * store: the new entry is checked exactly as mod_l1_entry / get_page_from_l1e check it, written,
 * and the old entry's references dropped. A sub-word store is merged into the full entry.
 * Only L1 tables are emulated; anything else (and any entry that fails the check) is left to
 * propagate_page_fault.
 * // xen/arch/x86/mm.c (ptwr_do_page_fault, ptwr_emulated_update) (Xen 4.2.0)
 */
import type { XenHost } from './host';
import { guest_get_eff_l1e, type L1Location } from './mm/linear';
import { get_page_from_pagenr, page_lock, put_page } from './mm/page-ref';
import { PADDR_HI_MASK, _PAGE_PRESENT, _PAGE_RW, adjustL1Value } from './mm/pte-flags';
import { get_page_from_l1e, put_page_from_l1e } from './mm/validate';
import { frameWordsForWrite } from './mm/tables';
import { PGT_l1_page_table, PGT_type_mask } from './page-info';
import type { Vcpu } from './domain';
import { MEM_LOG } from './mem-log';

/** The store being emulated: its value (two halves for 8 bytes, lo only for 4) and width. */
export interface PendingWrite {
  lo: number;
  hi: number;
  bytes: number;
}

const pte = { lo: 0, hi: 0 };
const loc: L1Location = { gl1mfn: 0, index: 0 };
const nl1e = { lo: 0, hi: 0 };

/** ptwr_do_page_fault: true when the store was emulated (EXCRET_fault_fixed). */
export function ptwr_do_page_fault(v: Vcpu, addr: number, write: PendingWrite): boolean {
  const host = v.domain.host;
  const d = v.domain.domid;
  // Attempt to read the PTE that maps the VA being accessed.
  guest_get_eff_l1e(host, v.cr3Mfn, addr, pte, loc);
  // We are looking only for read-only mappings of p.t. pages.
  if ((pte.lo & (_PAGE_PRESENT | _PAGE_RW)) !== _PAGE_PRESENT) return false;
  const mfn = (pte.hi & PADDR_HI_MASK) * 0x100000 + (pte.lo >>> 12);
  if (!get_page_from_pagenr(host, mfn, d)) return false;
  let ok = false;
  if (page_lock(host, mfn) && (host.frameTable.typeInfo[mfn] & PGT_type_mask) === PGT_l1_page_table) {
    ok = ptwr_emulated_update(host, d, mfn, addr, write);
  }
  put_page(host, mfn);
  return ok;
}

/** ptwr_emulated_update(addr, old, val, bytes, do_cmpxchg=0): false for X86EMUL_UNHANDLEABLE. */
function ptwr_emulated_update(host: XenHost, d: number, mfn: number, addr: number, write: PendingWrite): boolean {
  // Only naturally-aligned stores within the original %cr2 page (the model's store is at cr2).
  if (addr % write.bytes !== 0) return false;
  const words = frameWordsForWrite(host, mfn);
  const w = Math.floor((addr % 4096) / 8) * 2;
  if (write.bytes === 8) {
    nl1e.lo = write.lo >>> 0;
    nl1e.hi = write.hi >>> 0;
  } else {
    // Turn a sub-word access into a full-word access: the other half comes from the current entry.
    const upper = addr % 8 === 4;
    nl1e.lo = upper ? words[w] : write.lo >>> 0;
    nl1e.hi = upper ? write.lo >>> 0 : words[w + 1];
  }
  const rc = get_page_from_l1e(host, nl1e.lo, nl1e.hi, d, d);
  if (rc !== 0) {
    MEM_LOG(host, 'ptwr_could_not_get', 'ptwr_emulate: could not get_page_from_l1e()');
    return false;
  }
  adjustL1Value(nl1e);
  const olo = words[w];
  const ohi = words[w + 1];
  words[w] = nl1e.lo;
  words[w + 1] = nl1e.hi;
  put_page_from_l1e(host, olo, ohi);
  return true;
}
