/**
 * do_mmuext_op: pinning and unpinning page tables, switching base pointers, TLB and cache
 * operations. The batch stops at the first failing op; a failure with no specific code is
 * -EINVAL (`rc = rc ? rc : -EINVAL`); *pdone gets the number of ops completed. `rc` lives across
 * the ops of a batch as in Xen: in 4.2.0 a pin of a frame that is not the owner's sets it to
 * -EINVAL without failing the op, so the batch goes on and returns -EINVAL unless a later op sets
 * rc again (4.2.2 fails the op). Pinning takes the type preemptibly, so PIN_L1_TABLE returns
 * alloc_l1_table's own error (-EBUSY, -EPERM ...); every nested failure above it is -EINVAL.
 * The model has no TLB (every access walks the tables), so the flush and INVLPG commands check
 * their arguments and change nothing.
 * // xen/arch/x86/mm.c (Xen 4.2.0)
 */
import { get_page, put_page } from '../mm/page-ref';
import {
  get_page_and_type_from_pagenr, get_page_type, get_page_type_preemptible, put_page_and_type,
} from '../mm/validate';
import { new_guest_cr3 } from '../mm/new-guest-cr3';
import { frameWordsForWrite, frameWords } from '../mm/tables';
import {
  PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table, PGT_pinned, PGT_root_page_table,
  PGT_writable_page,
} from '../page-info';
import { EFAULT, EINVAL, ENOSYS, ESRCH } from '../public/errno';
import {
  DOMID_SELF, MMUEXT_CLEAR_PAGE, MMUEXT_COPY_PAGE, MMUEXT_FLUSH_CACHE, MMUEXT_FLUSH_CACHE_GLOBAL, MMUEXT_INVLPG_ALL,
  MMUEXT_INVLPG_LOCAL, MMUEXT_INVLPG_MULTI, MMUEXT_MARK_SUPER, MMUEXT_NAMES, MMUEXT_NEW_BASEPTR,
  MMUEXT_NEW_USER_BASEPTR, MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE, MMUEXT_PIN_L3_TABLE, MMUEXT_PIN_L4_TABLE,
  MMUEXT_SET_LDT, MMUEXT_TLB_FLUSH_ALL, MMUEXT_TLB_FLUSH_LOCAL, MMUEXT_TLB_FLUSH_MULTI, MMUEXT_UNMARK_SUPER,
  MMUEXT_UNPIN_TABLE, HYPERVISOR_VIRT_START, HYPERVISOR_VIRT_END,
} from '../public/xen';
import type { Vcpu } from '../domain';
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

export function do_mmuext_op(v: Vcpu, ops: readonly MmuextRequest[], count: number, pdone: { value: number } | null, foreigndom: number): number {
  const host = v.domain.host;
  let i = 0;
  const state = { rc: 0 }; // do_mmuext_op's rc, which the ops of one batch share
  const pgOwner = get_pg_owner(v, foreigndom & 0xffff);
  if (pgOwner < 0) {
    state.rc = -ESRCH;
  } else {
    for (i = 0; i < count; i++) {
      const op = ops[i];
      host.trace.countMmuextOp(MMUEXT_NAMES[op.cmd] ?? `MMUEXT_${op.cmd}`);
      if (!one_op(v, op, pgOwner, foreigndom, state)) {
        state.rc = state.rc !== 0 ? state.rc : -EINVAL;
        break;
      }
    }
  }
  if (pdone !== null) pdone.value += i;
  return state.rc;
}

/** vcpumask_to_pcpumask: -EFAULT for a NULL bitmap (the copy from the guest faults). */
function vcpumask_to_pcpumask(mask: readonly number[] | null): number {
  return mask === null ? -EFAULT : 0;
}

/** One op of the batch: false when it failed (`okay` cleared); `st.rc` is do_mmuext_op's rc. */
function one_op(v: Vcpu, op: MmuextRequest, pgOwner: number, foreigndom: number, st: { rc: number }): boolean {
  const host = v.domain.host;
  const d = v.domain.domid;
  let okay = true;
  const ft = host.frameTable;
  switch (op.cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE: {
      const type = PIN_TYPES[op.cmd];
      const mfn = op.mfn;
      // get_page_from_gfn(pg_owner, mfn): 4.2.0 sets rc and goes on; 4.2.2 fails the op
      if (mfn >= ft.maxPage || !get_page(host, mfn, pgOwner)) {
        if (host.releaseFacts.mmuextFramesViaPagenr) {
          // 4.1: get_page_and_type_from_pagenr -> get_page_from_pagenr fails, rc -EINVAL
          MEM_LOG(host, 'could_not_get_page_ref', `Could not get page ref for pfn ${lx(mfn)}`);
          st.rc = -EINVAL;
          MEM_LOG(host, 'pin_error', `Error while pinning mfn ${lx(mfn)}`);
        }
        if (host.releaseFacts.pinBadFrameFailsOp) okay = false;
        else st.rc = -EINVAL;
        break;
      }
      st.rc = get_page_type_preemptible(host, mfn, type);
      if (st.rc !== 0) {
        okay = false;
        MEM_LOG(host, 'pin_error', `Error while pinning mfn ${lx(mfn)}`);
        put_page(host, mfn);
        break;
      }
      if ((ft.typeInfo[mfn] & PGT_pinned) !== 0) {
        okay = false;
        MEM_LOG(host, 'pin_already', `Mfn ${lx(mfn)} already pinned`);
        put_page_and_type(host, mfn);
        break;
      }
      ft.typeInfo[mfn] |= PGT_pinned;
      break;
    }
    case MMUEXT_UNPIN_TABLE: {
      const mfn = op.mfn;
      if (mfn >= ft.maxPage || !get_page(host, mfn, pgOwner)) {
        // 4.2.0 logs and leaves `okay` set: the op counts as done; 4.2.2 fails it
        if (host.releaseFacts.unpinBadFrameFailsOp) okay = false;
        if (host.releaseFacts.mmuextFramesViaPagenr) MEM_LOG(host, 'could_not_get_page_ref', `Could not get page ref for pfn ${lx(mfn)}`);
        MEM_LOG(host, 'unpin_bad_domain', `Mfn ${lx(mfn)} bad domain`);
        break;
      }
      if ((ft.typeInfo[mfn] & PGT_pinned) === 0) {
        okay = false;
        MEM_LOG(host, 'unpin_not_pinned', `Mfn ${lx(mfn)} not pinned`);
        put_page(host, mfn);
        break;
      }
      ft.typeInfo[mfn] &= ~PGT_pinned;
      put_page_and_type(host, mfn);
      put_page(host, mfn);
      break;
    }
    case MMUEXT_NEW_BASEPTR:
      okay = new_guest_cr3(v, op.mfn) === 0;
      break;
    case MMUEXT_NEW_USER_BASEPTR: {
      const old = v.guestTableUser;
      if (op.mfn !== 0) {
        okay = get_page_and_type_from_pagenr(host, op.mfn, PGT_root_page_table, d, false) === 0;
        if (!okay) { MEM_LOG(host, 'new_user_baseptr', `Error while installing new mfn ${lx(op.mfn)}`); break; }
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
      MEM_LOG(host, 'flush_cache', 'Non-physdev domain tried to FLUSH_CACHE.');
      break;
    case MMUEXT_FLUSH_CACHE_GLOBAL:
      okay = false;
      if (foreigndom === DOMID_SELF) MEM_LOG(host, 'flush_cache_global', 'Non-physdev domain tried to FLUSH_CACHE_GLOBAL');
      break;
    case MMUEXT_SET_LDT: {
      const ptr = op.linearAddr;
      const ents = op.nrEnts;
      // array_access_ok(ptr, ents, LDT_ENTRY_SIZE): below 2^47 or above HYPERVISOR_VIRT_END
      const full = op.linearFull;
      const okRange = full < 1n << 47n || full >= 0xffff000000000000n + BigInt(HYPERVISOR_VIRT_END);
      if (ptr % 4096 !== 0 || ents > 8192 || !okRange) {
        okay = false;
        MEM_LOG(host, 'set_ldt_bad_args', `Bad args to SET_LDT: ptr=${lx(full)}, ents=${lx(ents)}`);
        break;
      }
      v.ldtBase = ptr;
      v.ldtEnts = ents;
      break;
    }
    case MMUEXT_CLEAR_PAGE: {
      const mfn = op.mfn;
      if (mfn >= ft.maxPage || !get_page(host, mfn, d)) { okay = false; MEM_LOG(host, 'clear_page', `Error while clearing mfn ${lx(mfn)}`); break; }
      if (!get_page_type(host, mfn, PGT_writable_page)) { put_page(host, mfn); okay = false; MEM_LOG(host, 'clear_page', `Error while clearing mfn ${lx(mfn)}`); break; }
      frameWordsForWrite(host, mfn).fill(0);
      put_page_and_type(host, mfn);
      break;
    }
    case MMUEXT_COPY_PAGE: {
      const src = op.srcMfn;
      const dst = op.mfn;
      if (src >= ft.maxPage || !get_page(host, src, d)) { okay = false; MEM_LOG(host, 'copy_from', `Error while copying from mfn ${lx(src)}`); break; }
      if (dst >= ft.maxPage || !get_page(host, dst, d)) { put_page(host, src); okay = false; MEM_LOG(host, 'copy_to', `Error while copying to mfn ${lx(dst)}`); break; }
      if (!get_page_type(host, dst, PGT_writable_page)) {
        put_page(host, src); put_page(host, dst); okay = false;
        MEM_LOG(host, 'copy_to', `Error while copying to mfn ${lx(dst)}`);
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
        MEM_LOG(host, op.cmd === MMUEXT_MARK_SUPER ? 'mark_super_unaligned' : 'unmark_super_unaligned', `Unaligned superpage reference mfn ${lx(op.mfn)}`);
        break;
      }
      if (!host.allowSuperpage) {
        okay = false; st.rc = -ENOSYS;
        MEM_LOG(host, op.cmd === MMUEXT_MARK_SUPER ? 'mark_super_disallowed' : 'unmark_super_disallowed', 'Superpages disallowed');
        break;
      }
      break; // spage_info bookkeeping is not modelled
    default:
      MEM_LOG(host, 'mmuext_invalid_cmd', `Invalid extended pt command 0x${(op.cmd >>> 0).toString(16)}`);
      st.rc = -ENOSYS;
      okay = false;
  }
  return okay;
}
