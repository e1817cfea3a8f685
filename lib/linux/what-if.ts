/**
 * What-ifs: the fixes an engineer looking at the crash of 8170e6bed465 under Xen could have tried,
 * each as a routine override of the variant (the fields of KernelVariant that say which version
 * of a routine the kernel runs). The kernel consults the variant; a what-if only changes that data.
 * Each carries the one change a patch would make, in words.
 */
import { LabError, describeValue } from '../errors';
import type { Platform } from './kernel';
import type { KernelVariant, VariantId } from './variants';

export type WhatIfName = 'guard-user-pgd' | 'no-reload-under-xen' | 'pf-gate-early' | 'xen-write-cr3-init';

/** The routine fields a what-if may override. */
export type RoutineOverride = Partial<Pick<KernelVariant, 'pfGate' | 'initMemMappingEnd' | 'xenEarlyWriteCr3' | 'xenGetUserPgd'>>;

export interface WhatIf {
  name: WhatIfName;
  /** what the engineer would write, in one sentence */
  patch: string;
  override: RoutineOverride;
  /** the variants and platforms where the override means something */
  variants: readonly VariantId[];
  platforms: readonly Platform[];
}

export const WHAT_IFS: Readonly<Record<WhatIfName, WhatIf>> = {
  'guard-user-pgd': {
    name: 'guard-user-pgd',
    // arch/x86/xen/mmu.c: in xen_get_user_pgd, "if the struct pages are not there yet, there is no
    // user pgd either: return NULL" (a flag xen_post_allocator_init sets)
    patch: 'xen_get_user_pgd returns NULL (no user pgd) until xen_post_allocator_init has run',
    override: { xenGetUserPgd: 'guarded' },
    variants: ['8170e6bed465'],
    platforms: ['xen'],
  },
  'no-reload-under-xen': {
    name: 'no-reload-under-xen',
    // arch/x86/mm/init.c: in init_mem_mapping, "if (!xen_pv_domain()) load_cr3(swapper_pg_dir);"
    // (a PV guest already runs on swapper_pg_dir: xen_setup_kernel_pagetable loaded it)
    patch: 'init_mem_mapping skips load_cr3(swapper_pg_dir) when xen_pv_domain()',
    override: { initMemMappingEnd: 'load_cr3-unless-xen-pv' },
    variants: ['8170e6bed465'],
    platforms: ['xen'],
  },
  'pf-gate-early': {
    name: 'pf-gate-early',
    // arch/x86/kernel/traps.c: put set_intr_gate(X86_TRAP_PF, &page_fault) back in early_trap_init
    // on 64-bit, as 3.8 had it, keeping 8170e6bed465's CR3 load in init_mem_mapping
    patch: "the 64-bit #PF gate set in early_trap_init again (3.8's gate order), with 8170e6bed465's CR3 load",
    override: { pfGate: 'early_trap_init' },
    variants: ['8170e6bed465'],
    platforms: ['xen'],
  },
  'xen-write-cr3-init': {
    name: 'xen-write-cr3-init',
    // arch/x86/xen/mmu.c: 5b5c1af104ab's change, .write_cr3 = xen_write_cr3_init until
    // xen_post_allocator_init installs xen_write_cr3
    patch: "5b5c1af104ab's change: write_cr3 is xen_write_cr3_init until xen_post_allocator_init",
    override: { xenEarlyWriteCr3: 'xen_write_cr3_init' },
    variants: ['8170e6bed465'],
    platforms: ['xen'],
  },
};

export const WHAT_IF_NAMES = Object.keys(WHAT_IFS) as WhatIfName[];

/** The what-if with this name; UNKNOWN_WHAT_IF (listing the names) otherwise. */
export function whatIfByName(name: unknown): WhatIf {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(WHAT_IFS, name)) {
    throw new LabError('UNKNOWN_WHAT_IF', `whatIf must be one of ${WHAT_IF_NAMES.join(', ')}; got ${describeValue(name)}`);
  }
  return WHAT_IFS[name as WhatIfName];
}

/** Refuses a what-if on a variant or platform where it means nothing (WHAT_IF_NOT_APPLICABLE). */
export function checkWhatIfApplies(w: WhatIf, variant: VariantId, platform: Platform): void {
  if (!w.variants.includes(variant) || !w.platforms.includes(platform)) {
    throw new LabError('WHAT_IF_NOT_APPLICABLE',
      `what-if '${w.name}' is a change to ${w.variants.join(', ')} on ${w.platforms.join(', ')}; got variant ${variant} on ${platform}`);
  }
}

/** The variant with the what-if's routine overrides applied (the variant itself when none). */
export function applyWhatIf(v: KernelVariant, name: string | null): KernelVariant {
  if (name === null) return v;
  const w = whatIfByName(name);
  return { ...v, ...w.override, whatIf: w.name };
}
