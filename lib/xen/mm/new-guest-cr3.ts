/**
 * new_guest_cr3(mfn): MMUEXT_NEW_BASEPTR for a 64-bit PV vCPU. The new kernel base must take an
 * L4 type reference (validating it if it was not a table yet); then guest_table is switched,
 * CR3 reloaded (write_ptbase), and the old base's references dropped (which may free the old tree
 * if nothing else holds it). Xen 4.2.0 has no shortcut for the base the vCPU already has: it
 * takes the new references, reloads CR3 and drops the old ones, so the counts end where they
 * were and the TLB is flushed. guest_table_user is not touched. Xen returns okay (1) or not (0),
 * and do_mmuext_op makes a failure -EINVAL; the model returns 0 or -EINVAL directly.
 * // xen/arch/x86/mm.c (Xen 4.2.0)
 */
import { PGT_root_page_table } from '../page-info';
import type { Vcpu } from '../domain';
import { MEM_LOG, lx } from '../mem-log';
import { get_page_and_type_from_pagenr, put_page_and_type } from './validate';

export function new_guest_cr3(v: Vcpu, mfn: number): number {
  const host = v.domain.host;
  const rc = get_page_and_type_from_pagenr(host, mfn, PGT_root_page_table, v.domain.domid, false);
  if (rc !== 0) {
    MEM_LOG(host, 'new_baseptr', `Error while installing new baseptr ${lx(mfn)}`);
    return rc;
  }
  const old = v.guestTable;
  v.guestTable = mfn; // update_cr3
  // write_ptbase: CR3 reloaded, so the vCPU's non-global translations are gone
  v.flushTranslations();
  host.trace.emit({ type: 'cr3-load', value: (mfn * 4096).toString(16).padStart(16, '0'), by: 'new_guest_cr3' });
  if (old !== 0) put_page_and_type(host, old);
  return 0;
}
