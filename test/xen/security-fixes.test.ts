/**
 * Two holes that every 4.2.x release has, in the fast paths of mod_l2_entry .. mod_l4_entry
 * (RELEASE-4.2.0 xen/arch/x86/mm.c), shown from a guest's side: XSA-148 (a superpage made out of
 * an existing L2 entry) and XSA-182 (RW added to a read-only linear mapping). In each the guest
 * ends up with a writable mapping of one of its page-table frames and writes the table behind
 * Xen's back. The host applies the upstream fixes only when asked (`patches`); then the same
 * request is refused with the patched Xen's error and message.
 */
import { describe, expect, it } from 'vitest';
import { EINVAL } from '../../lib/xen';
import { InvariantChecker } from './invariants';
import { A, P, PSE, RW, VIRT_BASE48, firstFreePfn, makeGuest, pte, readEntry, vaOfPfn, write, type Guest } from './helpers';
import type { XenPatch } from '../../lib/xen';

function checker(g: Guest, frames: number[]): InvariantChecker {
  const tables = [...Array(g.layout.pgtables.pages).keys()].map((i) => g.domain.pfnToMfn(g.layout.pgtables.pfn + i));
  return new InvariantChecker(g.host, g.domain, g.vcpu, [...tables, ...frames]);
}

/** The frame of the table one level below `level` on the way to `va48`, and the index at `level`. */
function tableOf(g: Guest, va48: number, level: number): { mfn: number; index: number } {
  let mfn = g.vcpu.guestTable;
  for (let l = 4; l > level; l--) {
    const e = readEntry(g, mfn, Math.floor(va48 / 2 ** (12 + 9 * (l - 1))) % 512);
    mfn = Number((e >> 12n) & 0xffffffffffn);
  }
  return { mfn, index: Math.floor(va48 / 2 ** (12 + 9 * (level - 1))) % 512 };
}

// ---- XSA-148 ---------------------------------------------------------------------------------
// RELEASE-4.2.0 xen/arch/x86/mm.c:171: L2_DISALLOW_MASK is base_disallow_mask & ~_PAGE_PSE, so
// _PAGE_PSE passes mod_l2_entry's flag check (1927-1932); its fast path (1934-1941) compares only
// the frame and _PAGE_PRESENT, so an existing entry gains PSE without get_page_from_l2e (whose
// "Attempt to map superpage without allowsuperpage flag in hypervisor", 998-999, only a fresh
// entry meets). Commit fe360c90ea (XSA-148) puts PSE back into L2_DISALLOW_MASK unless
// allowsuperpage: "Bad L2 flags 80" at the flag check, -EINVAL.
describe('XSA-148: mod_l2_entry\'s fast path turns an L2 entry into a writable superpage', () => {
  const VA = VIRT_BASE48 + 500 * 2 ** 21; // L2 slot 500 of the kernel's L2 (empty)
  const setup = (patches: XenPatch[]): { g: Guest; l2: number; slot: number; l1: number } => {
    const g = makeGuest({ domid: 1, host: { patches } });
    const pfn = Math.ceil(firstFreePfn(g) / 512) * 512; // a 2 MiB-aligned frame: a superpage's base
    const l1 = g.domain.pfnToMfn(pfn);
    expect(l1 % 512).toBe(0);
    const { mfn: l2, index: slot } = tableOf(g, VA, 2);
    expect(readEntry(g, l2, slot)).toBe(0n);
    expect(write(g, l1, 0, pte(g.domain.pfnToMfn(0x10), P | RW | A))).toBe(0);
    expect(write(g, l2, slot, pte(l1, P | RW | A))).toBe(0); // l1 validated: now an L1 page table
    expect(g.host.pageInfo(l1).type).toBe('PGT_l1_page_table');
    return { g, l2, slot, l1 };
  };

  it('4.2.0 as released: PSE is accepted on the existing entry, and the guest writes its L1 through it', () => {
    const { g, l2, slot, l1 } = setup([]);
    expect(write(g, l2, slot, pte(l1, P | RW | A | PSE))).toBe(0);
    const forged = pte(g.vcpu.guestTable, P | RW); // an RW mapping of the guest's own L4
    g.vcpu.write64(VA, forged); // the superpage's first 4 KiB are the L1 itself
    expect(readEntry(g, l1, 0)).toBe(forged);
    expect(g.host.pageInfo(l1).type).toBe('PGT_l1_page_table'); // Xen still counts it as a validated L1
    expect(g.host.console.lines).toEqual([]);
    expect(checker(g, [l1]).check().join('\n')).toMatch(/superpage/);
  });

  it('4.2.0 as released: a fresh PSE entry still meets get_page_from_l2e\'s refusal', () => {
    const g = makeGuest({ domid: 1 });
    const { mfn: l2, index: slot } = tableOf(g, VA, 2);
    const base = g.domain.pfnToMfn(Math.ceil(firstFreePfn(g) / 512) * 512);
    expect(write(g, l2, slot, pte(base, P | RW | A | PSE))).toBe(-EINVAL);
    expect(g.host.console.lines).toEqual([
      '(XEN) mm.c:999:d1 Attempt to map superpage without allowsuperpage flag in hypervisor',
    ]);
  });

  it('with the XSA-148 patch: refused at mod_l2_entry\'s flag check, "Bad L2 flags 80", -EINVAL', () => {
    const { g, l2, slot, l1 } = setup(['xsa-148']);
    expect(write(g, l2, slot, pte(l1, P | RW | A | PSE))).toBe(-EINVAL);
    expect(g.host.console.lines).toEqual(['(XEN) mm.c:1930:d1 Bad L2 flags 80']);
    const entry = readEntry(g, l1, 0);
    g.vcpu.write64(VA, 0x1234n); // through the L1, as before: the data frame at guest pfn 0x10
    expect(readEntry(g, l1, 0) & ~0x60n).toBe(entry & ~0x60n); // the same entry (the MMU sets A/D)
    expect(g.host.memory.read64(BigInt(g.domain.pfnToMfn(0x10)) * 4096n)).toBe(0x1234n);
  });

  it('with both patches (as the fuzz runs): refused the same way', () => {
    const { g, l2, slot, l1 } = setup(['xsa-148', 'xsa-182']);
    expect(write(g, l2, slot, pte(l1, P | RW | A | PSE))).toBe(-EINVAL);
    expect(checker(g, [l1]).check()).toEqual([]);
  });
});

// ---- XSA-182 ---------------------------------------------------------------------------------
// RELEASE-4.2.0 xen/arch/x86/mm.c:2072-2078: mod_l4_entry's fast path compares only the frame and
// _PAGE_PRESENT, so RW can be added to a read-only linear self-map, which get_l4_linear_pagetable
// (the macro at 749-795, invoked at 1038) allows only read-only. (mod_l1_entry's fast path,
// 1852-1853, already compares _PAGE_RW in 4.2.0: the L1 form of the hole needs no patch.)
// Commit e1bff4c2ea (XSA-182) lets only NX, AVAIL, GLOBAL, DIRTY, ACCESSED and USER change on the
// fast path: the update is revalidated and get_l4_linear_pagetable refuses it ("Attempt to create
// linear p.t. with write perms", printed with line 1038), -EINVAL.
describe('XSA-182: the fast path lets RW onto a read-only linear self-map', () => {
  const SLOT = 100;
  const SELF = (((SLOT * 512 + SLOT) * 512 + SLOT) * 512 + SLOT) * 4096; // (100,100,100,100): the L4 as data
  const setup = (patches: XenPatch[]): { g: Guest; l4: number } => {
    const g = makeGuest({ domid: 1, host: { patches } });
    const l4 = g.vcpu.guestTable;
    expect(readEntry(g, l4, SLOT)).toBe(0n);
    expect(write(g, l4, SLOT, pte(l4, P | A))).toBe(0); // a read-only self-map: allowed
    return { g, l4 };
  };

  it('4.2.0 as released: RW is accepted, and the guest writes its own L4 through the self-map', () => {
    const { g, l4 } = setup([]);
    expect(write(g, l4, SLOT, pte(l4, P | RW | A))).toBe(0);
    const forged = pte(g.domain.pfnToMfn(0x10), P | RW);
    g.vcpu.write64(SELF + 101 * 8, forged); // L4 slot 101, written as plain memory
    expect(readEntry(g, l4, 101)).toBe(forged);
    expect(g.host.console.lines).toEqual([]);
    expect(checker(g, []).check().join('\n')).toMatch(/writable linear self-map/);
  });

  it('with the XSA-182 patch: revalidated and refused (-EINVAL), the L4 stays out of reach', () => {
    const { g, l4 } = setup(['xsa-182']);
    expect(write(g, l4, SLOT, pte(l4, P | RW | A))).toBe(-EINVAL);
    expect(g.host.console.lines).toEqual(['(XEN) mm.c:1038:d1 Attempt to create linear p.t. with write perms']);
    expect(() => g.vcpu.write64(SELF + 101 * 8, 1n)).toThrowError(expect.objectContaining({ name: 'DomainCrashed' }));
    expect(readEntry(g, l4, 101)).toBe(0n);
  });

  it('with both patches: refused the same way; on a 4.2.2 host the line is 4.2.2\'s (1052)', () => {
    const { g, l4 } = setup(['xsa-148', 'xsa-182']);
    expect(write(g, l4, SLOT, pte(l4, P | RW | A))).toBe(-EINVAL);
    expect(checker(g, []).check()).toEqual([]);
    const g2 = makeGuest({ domid: 1, host: { release: '4.2.2', patches: ['xsa-182'] } });
    const l4b = g2.vcpu.guestTable;
    expect(write(g2, l4b, SLOT, pte(l4b, P | A))).toBe(0);
    expect(write(g2, l4b, SLOT, pte(l4b, P | RW | A))).toBe(-EINVAL);
    expect(g2.host.console.lines).toEqual(['(XEN) mm.c:1052:d1 Attempt to create linear p.t. with write perms']);
    void vaOfPfn;
  });
});
