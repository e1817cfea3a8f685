/**
 * The fuzz's oracle: from the state before a hypercall — frame owners, type bytes, counts and the
 * raw words of machine memory, read as invariants.ts reads them — the code Xen returns. Written
 * from the source, not from lib/xen: xen/arch/x86/mm.c at RELEASE-4.2.0 with the XSA-148
 * (fe360c90ea) and XSA-182 (e1bff4c2ea) patches applied, for a 64-bit PV domU on a release build
 * (debug=n), a CPU with NX, no `allowsuperpage`, and no hypercall preemption (the model has none).
 *
 * What it predicts exactly:
 *  - get_pg_owner and the foreign page-table domain (mm.c:2857-2910, 3471-3496): -ESRCH / -EINVAL;
 *  - mmu_update's command decode (-ENOSYS), MMU_MACHPHYS_UPDATE's ownership check, the normal
 *    update's frame lookup and page_lock / writable fallback (mm.c:3524-3683);
 *  - every L1 entry change: mod_l1_entry (mm.c:1813-1900; fast path as XSA-182 rewrites it) and
 *    get_page_from_l1e (mm.c:828-966): -EINVAL / -EPERM / -EBUSY / 0;
 *  - L2-L4 entry changes whose new target needs no validation, or only an L1's (which is
 *    alloc_l1_table: get_page_from_l1e per entry, no recursion; mm.c:1250-1287);
 *  - the mmuext_op commands the fuzz issues (mm.c:2976-3438), pins of tables that are already
 *    typed, and pins whose validation reaches no further than one L1 per entry;
 *  - update_va_mapping: guest_map_l1e (asm-x86/paging.h:377-395), the L1's lock and type, and the
 *    flush argument that overwrites rc (mm.c:4198-4285).
 * What it predicts only in part ("0 or -EINVAL"): a change or pin that must validate a table whose
 * entries point at tables that must themselves be validated (an L3 or L4 over untyped lower tables).
 * Predicting those exactly means re-implementing the recursive validator — the model again — so the
 * oracle only says what the source guarantees there: every nested failure reaches the guest as
 * -EINVAL (get_page_and_type_from_pagenr's `get_page_type(...) ? 0 : -EINVAL` on the
 * non-preemptible path, mm.c:716-718, and alloc_l2_table's own codes, which are all -EINVAL).
 * Assumptions the source leaves open, stated: a page_info beyond max_page (get_page_from_gfn for a
 * PV guest does no mfn_valid check, asm-x86/p2m.h:391-404) reads as a free frame; a vcpumask the
 * fuzz leaves out is a guest handle whose copy faults.
 */
import type { Domain, PvVcpu, XenHost } from '../../lib/xen';

// xen/include/xen/errno.h (4.2.0): 7, 9, 20, 22, 28, 44
export const EPERM = 1;
export const ESRCH = 3;
export const EFAULT = 14;
export const EBUSY = 16;
export const EINVAL = 22;
export const ENOSYS = 38;

// xen/include/public/xen.h (4.2.0): 315-317, 377-396, 428-434, 474-493
const MMU_NORMAL_PT_UPDATE = 0;
const MMU_MACHPHYS_UPDATE = 1;
const MMU_PT_UPDATE_PRESERVE_AD = 2;
export const MMUEXT = {
  PIN_L1_TABLE: 0, PIN_L2_TABLE: 1, PIN_L3_TABLE: 2, PIN_L4_TABLE: 3, UNPIN_TABLE: 4, NEW_BASEPTR: 5,
  TLB_FLUSH_LOCAL: 6, INVLPG_LOCAL: 7, TLB_FLUSH_MULTI: 8, INVLPG_MULTI: 9, TLB_FLUSH_ALL: 10, INVLPG_ALL: 11,
  FLUSH_CACHE: 12, SET_LDT: 13, NEW_USER_BASEPTR: 15, CLEAR_PAGE: 16, COPY_PAGE: 17, FLUSH_CACHE_GLOBAL: 18,
  MARK_SUPER: 19, UNMARK_SUPER: 20,
} as const;
const UVMF_TLB_FLUSH = 1;
const UVMF_INVLPG = 2;
const UVMF_FLUSHTYPE_MASK = 3;
const UVMF_LOCAL = 0;
const UVMF_ALL = 4;
const DOMID_SELF = 0x7ff0;
const DOMID_IO = 0x7ff1;
const DOMID_XEN = 0x7ff2;

// asm-x86/config.h (4.2.0): 196-197
const ROOT_PAGETABLE_FIRST_XEN_SLOT = 256;
const ROOT_PAGETABLE_LAST_XEN_SLOT = 271;

// Entry flags (asm-x86/page.h, x86_64/page.h 4.2.0), low word of an entry.
const _PAGE_PRESENT = 0x001;
const _PAGE_RW = 0x002;
const _PAGE_USER = 0x004;
const _PAGE_PWT = 0x008;
const _PAGE_PCD = 0x010;
const _PAGE_ACCESSED = 0x020;
const _PAGE_DIRTY = 0x040;
const _PAGE_PSE = 0x080;
const _PAGE_GLOBAL = 0x100;
const _PAGE_AVAIL = 0xe00;
/**
 * base_disallow_mask (mm.c:297-304): everything but PRESENT, RW, USER, ACCESSED, DIRTY, AVAIL;
 * NX allowed with cpu_has_nx; pte bits 62:52 allowed. In the low word: PWT, PCD, PSE/PAT, GLOBAL.
 * The high word holds NX and bits 62:52 (all allowed) and address bits 51:32 (not flags).
 */
const BASE_DISALLOW_LO = 0xfff & ~(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_AVAIL);
/** L1_DISALLOW_MASK with USER_MAPPINGS_ARE_GLOBAL (mm.c:184): base | _PAGE_GNTTAB (0 when NDEBUG, page.h:343-347), minus GLOBAL; l1_disallow_mask(d) keeps PAGE_CACHE_ATTRS for a domU without I/O caps (mm.c:193-199). */
const L1_DISALLOW_LO = BASE_DISALLOW_LO & ~_PAGE_GLOBAL;
/** L2_DISALLOW_MASK after XSA-148 without allowsuperpage: the base mask, PSE included. */
const L2_DISALLOW_LO = BASE_DISALLOW_LO;
/** l3_disallow_mask(d) for a 64-bit guest (mm.c:175-177) and L4_DISALLOW_MASK (mm.c:179). */
const L3_DISALLOW_LO = BASE_DISALLOW_LO;
const L4_DISALLOW_LO = BASE_DISALLOW_LO;
const DISALLOW_LO = [0, L1_DISALLOW_LO, L2_DISALLOW_LO, L3_DISALLOW_LO, L4_DISALLOW_LO];
/**
 * XSA-182's FASTPATH_FLAG_WHITELIST: NX, AVAIL_HIGH, AVAIL, GLOBAL, DIRTY, ACCESSED, USER. An update
 * takes the fast path when the frame and every other flag are unchanged: in the low word the frame
 * and PRESENT, RW, PWT, PCD, PSE; in the high word the frame bits 51:32 only.
 */
const FAST_LO = (0xfffff000 | (0xfff & ~(_PAGE_AVAIL | _PAGE_GLOBAL | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_USER))) >>> 0;
const FAST_HI = 0x000fffff;
/** INVALID_MFN as get_page_from_l1e spells it: PADDR_MASK >> PAGE_SHIFT with 52-bit addresses. */
const INVALID_MFN = 2 ** 40 - 1;

// How the model stores a frame's type byte (see invariants.ts): type code 1..4 L1..L4, 7 writable.
const T_MASK = 0x07;
const T_PINNED = 0x08;
const T_VALIDATED = 0x10;
const PGT_writable = 7;

/** A prediction: the exact code, or the codes the source allows when the oracle cannot decide. */
export type Prediction = { exact: number; why: string } | { oneOf: readonly number[]; why: string };

const UNKNOWN = Symbol('needs nested validation');
type Rc = number | typeof UNKNOWN;

/**
 * The frame state as the source's predicates need it, with an overlay for the type changes a
 * validation makes while it runs (a table being validated holds type count 1, not validated; a
 * frame mapped writable becomes PGT_writable_page).
 */
class View {
  private readonly type = new Map<number, number>();
  private readonly count = new Map<number, number>();

  constructor(readonly host: XenHost, readonly d: number) {}

  valid(m: number): boolean {
    return Number.isInteger(m) && m >= 0 && m < this.host.maxPage;
  }
  owner(m: number): number {
    return this.valid(m) ? this.host.frameTable.owner[m] : -1;
  }
  refs(m: number): number {
    return this.valid(m) ? this.host.frameTable.refCountOf(m) : 0; // beyond max_page: a free page_info (assumed)
  }
  typeByte(m: number): number {
    return this.type.get(m) ?? (this.valid(m) ? this.host.frameTable.typeInfo[m] : 0);
  }
  typeCount(m: number): number {
    return this.count.get(m) ?? (this.valid(m) ? this.host.frameTable.typeCountOf(m) : 0);
  }
  set(m: number, typeByte: number, count: number): void {
    this.type.set(m, typeByte);
    this.count.set(m, count);
  }
  word(m: number, i: number): number {
    const w = this.valid(m) ? this.host.memory.frames.get(m) : undefined;
    return w === undefined ? 0 : w[i];
  }

  /** get_page(page, d): a reference exists to take (count_info != 0) and the owner is d. */
  getPage(m: number, d: number): boolean {
    return this.refs(m) > 0 && this.owner(m) === d;
  }

  /**
   * __get_page_type(page, type) without nested validation: 'ok' (count taken), 'mismatch', or
   * 'validate' (count was 0: the type becomes `type`, count 1, validation follows).
   */
  getType(m: number, type: number): 'ok' | 'mismatch' | 'validate' {
    const x = this.typeByte(m);
    const c = this.typeCount(m);
    if (c === 0) {
      if (type === PGT_writable) { this.set(m, (x & T_PINNED) | PGT_writable | T_VALIDATED, 1); return 'ok'; }
      this.set(m, (x & T_PINNED) | type, 1);
      return 'validate';
    }
    if ((x & T_MASK) !== type) return 'mismatch';
    if ((x & T_VALIDATED) === 0) throw new Error(`oracle: frame ${m.toString(16)} in use but not validated (Xen would spin)`);
    this.set(m, x, c + 1);
    return 'ok';
  }

  validated(m: number, type: number): boolean {
    return this.typeCount(m) > 0 && (this.typeByte(m) & (T_MASK | T_VALIDATED)) === (type | T_VALIDATED);
  }
}

function mfnOf(lo: number, hi: number): number {
  return (hi & 0xfffff) * 0x100000 + (lo >>> 12);
}

/** get_page_from_l1e(l1e, l1e_owner = d, pg_owner) (mm.c:828-966), on a domU. */
function get_page_from_l1e(v: View, lo: number, hi: number, pgOwner: number): number {
  if ((lo & _PAGE_PRESENT) === 0) return 0;
  if ((lo & L1_DISALLOW_LO) !== 0) return -EINVAL;
  const mfn = mfnOf(lo, hi);
  // !mfn_valid, or page_get_owner_and_reference gives dom_io: I/O memory, and a domU has no iomem caps.
  if (!v.valid(mfn) || (v.refs(mfn) > 0 && v.owner(mfn) === DOMID_IO)) return mfn === INVALID_MFN ? -EINVAL : -EPERM;
  // real_pg_owner: NULL when the count is 0 (page_get_owner_and_reference).
  const real = v.refs(mfn) > 0 ? v.owner(mfn) : -1;
  if (real !== pgOwner) return -EBUSY; // could_not_pin: a domU is privileged for nobody
  if ((lo & _PAGE_RW) !== 0 && v.getType(mfn, PGT_writable) !== 'ok') return -EBUSY;
  return 0;
}

/** alloc_l1_table (mm.c:1250-1287): the first failing entry's code. */
function alloc_l1_table(v: View, m: number): number {
  for (let i = 0; i < 512; i++) {
    const rc = get_page_from_l1e(v, v.word(m, 2 * i), v.word(m, 2 * i + 1), v.d);
    if (rc !== 0) return rc;
  }
  return 0;
}

/**
 * get_page_and_type_from_pagenr(target, level - 1) plus the linear-table fallback of
 * get_page_from_l{2,3,4}e (mm.c:703-722, 742-781, 973-1057) for an entry of table `pfn`.
 */
function get_page_from_upper(v: View, level: number, lo: number, hi: number, pfn: number): Rc {
  if ((lo & _PAGE_PRESENT) === 0) return 0;
  if ((lo & DISALLOW_LO[level]) !== 0) return -EINVAL;
  const t = mfnOf(lo, hi);
  let rc: Rc;
  if (!v.valid(t) || !v.getPage(t, v.d)) {
    rc = -EINVAL;
  } else {
    const got = v.getType(t, level - 1);
    if (got === 'ok') return 0;
    if (got === 'mismatch') rc = -EINVAL;
    else if (level - 1 === 1) {
      // Nested alloc_l1_table on the non-preemptible path: any failure is -EINVAL (mm.c:715-717).
      const r = alloc_l1_table(v, t);
      if (r === 0) { v.set(t, v.typeByte(t) | T_VALIDATED, v.typeCount(t)); return 0; }
      v.set(t, 0, 0); // alloc_page_type wipes type_info on failure (mm.c:2251-2258)
      rc = -EINVAL;
    } else {
      return UNKNOWN;
    }
  }
  // get_lN_linear_pagetable: read-only, and the table itself or a validated table of this level.
  if ((lo & _PAGE_RW) !== 0) return rc;
  if (t === pfn) return 0;
  if (v.valid(t) && v.getPage(t, v.d) && v.validated(t, level)) { v.set(t, v.typeByte(t), v.typeCount(t) + 1); return 0; }
  return rc;
}

/** alloc_l2_table / alloc_l3_table / alloc_l4_table for a 64-bit guest (mm.c:1401-1607). */
function alloc_upper_table(v: View, m: number, level: number): Rc {
  for (let i = 0; i < 512; i++) {
    if (level === 4 && i >= ROOT_PAGETABLE_FIRST_XEN_SLOT && i <= ROOT_PAGETABLE_LAST_XEN_SLOT) continue;
    const rc = get_page_from_upper(v, level, v.word(m, 2 * i), v.word(m, 2 * i + 1), m);
    if (rc !== 0) return rc;
  }
  return 0;
}

/**
 * __get_page_type(target, type) with validation (the pin path, mm.c:2425-2569): 0, a code, or
 * UNKNOWN. Nested failures below an L2 are -EINVAL already (see get_page_from_upper).
 */
function get_page_type_validating(v: View, m: number, type: number): Rc {
  const got = v.getType(m, type);
  if (got === 'ok') return 0;
  if (got === 'mismatch') return -EINVAL;
  return type === 1 ? alloc_l1_table(v, m) : alloc_upper_table(v, m, type);
}

function exact(rc: number, why: string): Prediction {
  return { exact: rc, why };
}

function fromRc(rc: Rc, why: string): Prediction {
  return rc === UNKNOWN ? { oneOf: [0, -EINVAL], why: `${why}: nested validation (not predicted; a failure must be -EINVAL)` } : exact(rc, why);
}

/** get_pg_owner (mm.c:2857-2910): the page owner's id, or null for NULL. */
function get_pg_owner(host: XenHost, d: number, domid: number): number | null {
  if (domid === DOMID_SELF) return d;
  if (domid === d) return null;
  if (domid === DOMID_IO) return DOMID_IO;
  if (domid === DOMID_XEN) return null; // !IS_PRIV
  return null; // unknown domain, or !IS_PRIV_FOR (sched.h:686): a domU is privileged for nobody
}

/** mod_l1_entry (mm.c:1813-1900, fast path per XSA-182) of entry `i` of L1 `m`. */
function mod_l1_entry(v: View, m: number, i: number, lo: number, hi: number, pgOwner: number): number {
  if ((lo & _PAGE_PRESENT) === 0) return 0;
  if ((lo & L1_DISALLOW_LO) !== 0) return -EINVAL;
  const olo = v.word(m, 2 * i);
  const ohi = v.word(m, 2 * i + 1);
  if (((olo ^ lo) & FAST_LO) === 0 && ((ohi ^ hi) & FAST_HI) === 0) return 0;
  return get_page_from_l1e(v, lo, hi, pgOwner);
}

/** mod_l2_entry / mod_l3_entry / mod_l4_entry (mm.c:1904-2110) of entry `i` of table `m`. */
function mod_upper_entry(v: View, level: number, m: number, i: number, lo: number, hi: number): Rc {
  if (level === 4 && i >= ROOT_PAGETABLE_FIRST_XEN_SLOT && i <= ROOT_PAGETABLE_LAST_XEN_SLOT) return -EINVAL;
  if ((lo & _PAGE_PRESENT) === 0) return 0;
  if ((lo & DISALLOW_LO[level]) !== 0) return -EINVAL;
  const olo = v.word(m, 2 * i);
  const ohi = v.word(m, 2 * i + 1);
  if (((olo ^ lo) & FAST_LO) === 0 && ((ohi ^ hi) & FAST_HI) === 0) return 0;
  return get_page_from_upper(v, level, lo, hi, m);
}

/** One mmu_update request (do_mmu_update, mm.c:3440-3640). */
function mmu_update(host: XenHost, d: number, ptr: bigint, val: bigint, foreigndom: number): Prediction {
  const ptDom = foreigndom >>> 16;
  if (ptDom !== 0) {
    if (host.getDomain(ptDom - 1) === undefined) return exact(-EINVAL, 'pt_owner: no such domain');
    return exact(-ESRCH, 'pt_owner: !IS_PRIV_FOR');
  }
  const pgOwner = get_pg_owner(host, d, foreigndom & 0xffff);
  if (pgOwner === null) return exact(-ESRCH, 'get_pg_owner is NULL');
  const v = new View(host, d);
  const cmd = Number(ptr & 7n);
  const mfn = Number(ptr >> 12n);
  const lo = Number(val & 0xffffffffn);
  const hi = Number((val >> 32n) & 0xffffffffn);
  if (cmd === MMU_MACHPHYS_UPDATE) {
    return exact(v.valid(mfn) && v.getPage(mfn, pgOwner) ? 0 : -EINVAL, 'MMU_MACHPHYS_UPDATE: get_page_from_pagenr(mfn, pg_owner)');
  }
  if (cmd !== MMU_NORMAL_PT_UPDATE && cmd !== MMU_PT_UPDATE_PRESERVE_AD) return exact(-ENOSYS, 'invalid command');
  if (!v.getPage(mfn, d)) return exact(-EINVAL, 'get_page_from_gfn(pt_owner, gmfn) fails');
  const i = Number((ptr & 0xff8n) >> 3n);
  const x = v.typeByte(mfn);
  const c = v.typeCount(mfn);
  if ((x & T_VALIDATED) !== 0 && c > 0) { // page_lock
    const type = x & T_MASK;
    if (type === 1) return exact(mod_l1_entry(v, mfn, i, lo, hi, pgOwner), 'mod_l1_entry');
    if (type >= 2 && type <= 4) return fromRc(mod_upper_entry(v, type, mfn, i, lo, hi), `mod_l${type}_entry`);
    if (type === PGT_writable) return exact(0, 'writable page: plain store');
    return exact(-EINVAL, 'locked page of another type');
  }
  return exact(v.getType(mfn, PGT_writable) === 'ok' ? 0 : -EINVAL, 'not lockable: get_page_type(PGT_writable_page)');
}

export interface ExtOp { cmd: number; mfn: number; src_mfn?: number; vcpumask?: readonly number[] }

/** One mmuext_op (do_mmuext_op, mm.c:2976-3437). */
function mmuext_op(host: XenHost, d: number, op: ExtOp, foreigndom: number): Prediction {
  const pgOwner = get_pg_owner(host, d, foreigndom & 0xffff);
  if (pgOwner === null) return exact(-ESRCH, 'get_pg_owner is NULL');
  const v = new View(host, d);
  const m = op.mfn;
  switch (op.cmd) {
    case MMUEXT.PIN_L1_TABLE: case MMUEXT.PIN_L2_TABLE: case MMUEXT.PIN_L3_TABLE: case MMUEXT.PIN_L4_TABLE: {
      const type = op.cmd - MMUEXT.PIN_L1_TABLE + 1;
      if (!v.getPage(m, pgOwner)) return exact(-EINVAL, 'pin: get_page_from_gfn(pg_owner) fails');
      const pinnedBefore = (v.typeByte(m) & T_PINNED) !== 0 && v.typeCount(m) > 0;
      const rc = get_page_type_validating(v, m, type);
      if (rc === UNKNOWN) return fromRc(rc, `pin L${type}`);
      if (rc !== 0) return exact(rc, `pin L${type}: get_page_type_preemptible`);
      return exact(pinnedBefore ? -EINVAL : 0, pinnedBefore ? 'already pinned' : `pin L${type}`);
    }
    case MMUEXT.UNPIN_TABLE:
      // 4.2.0: a frame get_page_from_gfn refuses leaves okay = 1 (mm.c:3117-3122): success, nothing done
      // (4.2.2 sets okay = 0 there: -EINVAL).
      if (!v.getPage(m, pgOwner)) return exact(0, 'unpin: bad frame, okay stays 1 (4.2.0)');
      return exact((v.typeByte(m) & T_PINNED) !== 0 ? 0 : -EINVAL, 'unpin');
    case MMUEXT.NEW_BASEPTR:
    case MMUEXT.NEW_USER_BASEPTR: {
      if (op.cmd === MMUEXT.NEW_USER_BASEPTR && m === 0) return exact(0, 'NEW_USER_BASEPTR 0');
      // get_page_and_type_from_pagenr(mfn, PGT_root_page_table, d, 0, 0): any failure is -EINVAL,
      // and new_guest_cr3's 0 becomes -EINVAL in do_mmuext_op (mm.c:2828-2835, 3141-3143, 3410-3414).
      if (!v.getPage(m, d)) return exact(-EINVAL, 'base pointer: not the domain\'s frame');
      const rc = get_page_type_validating(v, m, 4);
      if (rc === UNKNOWN) return fromRc(rc, 'base pointer');
      return exact(rc === 0 ? 0 : -EINVAL, 'base pointer');
    }
    case MMUEXT.TLB_FLUSH_LOCAL: case MMUEXT.INVLPG_LOCAL: case MMUEXT.TLB_FLUSH_ALL: case MMUEXT.INVLPG_ALL:
      return exact(0, 'flush');
    case MMUEXT.TLB_FLUSH_MULTI: case MMUEXT.INVLPG_MULTI:
      // vcpumask_to_pcpumask's -EFAULT sets okay = 0 with rc 0: -EINVAL (mm.c:3201-3205, 3410-3414).
      return exact(op.vcpumask === undefined ? -EINVAL : 0, 'flush to a vcpumask');
    case MMUEXT.FLUSH_CACHE:
      return exact(-EINVAL, 'FLUSH_CACHE: !cache_flush_permitted');
    case MMUEXT.CLEAR_PAGE:
      if (!v.getPage(m, d)) return exact(-EINVAL, 'CLEAR_PAGE: not the domain\'s');
      return exact(v.getType(m, PGT_writable) === 'ok' ? 0 : -EINVAL, 'CLEAR_PAGE: get_page_type(writable)');
    case MMUEXT.COPY_PAGE: {
      const src = op.src_mfn ?? 0;
      if (!v.getPage(src, d)) return exact(-EINVAL, 'COPY_PAGE: source not the domain\'s');
      if (!v.getPage(m, d)) return exact(-EINVAL, 'COPY_PAGE: destination not the domain\'s');
      return exact(v.getType(m, PGT_writable) === 'ok' ? 0 : -EINVAL, 'COPY_PAGE: get_page_type(writable)');
    }
    case MMUEXT.MARK_SUPER: case MMUEXT.UNMARK_SUPER:
      if (m % 512 !== 0) return exact(-EINVAL, 'unaligned superpage');
      return exact(-ENOSYS, 'superpages disallowed');
    default:
      if (op.cmd === MMUEXT.SET_LDT || op.cmd === MMUEXT.FLUSH_CACHE_GLOBAL) throw new Error(`oracle: command ${op.cmd} not covered`);
      return exact(-ENOSYS, 'invalid command');
  }
}

/** update_va_mapping (__do_update_va_mapping, mm.c:4198-4285) in the current (kernel) page tables. */
function update_va_mapping(host: XenHost, vcpu: PvVcpu, d: number, va: bigint, val: bigint, flags: number, mask: readonly number[] | undefined): Prediction {
  const v = new View(host, d);
  const a = Number(va & ((1n << 48n) - 1n)); // VADDR_MASK
  const i4 = Math.floor(a / 2 ** 39) % 512;
  const i3 = Math.floor(a / 2 ** 30) % 512;
  const i2 = Math.floor(a / 2 ** 21) % 512;
  const i1 = Math.floor(a / 2 ** 12) % 512;
  let rc = -EINVAL;
  let why = 'guest_map_l1e: no L1';
  // guest_map_l1e reads the L2 entry through the linear map: L4 and L3 entries must be present.
  const l4 = vcpu.guestTable;
  const e4 = v.word(l4, 2 * i4);
  if ((e4 & _PAGE_PRESENT) !== 0) {
    const l3 = mfnOf(e4, v.word(l4, 2 * i4 + 1));
    const e3 = v.word(l3, 2 * i3);
    if ((e3 & _PAGE_PRESENT) !== 0) {
      const l2 = mfnOf(e3, v.word(l3, 2 * i3 + 1));
      const e2 = v.word(l2, 2 * i2);
      if ((e2 & (_PAGE_PRESENT | _PAGE_PSE)) === _PAGE_PRESENT) {
        const l1 = mfnOf(e2, v.word(l2, 2 * i2 + 1));
        if (!v.valid(l1) || !v.getPage(l1, d)) why = 'get_page_from_pagenr(gl1mfn) fails';
        else if (!((v.typeByte(l1) & T_VALIDATED) !== 0 && v.typeCount(l1) > 0)) why = 'page_lock fails';
        else if ((v.typeByte(l1) & T_MASK) !== 1) why = 'not an L1';
        else {
          rc = mod_l1_entry(v, l1, i1, Number(val & 0xffffffffn), Number((val >> 32n) & 0xffffffffn), d);
          why = 'mod_l1_entry';
        }
      }
    }
  }
  const ft = flags & UVMF_FLUSHTYPE_MASK;
  if (ft === UVMF_TLB_FLUSH || ft === UVMF_INVLPG) {
    const bmap = flags & ~UVMF_FLUSHTYPE_MASK;
    if (bmap !== UVMF_LOCAL && bmap !== UVMF_ALL) {
      return exact(mask === undefined ? -EFAULT : 0, `${why}; then vcpumask_to_pcpumask overwrites rc`);
    }
  }
  return exact(rc, why);
}

export interface OracleCall { op: number; args: unknown[] }

/** The prediction for one hypercall of the fuzz (mmu_update 1, update_va_mapping 14, mmuext_op 26). */
export function predict(host: XenHost, dom: Domain, vcpu: PvVcpu, call: OracleCall): Prediction {
  const d = dom.domid;
  const a = call.args;
  switch (call.op) {
    case 1: {
      const [req] = a[0] as Array<{ ptr: bigint; val: bigint }>;
      return mmu_update(host, d, req.ptr, req.val, (a[3] as number | undefined) ?? DOMID_SELF);
    }
    case 26: {
      const [op] = a[0] as Array<{ cmd: number; mfn: number; src_mfn?: number; vcpumask?: readonly number[] }>;
      return mmuext_op(host, d, op, (a[3] as number | undefined) ?? DOMID_SELF);
    }
    case 14:
      return update_va_mapping(host, vcpu, d, a[0] as bigint, a[1] as bigint, a[2] as number, a[3] as readonly number[] | undefined);
    default:
      throw new Error(`oracle: hypercall ${call.op} not covered`);
  }
}

/** Whether an observed code agrees with a prediction. */
export function agrees(p: Prediction, rc: number): boolean {
  return 'exact' in p ? p.exact === rc : p.oneOf.includes(rc);
}

export function explain(p: Prediction): string {
  return 'exact' in p ? `${p.exact} (${p.why})` : `one of ${p.oneOf.join(', ')} (${p.why})`;
}
