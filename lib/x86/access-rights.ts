/**
 * Access rights of a translation (Intel SDM vol. 3, 4.6.1 "Determination of Access Rights").
 *
 * One rule, shared by the page walk (walk.ts) and the TLB hit check (tlb.ts), so the two can
 * never disagree. The translation's effective rights are the AND of R/W and U/S and the OR of XD
 * over every paging-structure entry used; the access kind is given as page-fault error-code bits
 * (PFEC_WRITE, PFEC_USER, PFEC_INSTR).
 *
 *   user-mode access        : needs U; a write needs W; a fetch needs not-XD
 *   supervisor fetch        : needs not-XD; with CR4.SMEP, a user page is refused
 *   supervisor data access  : a write to a read-only page is refused when CR0.WP=1;
 *                             with CR4.SMAP and RFLAGS.AC=0, any access to a user page is refused
 *
 * Implicit supervisor accesses (descriptor tables and the like, which SMAP refuses whatever AC
 * says) and protection keys (4.6.2) are not modelled.
 */
import { PFEC_INSTR, PFEC_USER, PFEC_WRITE } from './page-fault';

// Module-level copies: an imported binding compiled to CommonJS is a property read (a getter
// under tsx) on every use, which showed up in the page walk's profile (see walk.ts).
const K_PFEC_INSTR = PFEC_INSTR;
const K_PFEC_USER = PFEC_USER;
const K_PFEC_WRITE = PFEC_WRITE;

/** The control bits the rights rule reads (CR0.WP, CR4.SMEP, CR4.SMAP, RFLAGS.AC). */
export interface RightsControl {
  /** CR0.WP: supervisor writes honour read-only pages */
  wp: boolean;
  /** CR4.SMEP: supervisor fetches from user pages fault */
  smep: boolean;
  /** CR4.SMAP: supervisor data accesses to user pages fault unless RFLAGS.AC */
  smap: boolean;
  /** RFLAGS.AC: lifts SMAP for explicit supervisor data accesses */
  ac: boolean;
}

/**
 * True when SDM 4.6.1 refuses `access` (error-code bits W/U/I) on a translation whose effective
 * rights are `writable`, `user` and `noExecute` (XD honoured, i.e. already ANDed with EFER.NXE).
 */
export function accessDenied(
  access: number, writable: boolean, user: boolean, noExecute: boolean, ctl: RightsControl,
): boolean {
  const isWrite = (access & K_PFEC_WRITE) !== 0;
  const isFetch = (access & K_PFEC_INSTR) !== 0;
  if ((access & K_PFEC_USER) !== 0) {
    return !user || (isWrite && !writable) || (isFetch && noExecute);
  }
  if (isFetch) return noExecute || (user && ctl.smep);
  return (isWrite && !writable && ctl.wp) || (user && ctl.smap && !ctl.ac);
}
