/**
 * What Xen's slots of a validated guest L4 must hold, from the source rather than from the model's
 * install_xen_slots. Xen 4.2.0's alloc_l4_table (xen/arch/x86/mm.c:1595-1603) copies
 * idle_pg_table[ROOT_PAGETABLE_FIRST_XEN_SLOT .. LAST] and then overwrites two slots:
 * l4_table_offset(LINEAR_PT_VIRT_START) with the L4's own frame and
 * l4_table_offset(PERDOMAIN_VIRT_START) with the domain's mm_perdomain_l3, both __PAGE_HYPERVISOR.
 * The slot numbers are computed here from asm-x86/config.h (4.2.0): PML4_ENTRY_BITS 39 (line 131),
 * PML4_ADDR(s) = ((s >> 8) * 0xffff000000000000) | (s << 39) (lines 134-136),
 * ROOT_PAGETABLE_FIRST/LAST_XEN_SLOT 256/271 (196-197), LINEAR_PT_VIRT_START PML4_ADDR(258) (215),
 * PERDOMAIN_VIRT_START PML4_ADDR(260) (221); l4_table_offset(a) = (a >> 39) & 511
 * (asm-x86/page.h). __PAGE_HYPERVISOR = PRESENT|RW|DIRTY|ACCESSED (asm-x86/page.h:350-351).
 * The inputs are state, not the model's rules: the host's idle table (what paging_init built) and
 * the domain's per-domain L3 frame (which must be a Xen frame).
 */
import { expect } from 'vitest';
import type { XenHost } from '../../lib/xen';

const PML4_ENTRY_BITS = 39n;
function PML4_ADDR(slot: bigint): bigint {
  return ((slot >> 8n) * 0xffff000000000000n) | (slot << PML4_ENTRY_BITS);
}
function l4_table_offset(a: bigint): number {
  return Number((a >> 39n) & 511n);
}
export const ROOT_PAGETABLE_FIRST_XEN_SLOT = 256;
export const ROOT_PAGETABLE_LAST_XEN_SLOT = 271;
export const LINEAR_SLOT = l4_table_offset(PML4_ADDR(258n));
export const PERDOMAIN_SLOT = l4_table_offset(PML4_ADDR(260n));
/** _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED */
export const __PAGE_HYPERVISOR = 0x001 | 0x002 | 0x040 | 0x020;
const DOMID_XEN = 0x7ff2;

/**
 * The 32 words (two per slot, slots 256..271) a validated L4 at `l4mfn` of a domain whose
 * per-domain L3 is `perdomainL3` must hold.
 */
export function xenSlotsFromSource(host: XenHost, l4mfn: number, perdomainL3: number): Uint32Array {
  const n = ROOT_PAGETABLE_LAST_XEN_SLOT - ROOT_PAGETABLE_FIRST_XEN_SLOT + 1;
  const out = new Uint32Array(n * 2);
  // memcpy from idle_pg_table (the host keeps its slots 256..271, two words each)
  out.set(host.idleXenSlots.subarray(0, n * 2));
  const put = (slot: number, mfn: number): void => {
    const i = (slot - ROOT_PAGETABLE_FIRST_XEN_SLOT) * 2;
    out[i] = ((mfn % 0x100000) * 4096 + __PAGE_HYPERVISOR) >>> 0; // l4e_from_pfn(mfn, __PAGE_HYPERVISOR)
    out[i + 1] = Math.floor(mfn / 0x100000);
  };
  put(LINEAR_SLOT, l4mfn);
  put(PERDOMAIN_SLOT, perdomainL3);
  return out;
}

/**
 * Facts about the inputs that hold independently of install_xen_slots: the per-domain L3 is a
 * Xen frame (alloc_xenheap_page), and the idle table's slots that alloc_l4_table keeps hold
 * Xen frames, present (paging_init maps the M2P, Xen's text and the direct map there).
 */
export function expectSaneXenInputs(host: XenHost, perdomainL3: number): void {
  expect(perdomainL3).toBeGreaterThan(0);
  expect(host.frameTable.owner[perdomainL3]).toBe(DOMID_XEN);
  const idle = host.idleXenSlots;
  // slot 256 (RO_MPT_VIRT_START): present; 262 (DIRECTMAP_VIRT_START): present
  for (const slot of [256, 262]) {
    const lo = idle[(slot - ROOT_PAGETABLE_FIRST_XEN_SLOT) * 2];
    expect(lo & 1).toBe(1);
    expect(host.frameTable.owner[lo >>> 12]).toBe(DOMID_XEN);
  }
}
