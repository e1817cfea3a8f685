/**
 * get_pg_owner(domid): whose frames a request may map. DOMID_SELF is the caller; DOMID_IO is
 * allowed to anyone (it only reaches I/O frames); anything else needs privilege over the
 * target, which a domU never has ("Cannot set foreign dom", "Unknown domain", "Cannot specify
 * itself as foreign domain": all -ESRCH at the caller).
 * // xen/arch/x86/mm.c (Xen 4.2.2)
 */
import { DOMID_IO, DOMID_SELF } from '../public/xen';
import type { PvVcpu } from '../pv-vcpu';

/** The pg_owner's domain id, or -1 when get_pg_owner returns NULL. */
export function get_pg_owner(v: PvVcpu, domid: number): number {
  const d = v.domain;
  if (domid === DOMID_SELF) return d.domid;
  if (domid === d.domid) return -1; // "Cannot specify itself as foreign domain"
  if (domid === DOMID_IO) return DOMID_IO;
  return -1; // DOMID_XEN or another domain: a domU is not privileged (IS_PRIV / IS_PRIV_FOR)
}
