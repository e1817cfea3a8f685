/**
 * The seed's figures (shared/seed/commit-message.txt), as Xen 4.2 printed them (the seed's copy
 * collapsed the double spaces of the version line; Konrad Wilk's report of 22 Feb 2013 has them).
 * Tests compare the model's output with these; lib/ never contains them.
 */
export const SEED_XEN_LINES = [
  '(XEN) d7:v0: unhandled page fault (ec=0000)',
  '(XEN) Pagetable walk from ffffea000005b2d0:',
  '(XEN)  L4[0x1d4] = 0000000000000000 ffffffffffffffff',
  '(XEN) domain_crash_sync called from entry.S',
  '(XEN) Domain 7 (vcpu#0) crashed on cpu#3:',
  '(XEN) ----[ Xen-4.2.0  x86_64  debug=n  Not tainted ]----',
] as const;

/** The seed's call stack, innermost first, as `symbol+offset`. */
export const SEED_FRAMES = ['xen_get_user_pgd+0x5a', 'xen_write_cr3+0x77', 'init_mem_mapping+0x1f9', 'setup_arch+0x742'] as const;
