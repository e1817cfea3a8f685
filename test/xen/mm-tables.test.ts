/**
 * lib/xen/mm/tables.ts: alloc_l4_table's Xen slots (xen/arch/x86/mm.c:1595-1603 at RELEASE-4.2.0)
 * checked against test/xen/oracle-xen-slots.ts (written from asm-x86/config.h and page.h, not
 * from the model) for frames above 4 GiB, where an L4 entry's frame number spills into its high
 * word (bits 51:32 of the entry: l4e_from_pfn, asm-x86/x86_64/page.h), and with guest slots that
 * hold something: alloc_l4_table writes slots 256..271 and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { install_xen_slots } from '../../lib/xen/mm/tables';
import { ROOT_PAGETABLE_FIRST_XEN_SLOT, ROOT_PAGETABLE_LAST_XEN_SLOT, xenSlotsFromSource } from './oracle-xen-slots';
import { makeGuest } from './helpers';

describe('install_xen_slots (alloc_l4_table, mm.c:1595-1603 at 4.2.0)', () => {
  for (const [l4, per] of [[0x100123, 0x2fffff], [0x7ff, 0x100000], [0x345678, 0x12]]) {
    it(`an L4 at mfn ${l4.toString(16)}, per-domain L3 at ${per.toString(16)}: slots 256..271 as the source says, guest slots untouched`, () => {
      const g = makeGuest();
      g.domain.perdomainL3Mfn = per;
      const words = new Uint32Array(1024);
      for (let i = 0; i < 1024; i++) words[i] = (0x9e3779b9 * (i + 1)) >>> 0; // every guest word distinct
      const before = words.slice();
      install_xen_slots(g.host, words, l4, g.domain.domid);
      const first = ROOT_PAGETABLE_FIRST_XEN_SLOT * 2;
      const end = (ROOT_PAGETABLE_LAST_XEN_SLOT + 1) * 2;
      expect([...words.subarray(first, end)]).toEqual([...xenSlotsFromSource(g.host, l4, per)]);
      expect([...words.subarray(0, first), ...words.subarray(end)]).toEqual([...before.subarray(0, first), ...before.subarray(end)]);
    });
  }
});
