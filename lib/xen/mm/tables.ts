/**
 * Page-table frames as words, and Xen's own part of every guest L4: the helpers validation and
 * the hypercalls share. (Xen reads tables through map_domain_page; the model reads the words.)
 * // xen/arch/x86/mm.c (alloc_l4_table's Xen slots, is_guest_l4_slot) (Xen 4.2.0)
 */
import type { XenHost } from '../host';
import { ROOT_PAGETABLE_FIRST_XEN_SLOT, ROOT_PAGETABLE_LAST_XEN_SLOT } from '../public/xen';
import type { DisallowMasks } from './pte-flags';

const EMPTY_WORDS = new Uint32Array(1024);

/** The words of a machine frame (zeros, shared and read-only by convention, if it has no storage). */
export function frameWords(host: XenHost, mfn: number): Uint32Array {
  return host.memory.storage(mfn) ?? EMPTY_WORDS;
}

/** The words of a machine frame for writing (storage allocated if needed). */
export function frameWordsForWrite(host: XenHost, mfn: number): Uint32Array {
  return host.memory.words(mfn);
}

/** is_guest_l4_slot(d, s) for a 64-bit PV guest: every slot but Xen's 256..271. */
export function is_guest_l4_slot(slot: number): boolean {
  return slot < ROOT_PAGETABLE_FIRST_XEN_SLOT || slot > ROOT_PAGETABLE_LAST_XEN_SLOT;
}

/** The disallow masks of a host (computed once, in XenHost). */
export function masksOf(host: XenHost): DisallowMasks {
  return host.disallow;
}

/** The Xen-private part of alloc_l4_table: slots 256..271. */
export function install_xen_slots(host: XenHost, words: Uint32Array, mfn: number, domid: number): void {
  words.set(host.idleXenSlots, ROOT_PAGETABLE_FIRST_XEN_SLOT * 2);
  const selfLo = ((mfn % 0x100000) * 4096 + XEN_L4_FLAGS) >>> 0;
  const selfHi = Math.floor(mfn / 0x100000);
  words[258 * 2] = selfLo; words[258 * 2 + 1] = selfHi; // LINEAR_PT_VIRT_START
  // alloc_l4_table runs for a frame of a domain on the host (page_get_owner; the builder registers
  // the domain and its per-domain L3 before it validates the first L4)
  const per = host.getDomain(domid)!.perdomainL3Mfn;
  words[260 * 2] = ((per % 0x100000) * 4096 + XEN_L4_FLAGS) >>> 0; // PERDOMAIN_VIRT_START
  words[260 * 2 + 1] = Math.floor(per / 0x100000);
}

/** __PAGE_HYPERVISOR: present, RW, accessed, dirty */
const XEN_L4_FLAGS = 0x63;
