/**
 * get_pg_owner(domid): whose frames a request may map. DOMID_SELF is the caller; DOMID_IO is
 * allowed to anyone (it only reaches I/O frames); anything else needs privilege over the
 * target, which a domU never has ("Cannot set foreign dom", "Unknown domain", "Cannot specify
 * itself as foreign domain": all -ESRCH at the caller).
 * // xen/arch/x86/mm.c (Xen 4.2.0)
 */
import { DOMID_IO, DOMID_SELF, DOMID_XEN } from '../public/xen';
import { MEM_LOG } from '../mem-log';
import type { Vcpu } from '../domain';

/** The pg_owner's domain id, or -1 when get_pg_owner returns NULL. */
export function get_pg_owner(v: Vcpu, domid: number): number {
  const d = v.domain;
  const host = d.host;
  if (domid === DOMID_SELF) return d.domid;
  if (domid === d.domid) { MEM_LOG(host, 'pg_owner_itself', 'Cannot specify itself as foreign domain'); return -1; }
  if (domid === DOMID_IO) return DOMID_IO;
  if (domid === DOMID_XEN) { MEM_LOG(host, 'pg_owner_xen', 'Cannot set foreign dom'); return -1; }
  if (host.getDomain(domid) === undefined) { MEM_LOG(host, 'pg_owner_unknown', `Unknown domain '${domid}'`); return -1; }
  MEM_LOG(host, 'pg_owner_not_priv', 'Cannot set foreign dom'); // a domU is not privileged for another domain (IS_PRIV_FOR)
  return -1;
}
