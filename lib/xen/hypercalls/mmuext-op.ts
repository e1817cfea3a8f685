/**
 * do_mmuext_op: pinning and unpinning page tables, switching base pointers, TLB and cache
 * operations. The batch stops at the first failing op; a failure with no specific code is
 * -EINVAL (`rc = rc ? rc : -EINVAL`); *pdone gets the number of ops completed.
 * The model has no TLB (every access walks the tables), so the flush and INVLPG commands check
 * their arguments and change nothing.
 * // xen/arch/x86/mm.c (Xen 4.2.2)
 */
import { get_page, get_page_and_type_from_pagenr, get_page_type, put_page, put_page_and_type } from '../mm/page-ref';
import { new_guest_cr3 } from '../mm/new-guest-cr3';
import { frameWordsForWrite, frameWords } from '../mm/validate';
import {
  PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table, PGT_pinned, PGT_root_page_table,
  PGT_writable_page,
} from '../page-info';
import { __get_page_type } from '../mm/page-ref';
import { EFAULT, EINVAL, ENOSYS, ESRCH } from '../public/errno';
import {
  DOMID_SELF, MMUEXT_CLEAR_PAGE, MMUEXT_COPY_PAGE, MMUEXT_FLUSH_CACHE, MMUEXT_FLUSH_CACHE_GLOBAL, MMUEXT_INVLPG_ALL,
  MMUEXT_INVLPG_LOCAL, MMUEXT_INVLPG_MULTI, MMUEXT_MARK_SUPER, MMUEXT_NAMES, MMUEXT_NEW_BASEPTR,
  MMUEXT_NEW_USER_BASEPTR, MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE, MMUEXT_PIN_L3_TABLE, MMUEXT_PIN_L4_TABLE,
  MMUEXT_SET_LDT, MMUEXT_TLB_FLUSH_ALL, MMUEXT_TLB_FLUSH_LOCAL, MMUEXT_TLB_FLUSH_MULTI, MMUEXT_UNMARK_SUPER,
  MMUEXT_UNPIN_TABLE, HYPERVISOR_VIRT_START, HYPERVISOR_VIRT_END,
} from '../public/xen';
import type { PvVcpu } from '../pv-vcpu';
import { get_pg_owner } from './pg-owner';
import { MEM_LOG, lx } from '../mem-log';

/** One op as numbers. */
export interface MmuextRequest {
  cmd: number;
  /** arg1.mfn (a number; values beyond 2^53 are clamped, they are invalid frames anyway) */
  mfn: number;
  /** arg1.linear_addr as bits 47:0 */
  linearAddr: number;
  /** arg1.linear_addr as given (64 bits) */
  linearFull: bigint;
  /** arg2.nr_ents */
  nrEnts: number;
  /** arg2.vcpumask (vCPU ids), null for a NULL handle */
  vcpumask: readonly number[] | null;
  /** arg2.src_mfn */
  srcMfn: number;
}

const PIN_TYPES: Record<number, number> = {
  [MMUEXT_PIN_L1_TABLE]: PGT_l1_page_table,
  [MMUEXT_PIN_L2_TABLE]: PGT_l2_page_table,
  [MMUEXT_PIN_L3_TABLE]: PGT_l3_page_table,
  [MMUEXT_PIN_L4_TABLE]: PGT_l4_page_table,
};

export function do_mmuext_op(v: PvVcpu, ops: readonly MmuextRequest[], count: number, pdone: { value: number } | null, foreigndom: number): number {
  const host = v.domain.host;
  let rc = 0;
  let i = 0;
  const pgOwner = get_pg_owner(v, foreigndom & 0xffff);
  if (pgOwner < 0) {
    rc = -ESRCH;
  } else {
    for (i = 0; i < count; i++) {
      const op = ops[i];
      host.trace.countMmuextOp(MMUEXT_NAMES[op.cmd] ?? `MMUEXT_${op.cmd}`);
      rc = one_op(v, op, pgOwner, foreigndom);
      if (rc !== 0) break;
    }
  }
  if (pdone !== null) pdone.value += i;
  return rc;
}

/** vcpumask_to_pcpumask: -EFAULT for a NULL bitmap (the copy from the guest faults). */
function vcpumask_to_pcpumask(mask: readonly number[] | null): number {
  return mask === null ? -EFAULT : 0;
}

function one_op(v: PvVcpu, op: MmuextRequest, pgOwner: number, foreigndom: number): number {
  const host = v.domain.host;
  const d = v.domain.domid;
  let okay = true;
  let rc = 0;
  const ft = host.frameTable;
  switch (op.cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE: {
      const type = PIN_TYPES[op.cmd];
      const mfn = op.mfn;
      // get_page_from_gfn(pg_owner, mfn)
      if (mfn >= ft.maxPage || !get_page(host, mfn, pgOwner)) { okay = false; break; }
      rc = __get_page_type(host, mfn, type);
      if (rc !== 0) {
        okay = false;
        MEM_LOG(host, 3272, `Error while pinning mfn ${lx(mfn)}`);
        put_page(host, mfn);
        break;
      }
      if ((ft.typeInfo[mfn] & PGT_pinned) !== 0) {
        okay = false; // pin_drop (Xen defers the L2-L4 drop to old_guest_table)
        MEM_LOG(host, 3282, `Mfn ${lx(mfn)} already pinned`);
        put_page_and_type(host, mfn);
        break;
      }
      ft.typeInfo[mfn] |= PGT_pinned;
      break;
    }
    case MMUEXT_UNPIN_TABLE: {
      const mfn = op.mfn;
      if (mfn >= ft.maxPage || !get_page(host, mfn, pgOwner)) {
        okay = false;
        MEM_LOG(host, 3324, `Mfn ${lx(mfn)} bad domain`);
        break;
      }
      if ((ft.typeInfo[mfn] & PGT_pinned) === 0) {
        okay = false;
        MEM_LOG(host, 3332, `Mfn ${lx(mfn)} not pinned`);
        put_page(host, mfn);
        break;
      }
      ft.typeInfo[mfn] &= ~PGT_pinned;
      put_page_and_type(host, mfn);
      put_page(host, mfn);
      break;
    }
    case MMUEXT_NEW_BASEPTR:
      rc = new_guest_cr3(v, op.mfn);
      okay = rc === 0;
      break;
    case MMUEXT_NEW_USER_BASEPTR: {
      const old = v.guestTableUser;
      if (old === op.mfn) break;
      if (op.mfn !== 0) {
        rc = get_page_and_type_from_pagenr(host, op.mfn, PGT_root_page_table, d);
        okay = rc === 0;
        if (!okay) { MEM_LOG(host, 3399, `Error while installing new mfn ${lx(op.mfn)}`); break; }
      }
      v.guestTableUser = op.mfn;
      if (old !== 0) put_page_and_type(host, old);
      break;
    }
    case MMUEXT_TLB_FLUSH_LOCAL:
    case MMUEXT_INVLPG_LOCAL:
    case MMUEXT_TLB_FLUSH_ALL:
    case MMUEXT_INVLPG_ALL:
      break; // flush_tlb_local / flush_tlb_one_local / flush_tlb_mask: no TLB in the model
    case MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT_INVLPG_MULTI:
      if (vcpumask_to_pcpumask(op.vcpumask) !== 0) okay = false;
      break;
    case MMUEXT_FLUSH_CACHE:
      okay = false; // no cache_flush_permitted for a domU
      MEM_LOG(host, 3470, 'Non-physdev domain tried to FLUSH_CACHE.');
      break;
    case MMUEXT_FLUSH_CACHE_GLOBAL:
      okay = false;
      if (foreigndom === DOMID_SELF) MEM_LOG(host, 3496, 'Non-physdev domain tried to FLUSH_CACHE_GLOBAL');
      break;
    case MMUEXT_SET_LDT: {
      const ptr = op.linearAddr;
      const ents = op.nrEnts;
      // array_access_ok(ptr, ents, LDT_ENTRY_SIZE): below 2^47 or above HYPERVISOR_VIRT_END
      const full = op.linearFull;
      const okRange = full < 1n << 47n || full >= 0xffff000000000000n + BigInt(HYPERVISOR_VIRT_END);
      if (ptr % 4096 !== 0 || ents > 8192 || !okRange) {
        okay = false;
        MEM_LOG(host, 3516, `Bad args to SET_LDT: ptr=${lx(full)}, ents=${lx(ents)}`);
        break;
      }
      v.ldtBase = ptr;
      v.ldtEnts = ents;
      break;
    }
    case MMUEXT_CLEAR_PAGE: {
      const mfn = op.mfn;
      if (mfn >= ft.maxPage || !get_page(host, mfn, d)) { okay = false; MEM_LOG(host, 3541, `Error while clearing mfn ${lx(mfn)}`); break; }
      if (!get_page_type(host, mfn, PGT_writable_page)) { put_page(host, mfn); okay = false; MEM_LOG(host, 3541, `Error while clearing mfn ${lx(mfn)}`); break; }
      frameWordsForWrite(host, mfn).fill(0);
      put_page_and_type(host, mfn);
      break;
    }
    case MMUEXT_COPY_PAGE: {
      const src = op.srcMfn;
      const dst = op.mfn;
      if (src >= ft.maxPage || !get_page(host, src, d)) { okay = false; MEM_LOG(host, 3567, `Error while copying from mfn ${lx(src)}`); break; }
      if (dst >= ft.maxPage || !get_page(host, dst, d)) { put_page(host, src); okay = false; MEM_LOG(host, 3578, `Error while copying to mfn ${lx(dst)}`); break; }
      if (!get_page_type(host, dst, PGT_writable_page)) {
        put_page(host, src); put_page(host, dst); okay = false;
        MEM_LOG(host, 3578, `Error while copying to mfn ${lx(dst)}`);
        break;
      }
      frameWordsForWrite(host, dst).set(frameWords(host, src));
      put_page_and_type(host, dst);
      put_page(host, src);
      break;
    }
    case MMUEXT_MARK_SUPER:
    case MMUEXT_UNMARK_SUPER:
      if (op.mfn % 512 !== 0) {
        okay = false;
        MEM_LOG(host, op.cmd === MMUEXT_MARK_SUPER ? 3605 : 3631, `Unaligned superpage reference mfn ${lx(op.mfn)}`);
        break;
      }
      if (!host.allowSuperpage) {
        okay = false; rc = -ENOSYS;
        MEM_LOG(host, op.cmd === MMUEXT_MARK_SUPER ? 3612 : 3638, 'Superpages disallowed');
        break;
      }
      break; // spage_info bookkeeping is not modelled
    default:
      MEM_LOG(host, 3651, `Invalid extended pt command 0x${(op.cmd >>> 0).toString(16)}`);
      rc = -ENOSYS;
      okay = false;
  }
  if (!okay) return rc !== 0 ? rc : -EINVAL;
  return 0;
}
