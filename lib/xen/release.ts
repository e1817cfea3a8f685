/**
 * The Xen releases the model follows, as data: the version the banner prints, the line of every
 * MEM_LOG the model prints (xen/arch/x86/mm.c at the release's tag), and the behaviours that
 * differ between the releases on the paths the model runs. And the two security patches that no
 * 4.2.x release had, which a host may apply: XSA-148 and XSA-182.
 *
 * MEM_LOG is gdprintk, whose format carries __LINE__. The compilers of the time (GCC 4.x libcpp,
 * _cpp_builtin_macro_text, BT_SPECLINE) expand __LINE__ to the line of the last token read from
 * the file, which for a call spread over several lines is the line of its closing parenthesis; and
 * for a MEM_LOG inside a macro body (define_get_linear_pagetable) the line of that macro's
 * invocation. The tables below hold those lines; the comments give the line the call starts on.
 * 4.1.5-pre is the stable-4.1 tree the dom0 report's Xen was built from: its banner names the
 * changeset of 15 February 2013 (git b39efd3dff, between RELEASE-4.1.4 and RELEASE-4.1.5); xen/Makefile
 * there says XEN_EXTRAVERSION .5-pre.
 * // xen/arch/x86/mm.c, xen/Makefile (XEN_EXTRAVERSION) (Xen 4.1.5-pre at b39efd3dff, 4.2.0 and 4.2.2)
 */
import { LabError, describeValue } from '../errors';

/** The releases the model follows. */
export const XEN_RELEASES = ['4.1.5-pre', '4.2.0', '4.2.2'] as const;
export type XenRelease = (typeof XEN_RELEASES)[number];

/** The patches a host may apply (none is in any 4.2.x release). */
export const XEN_PATCHES = ['xsa-148', 'xsa-182'] as const;
export type XenPatch = (typeof XEN_PATCHES)[number];

/** Every MEM_LOG call site the model prints, by the message it logs. */
export type MemLogSite =
  | 'could_not_get_page_ref'          // get_page_from_pagenr
  | 'linear_write_perms_l2'           // get_l2_linear_pagetable (define_get_linear_pagetable(l2))
  | 'linear_write_perms_l3'
  | 'linear_write_perms_l4'
  | 'get_l1e_bad_flags'               // get_page_from_l1e
  | 'get_l1e_iomem'
  | 'get_l1e_wrong_owner'
  | 'get_l1e_not_writable'
  | 'get_l1e_could_not_pin'
  | 'get_l2e_bad_flags'               // get_page_from_l2e
  | 'get_l2e_no_superpages'
  | 'get_l2e_unaligned_superpage'
  | 'get_l3e_bad_flags'
  | 'get_l4e_bad_flags'
  | 'alloc_l1_failure'
  | 'alloc_l2_failure'
  | 'alloc_l3_failure'
  | 'alloc_l4_failure'
  | 'mod_l1_bad_flags'                // mod_l1_entry .. mod_l4_entry
  | 'mod_l2_bad_flags'
  | 'mod_l3_bad_flags'
  | 'mod_l4_xen_slot'
  | 'mod_l4_bad_flags'
  | 'validation_error'                // alloc_page_type
  | 'type_count_overflow'             // __get_page_type
  | 'bad_type'
  | 'new_baseptr'                     // new_guest_cr3
  | 'pg_owner_itself'                 // get_pg_owner
  | 'pg_owner_xen'
  | 'pg_owner_unknown'
  | 'pg_owner_not_priv'
  | 'pin_error'                       // do_mmuext_op
  | 'pin_already'
  | 'unpin_bad_domain'
  | 'unpin_not_pinned'
  | 'new_user_baseptr'
  | 'flush_cache'
  | 'flush_cache_global'
  | 'set_ldt_bad_args'
  | 'clear_page'
  | 'copy_from'
  | 'copy_to'
  | 'mark_super_unaligned'
  | 'mark_super_disallowed'
  | 'unmark_super_unaligned'
  | 'unmark_super_disallowed'
  | 'mmuext_invalid_cmd'
  | 'normal_update_no_page'           // do_mmu_update
  | 'machphys_no_page'
  | 'mmu_update_invalid_cmd'
  | 'ptwr_could_not_get';             // ptwr_emulated_update

/** What differs between the releases, for one release. */
export interface XenReleaseFacts {
  release: XenRelease;
  /** The banner's version: XEN_VERSION, XEN_SUBVERSION, XEN_EXTRAVERSION (xen/Makefile). */
  version: { major: number; minor: number; extra: string };
  /** The mm.c line each MEM_LOG prints (the __LINE__ its call expands to). */
  memLog: Readonly<Record<MemLogSite, number>>;
  /**
   * do_mmuext_op, MMUEXT_PIN_*: when get_page_from_gfn fails, 4.2.0 sets rc = -EINVAL but leaves
   * `okay` set, so the batch goes on (and counts the op as done); 4.2.2 fails the op.
   */
  pinBadFrameFailsOp: boolean;
  /**
   * do_mmuext_op, MMUEXT_UNPIN_TABLE: when get_page_from_gfn fails, 4.2.0 logs "Mfn %lx bad domain"
   * and leaves `okay` set (the op succeeds); 4.2.2 fails it.
   */
  unpinBadFrameFailsOp: boolean;
  /**
   * do_mmuext_op, MMUEXT_PIN_* and MMUEXT_UNPIN_TABLE take the frame with get_page_from_pagenr
   * (4.1: a bad frame also logs "Could not get page ref for pfn"), not get_page_from_gfn (4.2).
   */
  mmuextFramesViaPagenr: boolean;
  /**
   * get_page_from_l1e: 4.2 logs its own line for a frame of another owner ("pg_owner %d l1e_owner
   * %d, but real_pg_owner %d") and for a frame that cannot be typed writable, before could_not_pin;
   * 4.1 goes straight to could_not_pin.
   */
  l1eOwnerAndTypeLines: boolean;
  /**
   * use_xsave's default (xen/arch/x86/cpu/common.c): 4.1 uses XSAVE (and sets CR4.OSXSAVE) only
   * with `xsave` on its command line; 4.2 by default.
   */
  xsaveByDefault: boolean;
  /**
   * 4.1's mod_l1_entry and mod_l2_entry return a boolean: any failed L1/L2 update of do_mmu_update
   * and do_update_va_mapping comes back as -EINVAL; 4.2 passes their -EBUSY/-EPERM/-EFAULT/... up.
   */
  l1l2UpdateErrorsEinval: boolean;
}

// Lines at b39efd3dff (4.1.5-pre, xen/arch/x86/mm.c). 4.1's get_page_from_l1e has no line of its own
// for a foreign or non-writable frame (both go to could_not_pin), so those two sites print nothing
// (their entries hold 0 and l1eOwnerAndTypeLines is false).
const MEM_LOG_4_1_5_PRE: Record<MemLogSite, number> = {
  could_not_get_page_ref: 659,
  linear_write_perms_l2: 926, // MEM_LOG inside the macro; invoked at 926
  linear_write_perms_l3: 968,
  linear_write_perms_l4: 993,
  get_l1e_bad_flags: 807,
  get_l1e_iomem: 826, // 825
  get_l1e_wrong_owner: 0,
  get_l1e_not_writable: 0,
  get_l1e_could_not_pin: 918, // 915
  get_l2e_bad_flags: 939,
  get_l2e_no_superpages: 954, // 953
  get_l2e_unaligned_superpage: 960,
  get_l3e_bad_flags: 980,
  get_l4e_bad_flags: 1005,
  alloc_l1_failure: 1233,
  alloc_l2_failure: 1377,
  alloc_l3_failure: 1487,
  alloc_l4_failure: 1534,
  mod_l1_bad_flags: 1795, // 1794
  mod_l2_bad_flags: 1863, // 1862
  mod_l3_bad_flags: 1929, // 1928
  mod_l4_xen_slot: 1988,
  mod_l4_bad_flags: 2000, // 1999
  validation_error: 2188, // 2185
  type_count_overflow: 2371,
  bad_type: 2435, // 2432
  new_baseptr: 2763,
  pg_owner_itself: 2799,
  pg_owner_xen: 2817,
  pg_owner_unknown: 2825,
  pg_owner_not_priv: 2830,
  pin_error: 2996,
  pin_already: 3012,
  unpin_bad_domain: 3047,
  unpin_not_pinned: 3057,
  new_user_baseptr: 3088,
  flush_cache: 3146,
  flush_cache_global: 3171,
  set_ldt_bad_args: 3191,
  clear_page: 3216,
  copy_from: 3241,
  copy_to: 3251,
  mark_super_unaligned: 3278,
  mark_super_disallowed: 3285,
  unmark_super_unaligned: 3304,
  unmark_super_disallowed: 3311,
  mmuext_invalid_cmd: 3324,
  normal_update_no_page: 3470,
  machphys_no_page: 3652,
  mmu_update_invalid_cmd: 3671,
  ptwr_could_not_get: 5005,
};

// Lines at RELEASE-4.2.0 (xen/arch/x86/mm.c). Where a call spans lines, its first line follows.
const MEM_LOG_4_2_0: Record<MemLogSite, number> = {
  could_not_get_page_ref: 695,
  linear_write_perms_l2: 971, // MEM_LOG at 760 inside the macro; invoked at 971
  linear_write_perms_l3: 1013,
  linear_write_perms_l4: 1038,
  get_l1e_bad_flags: 843,
  get_l1e_iomem: 863, // 862
  get_l1e_wrong_owner: 892, // 890
  get_l1e_not_writable: 911,
  get_l1e_could_not_pin: 963, // 960
  get_l2e_bad_flags: 984,
  get_l2e_no_superpages: 999, // 998
  get_l2e_unaligned_superpage: 1005,
  get_l3e_bad_flags: 1025,
  get_l4e_bad_flags: 1050,
  alloc_l1_failure: 1281,
  alloc_l2_failure: 1427,
  alloc_l3_failure: 1537,
  alloc_l4_failure: 1584,
  mod_l1_bad_flags: 1846, // 1845
  mod_l2_bad_flags: 1930, // 1929
  mod_l3_bad_flags: 1997, // 1996
  mod_l4_xen_slot: 2056,
  mod_l4_bad_flags: 2068, // 2067
  validation_error: 2256, // 2253
  type_count_overflow: 2439,
  bad_type: 2505, // 2502
  new_baseptr: 2833,
  pg_owner_itself: 2869,
  pg_owner_xen: 2887,
  pg_owner_unknown: 2895,
  pg_owner_not_priv: 2900,
  pin_error: 3071,
  pin_already: 3086,
  unpin_bad_domain: 3120,
  unpin_not_pinned: 3128,
  new_user_baseptr: 3166,
  flush_cache: 3224,
  flush_cache_global: 3250,
  set_ldt_bad_args: 3270,
  clear_page: 3295,
  copy_from: 3321,
  copy_to: 3332,
  mark_super_unaligned: 3359,
  mark_super_disallowed: 3366,
  unmark_super_unaligned: 3385,
  unmark_super_disallowed: 3392,
  mmuext_invalid_cmd: 3405,
  normal_update_no_page: 3549,
  machphys_no_page: 3652,
  mmu_update_invalid_cmd: 3672,
  ptwr_could_not_get: 5041,
};

// Lines at RELEASE-4.2.2 (xen/arch/x86/mm.c). 4.2.2 adds a MEM_LOG to get_page_from_l1e (for a
// foreign pg_owner without I/O permission, at 875-877) that a domU's requests never reach.
const MEM_LOG_4_2_2: Record<MemLogSite, number> = {
  could_not_get_page_ref: 696,
  linear_write_perms_l2: 985, // MEM_LOG at 761 inside the macro; invoked at 985
  linear_write_perms_l3: 1027,
  linear_write_perms_l4: 1052,
  get_l1e_bad_flags: 844,
  get_l1e_iomem: 864, // 863
  get_l1e_wrong_owner: 906, // 904
  get_l1e_not_writable: 925,
  get_l1e_could_not_pin: 977, // 974
  get_l2e_bad_flags: 998,
  get_l2e_no_superpages: 1013, // 1012
  get_l2e_unaligned_superpage: 1019,
  get_l3e_bad_flags: 1039,
  get_l4e_bad_flags: 1064,
  alloc_l1_failure: 1295,
  alloc_l2_failure: 1441,
  alloc_l3_failure: 1551,
  alloc_l4_failure: 1598,
  mod_l1_bad_flags: 1860, // 1859
  mod_l2_bad_flags: 1944, // 1943
  mod_l3_bad_flags: 2011, // 2010
  mod_l4_xen_slot: 2070,
  mod_l4_bad_flags: 2082, // 2081
  validation_error: 2270, // 2267
  type_count_overflow: 2453,
  bad_type: 2519, // 2516
  new_baseptr: 2847,
  pg_owner_itself: 2883,
  pg_owner_xen: 2901,
  pg_owner_unknown: 2909,
  pg_owner_not_priv: 2914,
  pin_error: 3085,
  pin_already: 3100,
  unpin_bad_domain: 3135,
  unpin_not_pinned: 3143,
  new_user_baseptr: 3181,
  flush_cache: 3239,
  flush_cache_global: 3265,
  set_ldt_bad_args: 3285,
  clear_page: 3310,
  copy_from: 3336,
  copy_to: 3347,
  mark_super_unaligned: 3374,
  mark_super_disallowed: 3381,
  unmark_super_unaligned: 3400,
  unmark_super_disallowed: 3407,
  mmuext_invalid_cmd: 3420,
  normal_update_no_page: 3564,
  machphys_no_page: 3667,
  mmu_update_invalid_cmd: 3687,
  ptwr_could_not_get: 5056,
};

const FACTS: Record<XenRelease, XenReleaseFacts> = {
  '4.1.5-pre': {
    release: '4.1.5-pre',
    version: { major: 4, minor: 1, extra: '.5-pre' },
    memLog: MEM_LOG_4_1_5_PRE,
    // get_page_and_type_from_pagenr fails the pin (after "Could not get page ref"); the unpin's
    // get_page_from_pagenr clears okay
    pinBadFrameFailsOp: true,
    unpinBadFrameFailsOp: true,
    mmuextFramesViaPagenr: true,
    l1eOwnerAndTypeLines: false,
    xsaveByDefault: false,
    l1l2UpdateErrorsEinval: true,
  },
  '4.2.0': {
    release: '4.2.0',
    version: { major: 4, minor: 2, extra: '.0' },
    memLog: MEM_LOG_4_2_0,
    pinBadFrameFailsOp: false,
    unpinBadFrameFailsOp: false,
    mmuextFramesViaPagenr: false,
    l1eOwnerAndTypeLines: true,
    xsaveByDefault: true,
    l1l2UpdateErrorsEinval: false,
  },
  '4.2.2': {
    release: '4.2.2',
    version: { major: 4, minor: 2, extra: '.2' },
    memLog: MEM_LOG_4_2_2,
    pinBadFrameFailsOp: true,
    unpinBadFrameFailsOp: true,
    mmuextFramesViaPagenr: false,
    l1eOwnerAndTypeLines: true,
    xsaveByDefault: true,
    l1l2UpdateErrorsEinval: false,
  },
};

/** The default release: the one in the report's banner. */
export const DEFAULT_XEN_RELEASE: XenRelease = '4.2.0';

/** The facts of a release; LabError UNKNOWN_XEN_RELEASE for anything else. */
export function xenReleaseFacts(where: string, release: unknown): XenReleaseFacts {
  if (typeof release === 'string' && (XEN_RELEASES as readonly string[]).includes(release)) {
    return FACTS[release as XenRelease];
  }
  throw new LabError('UNKNOWN_XEN_RELEASE',
    `${where} must be one of ${XEN_RELEASES.map((r) => `'${r}'`).join(', ')} (the Xen releases the model follows); got ${describeValue(release)}`);
}

/**
 * A checked, de-duplicated patch list (in XEN_PATCHES order); LabError UNKNOWN_PATCH for an
 * unknown name, WRONG_TYPE for something that is not an array of strings.
 */
export function xenPatchList(where: string, patches: unknown): XenPatch[] {
  if (patches === undefined) return [];
  if (!Array.isArray(patches)) {
    throw new LabError('WRONG_TYPE', `${where} must be an array of patch names (${XEN_PATCHES.join(', ')}); got ${describeValue(patches)}`);
  }
  for (const p of patches) {
    if (typeof p !== 'string' || !(XEN_PATCHES as readonly string[]).includes(p)) {
      throw new LabError('UNKNOWN_PATCH',
        `${where}: ${describeValue(p)} is not a patch the model has; allowed: ${XEN_PATCHES.map((x) => `'${x}'`).join(', ')} (none is in any 4.1.x or 4.2.x release)`);
    }
  }
  return XEN_PATCHES.filter((p) => patches.includes(p));
}
