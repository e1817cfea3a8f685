/**
 * One entry update in a validated page table: mod_l1_entry .. mod_l4_entry. The new entry is
 * checked like a validating one (get_page_from_l*e), the old entry's references are dropped,
 * and Xen's own L4 slots can never be written. UPDATE_ENTRY with preserve_ad ORs the old
 * accessed/dirty bits into the new value (MMU_PT_UPDATE_PRESERVE_AD). The fast paths (no
 * revalidation when the frame is unchanged) are 4.2.0's: L1 compares the frame, RW and presence;
 * L2..L4 only the frame and presence. The host's patches change them: XSA-148 (fe360c90ea) makes
 * the L2 fast path compare PSE and RW when superpages are allowed, XSA-182 (e1bff4c2ea) lets only
 * whitelisted flags change at every level. mod_l3/l4_entry validate preemptibly (do_mmu_update
 * passes 1), mod_l2_entry through get_page_from_l2e, which is not: either way a failure below
 * an L2 comes back as -EINVAL.
 * // xen/arch/x86/mm.c (Xen 4.2.0)
 */
import type { XenHost } from '../host';
import { EINVAL } from '../public/errno';
import { MEM_LOG, x16 } from '../mem-log';
import { getPteFlags } from './pte-flags';

/** DIRECTMAP_VIRT_START (asm-x86/config.h): Xen's 1:1 map of machine memory, slot 262 */
const DIRECTMAP_VIRT_START_64 = 0xffff830000000000n;
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, PADDR_HI_MASK, adjustL1Value, adjustUpperValue } from './pte-flags';
import { get_page_from_entry, get_page_from_l1e, put_page_from_entry, put_page_from_l1e } from './validate';
import { frameWordsForWrite, is_guest_l4_slot, masksOf } from './tables';

/**
 * XSA-182's FASTPATH_FLAG_WHITELIST (NX, AVAIL_HIGH, AVAIL, GLOBAL, DIRTY, ACCESSED, USER): the
 * low-word bits that must NOT change for the fast path: the frame plus PRESENT, RW, PWT, PCD, PSE.
 * (All flags in the high word are whitelisted.)
 */
const FASTPATH_COMPARE_LO = (0xfffff000 | (0xfff & ~(0xe00 | 0x100 | _PAGE_DIRTY | _PAGE_ACCESSED | 0x4))) >>> 0;

/** A scratch entry (lo, hi) reused by the update paths. */
const ne = { lo: 0, hi: 0 };

/** UPDATE_ENTRY / update_intpte: writes the entry, OR-ing in old A/D bits when preserve_ad. */
function update_entry(words: Uint32Array, w: number, lo: number, hi: number, preserveAd: boolean): void {
  if (preserveAd) lo |= words[w] & (_PAGE_ACCESSED | _PAGE_DIRTY);
  words[w] = lo >>> 0;
  words[w + 1] = hi >>> 0;
}

/**
 * mod_l1_entry(pl1e, nl1e, gl1mfn, preserve_ad, pt_vcpu, pg_dom): `mfn`/`index` locate the entry.
 * Returns 0 or get_page_from_l1e's error (-EINVAL, -EPERM, -EBUSY).
 */
export function mod_l1_entry(
  host: XenHost, mfn: number, index: number, lo: number, hi: number, preserveAd: boolean, ptDom: number, pgDom: number,
): number {
  const words = frameWordsForWrite(host, mfn);
  const w = index * 2;
  const olo = words[w];
  const ohi = words[w + 1];
  if ((lo & _PAGE_PRESENT) !== 0) {
    const m = masksOf(host).l1;
    if ((lo & m.lo) !== 0 || (hi & m.hi) !== 0) {
      MEM_LOG(host, 'mod_l1_bad_flags', `Bad L1 flags ${getPteFlags(lo & m.lo, hi & m.hi).toString(16)}`);
      return -EINVAL;
    }
    ne.lo = lo >>> 0; ne.hi = hi >>> 0;
    // Fast path: same frame, same RW and presence (l1e_has_changed(ol1e, nl1e, _PAGE_RW | _PAGE_PRESENT));
    // with XSA-182 only the whitelisted flags may differ.
    const same = host.xsa182Applied ? FASTPATH_COMPARE_LO : 0xfffff000 | _PAGE_RW | _PAGE_PRESENT;
    if ((((olo ^ lo) & same) === 0) && (((ohi ^ hi) & PADDR_HI_MASK) === 0)) {
      adjustL1Value(ne);
      update_entry(words, w, ne.lo, ne.hi, preserveAd);
      return 0;
    }
    const rc = get_page_from_l1e(host, lo, hi, ptDom, pgDom);
    if (rc !== 0) return rc;
    adjustL1Value(ne);
    update_entry(words, w, ne.lo, ne.hi, preserveAd);
  } else {
    update_entry(words, w, lo, hi, preserveAd);
  }
  put_page_from_l1e(host, olo, ohi);
  return 0;
}

/**
 * mod_l2_entry / mod_l3_entry / mod_l4_entry (64-bit PV): an L4 slot of Xen's is refused with
 * -EINVAL ("Illegal L4 update attempt in Xen-private area"); bad flags -EINVAL; the new target's
 * references as get_page_from_l*e; the fast path keeps the references when only flags other
 * than presence change.
 */
export function mod_upper_entry(
  host: XenHost, level: number, mfn: number, index: number, lo: number, hi: number, preserveAd: boolean, domid: number,
): number {
  if (level === 4 && !is_guest_l4_slot(index)) {
    // pl4e: the entry's address in Xen's direct map (map_domain_page on x86_64)
    MEM_LOG(host, 'mod_l4_xen_slot', `Illegal L4 update attempt in Xen-private area ${x16(DIRECTMAP_VIRT_START_64 + BigInt(mfn) * 4096n + BigInt(index * 8))}`);
    return -EINVAL;
  }
  const words = frameWordsForWrite(host, mfn);
  const w = index * 2;
  const olo = words[w];
  const ohi = words[w + 1];
  if ((lo & _PAGE_PRESENT) !== 0) {
    const m = level === 2 ? masksOf(host).l2 : level === 3 ? masksOf(host).l3 : masksOf(host).l4;
    if ((lo & m.lo) !== 0 || (hi & m.hi) !== 0) {
      MEM_LOG(host, level === 2 ? 'mod_l2_bad_flags' : level === 3 ? 'mod_l3_bad_flags' : 'mod_l4_bad_flags', `Bad L${level} flags ${getPteFlags(lo & m.lo, hi & m.hi).toString(16)}`);
      return -EINVAL;
    }
    ne.lo = lo >>> 0; ne.hi = hi >>> 0;
    // Fast path for identical mapping and presence (l*e_has_changed(o, n, _PAGE_PRESENT)); with
    // XSA-148 an L2 also compares PSE and RW when superpages are allowed.
    const same = host.xsa182Applied ? FASTPATH_COMPARE_LO
      : level === 2 && host.xsa148Applied && host.allowSuperpage
        ? 0xfffff000 | _PAGE_PRESENT | _PAGE_PSE | _PAGE_RW : 0xfffff000 | _PAGE_PRESENT;
    if ((((olo ^ lo) & same) === 0) && (((ohi ^ hi) & PADDR_HI_MASK) === 0)) {
      adjustUpperValue(ne);
      update_entry(words, w, ne.lo, ne.hi, preserveAd);
      return 0;
    }
    const rc = get_page_from_entry(host, level, lo, hi, mfn, domid, true);
    if (rc < 0) return rc;
    adjustUpperValue(ne);
    update_entry(words, w, ne.lo, ne.hi, preserveAd);
  } else {
    update_entry(words, w, lo, hi, preserveAd);
  }
  put_page_from_entry(host, level, olo, ohi, mfn);
  return 0;
}
