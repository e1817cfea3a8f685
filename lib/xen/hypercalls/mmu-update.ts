/**
 * do_mmu_update: a batch of (ptr, val) requests; ptr[2:0] selects MMU_NORMAL_PT_UPDATE,
 * MMU_MACHPHYS_UPDATE or MMU_PT_UPDATE_PRESERVE_AD. The batch stops at the first failing request
 * (earlier ones stay applied); *pdone gets the number completed; the return value is that
 * request's code. Requests are parsed to numbers by the caller (dispatch.ts).
 * // xen/arch/x86/mm.c (Xen 4.2.0)
 */
import { get_page, get_page_from_pagenr, page_lock, put_page } from '../mm/page-ref';
import { get_page_type, put_page_type } from '../mm/validate';
import { mod_l1_entry, mod_upper_entry } from '../mm/mod-entry';
import { frameWordsForWrite } from '../mm/tables';
import {
  PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table, PGT_type_mask, PGT_writable_page,
} from '../page-info';
import { EINVAL, ENOSYS, ESRCH } from '../public/errno';
import { MMU_MACHPHYS_UPDATE, MMU_NORMAL_PT_UPDATE, MMU_PT_UPDATE_PRESERVE_AD } from '../public/xen';
import type { Vcpu } from '../domain';
import { MEM_LOG } from '../mem-log';
import { get_pg_owner } from './pg-owner';

/** One request, as numbers: ptr split into its frame, byte offset and command; val into halves. */
export interface MmuRequest {
  /** ptr >> 12 (the machine frame) */
  mfn: number;
  /** ptr & 0xfff with the command bits cleared (the entry's byte offset) */
  offset: number;
  /** ptr & 7 */
  cmd: number;
  valLo: number;
  valHi: number;
  /** val as a bigint (for MMU_MACHPHYS_UPDATE, whose val is any unsigned long) */
  val: bigint;
}

export function do_mmu_update(v: Vcpu, reqs: readonly MmuRequest[], count: number, pdone: { value: number } | null, foreigndom: number): number {
  const host = v.domain.host;
  const d = v.domain.domid;
  let rc = 0;
  let i = 0;
  const ptDom = Math.floor(foreigndom / 65536);
  if (ptDom !== 0) {
    // Page tables of a foreign domain: needs privilege over it (a domU has none).
    rc = host.getDomain(ptDom - 1) === undefined ? -EINVAL : -ESRCH;
  } else {
    const pgOwner = get_pg_owner(v, foreigndom & 0xffff);
    if (pgOwner < 0) {
      rc = -ESRCH;
    } else {
      for (i = 0; i < count; i++) {
        rc = one_request(v, reqs[i], d, pgOwner);
        if (rc !== 0) break;
      }
    }
  }
  if (pdone !== null) pdone.value += i;
  return rc;
}

function one_request(v: Vcpu, req: MmuRequest, d: number, pgOwner: number): number {
  const host = v.domain.host;
  switch (req.cmd) {
    case MMU_NORMAL_PT_UPDATE:
    case MMU_PT_UPDATE_PRESERVE_AD: {
      const mfn = req.mfn;
      // get_page_from_gfn(pt_owner, gmfn): a reference on a frame the domain owns
      if (!(mfn < host.frameTable.maxPage && get_page(host, mfn, d))) {
        MEM_LOG(host, 'normal_update_no_page', 'Could not get page for normal update');
        return -EINVAL;
      }
      const preserveAd = req.cmd === MMU_PT_UPDATE_PRESERVE_AD;
      const index = req.offset >>> 3;
      let rc = -EINVAL;
      if (page_lock(host, mfn)) {
        switch (host.frameTable.typeInfo[mfn] & PGT_type_mask) {
          case PGT_l1_page_table:
            rc = mod_l1_entry(host, mfn, index, req.valLo, req.valHi, preserveAd, d, pgOwner);
            if (rc !== 0 && host.releaseFacts.l1l2UpdateErrorsEinval) rc = -EINVAL; // 4.1: okay = mod_l1_entry(...)
            break;
          case PGT_l2_page_table:
            rc = mod_upper_entry(host, 2, mfn, index, req.valLo, req.valHi, preserveAd, d);
            if (rc !== 0 && host.releaseFacts.l1l2UpdateErrorsEinval) rc = -EINVAL; // 4.1: okay = mod_l2_entry(...)
            break;
          case PGT_l3_page_table:
            rc = mod_upper_entry(host, 3, mfn, index, req.valLo, req.valHi, preserveAd, d);
            break;
          case PGT_l4_page_table:
            rc = mod_upper_entry(host, 4, mfn, index, req.valLo, req.valHi, preserveAd, d);
            break;
          case PGT_writable_page:
            write_guest_entry(v, mfn, index, req);
            rc = 0;
            break;
          default:
            break; // e.g. a PGT_seg_desc_page: rc stays -EINVAL
        }
      } else if (get_page_type(host, mfn, PGT_writable_page)) {
        write_guest_entry(v, mfn, index, req);
        rc = 0;
        put_page_type(host, mfn);
      }
      put_page(host, mfn);
      return rc;
    }
    case MMU_MACHPHYS_UPDATE: {
      const mfn = req.mfn;
      if (!get_page_from_pagenr(host, mfn, pgOwner)) {
        MEM_LOG(host, 'machphys_no_page', 'Could not get page for mach->phys update');
        return -EINVAL;
      }
      host.m2p.setEntry(mfn, req.val);
      put_page(host, mfn);
      return 0;
    }
    default:
      MEM_LOG(host, 'mmu_update_invalid_cmd', `Invalid page update command ${req.cmd.toString(16)}`);
      return -ENOSYS;
  }
}

/** paging_write_guest_entry: a plain 8-byte store into a frame typed writable. */
function write_guest_entry(v: Vcpu, mfn: number, index: number, req: MmuRequest): void {
  const words = frameWordsForWrite(v.domain.host, mfn);
  words[index * 2] = req.valLo;
  words[index * 2 + 1] = req.valHi;
}
