/**
 * HYPERVISOR_mmu_update (do_mmu_update) and the rules it enforces through mod_l1_entry ..
 * mod_l4_entry and get_page_from_l1e .. get_page_from_l4e (xen/arch/x86/mm.c).
 */
import { describe, expect, it } from 'vitest';
import {
  DOMID_IO, DOMID_SELF, DOMID_XEN, EBUSY, EINVAL, ENOSYS, EPERM, ESRCH, MMU_MACHPHYS_UPDATE, MMU_PT_UPDATE_PRESERVE_AD, XenHost, buildPvDomain,
  INVALID_M2P_ENTRY,
} from '../../lib/xen';
import { A, D, G, P, PCD, PSE, PWT, RW, US, entryPtr, freeMfn, makeGuest, pin, pinnedL1, pte, readEntry, write, type Guest } from './helpers';

describe('do_mmu_update: MMU_NORMAL_PT_UPDATE into frames that are not page tables', () => {
  it('writes a free frame (type none, count 0: get_page_type(PGT_writable_page) for the write)', () => {
    const g = makeGuest();
    const m = freeMfn(g, 0);
    expect(write(g, m, 3, 0x1234n)).toBe(0);
    expect(readEntry(g, m, 3)).toBe(0x1234n);
    expect(g.host.pageInfo(m).typeCount).toBe(0); // the type reference was only for the write
  });

  it('refuses a frame the domain does not own: -EINVAL ("Could not get page for normal update")', () => {
    const g = makeGuest();
    expect(write(g, 5, 0, 0n)).toBe(-EINVAL); // Xen's own frame
    expect(write(g, 2 ** 40, 0, 0n)).toBe(-EINVAL); // beyond the host
  });

  it('refuses an unknown command with -ENOSYS ("Invalid page update command")', () => {
    const g = makeGuest();
    expect(write(g, freeMfn(g, 0), 0, 0n, 3)).toBe(-ENOSYS);
  });

  it('refuses foreign domains for a domU: -ESRCH (get_pg_owner: not privileged / itself / DOMID_XEN)', () => {
    const g = makeGuest({ domid: 4 });
    const req = [{ ptr: entryPtr(freeMfn(g, 0), 0), val: 0n }];
    expect(g.vcpu.HYPERVISOR_mmu_update(req, 1, null, 4)).toBe(-ESRCH);
    expect(g.vcpu.HYPERVISOR_mmu_update(req, 1, null, 9)).toBe(-ESRCH);
    expect(g.vcpu.HYPERVISOR_mmu_update(req, 1, null, DOMID_XEN)).toBe(-ESRCH);
    expect(g.vcpu.HYPERVISOR_mmu_update(req, 1, null, DOMID_SELF)).toBe(0);
    // page tables of another domain (foreigndom >> 16): unknown -EINVAL, not privileged -ESRCH
    expect(g.vcpu.HYPERVISOR_mmu_update(req, 1, null, (100 + 1) << 16)).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_mmu_update(req, 1, null, (4 + 1) * 65536)).toBe(-ESRCH);
  });

  it('stops at the first failing request; *pdone counts the ones done', () => {
    const g = makeGuest();
    const m = freeMfn(g, 0);
    const done = { value: 0 };
    const rc = g.vcpu.HYPERVISOR_mmu_update([
      { ptr: entryPtr(m, 0), val: 1n }, { ptr: entryPtr(m, 1), val: 2n }, { ptr: entryPtr(5, 0), val: 3n }, { ptr: entryPtr(m, 2), val: 4n },
    ], 4, done);
    expect(rc).toBe(-EINVAL);
    expect(done.value).toBe(2);
    expect(readEntry(g, m, 1)).toBe(2n);
    expect(readEntry(g, m, 2)).toBe(0n);
  });
});

describe('mod_l1_entry / get_page_from_l1e', () => {
  it('installs an entry: a general reference, a writable type reference for RW; Xen adds _PAGE_USER', () => {
    const g = makeGuest();
    const l1 = pinnedL1(g);
    const target = g.domain.pfnToMfn(0x20);
    const before = g.host.pageInfo(target);
    expect(write(g, l1, 7, pte(target, P | RW | A))).toBe(0);
    const after = g.host.pageInfo(target);
    expect(after.refCount).toBe(before.refCount + 1);
    expect(after.typeCount).toBe(before.typeCount + 1);
    expect(after.type).toBe('PGT_writable_page');
    // adjust_guest_l1e: _PAGE_USER and _PAGE_GUEST_KERNEL (bit 52)
    expect(readEntry(g, l1, 7)).toBe(pte(target, P | RW | A | US) | (1n << 52n));
    // replacing it drops the old references
    expect(write(g, l1, 7, 0n)).toBe(0);
    expect(g.host.pageInfo(target)).toEqual(before);
  });

  it('refuses disallowed flags: PWT, PCD, PAT (L1_DISALLOW_MASK) -> -EINVAL; GLOBAL and NX are allowed', () => {
    const g = makeGuest();
    const l1 = pinnedL1(g);
    const t = g.domain.pfnToMfn(0x21);
    expect(write(g, l1, 8, pte(t, P | PWT))).toBe(-EINVAL);
    expect(write(g, l1, 8, pte(t, P | PCD))).toBe(-EINVAL);
    expect(write(g, l1, 8, pte(t, P | 0x80))).toBe(-EINVAL);
    expect(write(g, l1, 8, pte(t, P | G))).toBe(0);
    expect(write(g, l1, 8, pte(t, P, 0x80000000n))).toBe(0);
    expect(write(g, l1, 9, pte(t, P, 0x7ff00000n))).toBe(0); // bits 62:52 are the guest's
  });

  it('NX is a disallowed flag when the CPU has no NX', () => {
    const g = makeGuest({ host: { cpuHasNx: false } });
    const l1 = pinnedL1(g);
    expect(write(g, l1, 8, pte(g.domain.pfnToMfn(0x21), P, 0x80000000n))).toBe(-EINVAL);
  });

  it('never maps a page-table frame writable: -EBUSY (get_page_type(PGT_writable_page) fails)', () => {
    const g = makeGuest();
    const l1 = pinnedL1(g);
    expect(write(g, l1, 10, pte(l1, P | RW))).toBe(-EBUSY); // itself
    expect(write(g, l1, 10, pte(g.vcpu.guestTable, P | RW))).toBe(-EBUSY); // the L4
    expect(write(g, l1, 10, pte(g.vcpu.guestTable, P))).toBe(0); // read-only is fine
  });

  it('never maps another domain\'s or Xen\'s frame: -EBUSY; I/O memory: -EPERM', () => {
    const host = new XenHost();
    const mk = (domid: number): Guest => {
      const b = buildPvDomain(host, { domid, memoryBytes: 64 << 20, kernel: { virtBase: 0xffffffff80000000n, loadPfn: 0x1000, pages: 16, fill: () => {}, entry: 0xffffffff81000000n } });
      return { ...b, host, trace: host.trace as never };
    };
    const g1 = mk(1);
    const g2 = mk(2);
    const l1 = pinnedL1(g1);
    expect(write(g1, l1, 11, pte(g2.domain.pfnToMfn(0x10), P))).toBe(-EBUSY);
    expect(write(g1, l1, 11, pte(0x300, P))).toBe(-EBUSY); // a Xen heap frame
    expect(write(g1, l1, 11, pte(0x10, P))).toBe(-EPERM); // the first MiB is DOMID_IO's
    expect(write(g1, l1, 11, pte(host.maxPage + 5, P))).toBe(-EPERM); // beyond RAM: I/O space
    expect(write(g1, l1, 11, pte(2 ** 40 - 1, P))).toBe(-EINVAL); // the INVALID_MFN pattern
  });

  it('MMU_PT_UPDATE_PRESERVE_AD keeps the accessed and dirty bits already in the entry', () => {
    const g = makeGuest();
    const l1 = pinnedL1(g);
    const t = g.domain.pfnToMfn(0x22);
    expect(write(g, l1, 12, pte(t, P | RW | A | D))).toBe(0);
    expect(write(g, l1, 12, pte(t, P | RW), MMU_PT_UPDATE_PRESERVE_AD)).toBe(0);
    expect(readEntry(g, l1, 12) & BigInt(A | D)).toBe(BigInt(A | D));
    expect(write(g, l1, 12, pte(t, P | RW))).toBe(0);
    expect(readEntry(g, l1, 12) & BigInt(A | D)).toBe(0n);
  });
});

describe('mod_l2_entry .. mod_l4_entry / get_page_from_l2e .. l4e', () => {
  it('hooks a new L1 into a validated L2 (it gets validated as an L1 on the way: alloc_l1_table)', () => {
    const g = makeGuest();
    const l2 = freeMfn(g, 1);
    const l1 = freeMfn(g, 2);
    expect(write(g, l1, 0, pte(g.domain.pfnToMfn(0x10), P | RW))).toBe(0);
    expect(pin(g, 2, l2)).toBe(0);
    expect(write(g, l2, 4, pte(l1, P | RW | A | D))).toBe(0);
    expect(g.host.pageInfo(l1)).toMatchObject({ type: 'PGT_l1_page_table', typeCount: 1, validated: true, pinned: false });
    expect(readEntry(g, l2, 4) & BigInt(US)).toBe(BigInt(US)); // adjust_guest_l2e
  });

  it('refuses a superpage without allowsuperpage (-EINVAL); with it, an aligned one is accepted', () => {
    const g = makeGuest();
    const l2 = freeMfn(g, 1);
    expect(pin(g, 2, l2)).toBe(0);
    const aligned = g.domain.pfnToMfn(0x2000); // 2 MiB extents: 512-aligned mfns
    expect(aligned % 512).toBe(0);
    expect(write(g, l2, 5, pte(aligned, P | PSE))).toBe(-EINVAL);
    const g2 = makeGuest({ host: { allowSuperpage: true } });
    const l2b = freeMfn(g2, 1);
    expect(pin(g2, 2, l2b)).toBe(0);
    const al2 = g2.domain.pfnToMfn(0x2000);
    expect(write(g2, l2b, 5, pte(al2 + 1, P | PSE))).toBe(-EINVAL); // "Unaligned superpage map attempt"
    expect(write(g2, l2b, 5, pte(al2, P | PSE))).toBe(0);
  });

  it('refuses PWT/PCD/GLOBAL in an L2 and PSE in an L3 or L4 (the disallow masks) with -EINVAL', () => {
    const g = makeGuest();
    const l1 = pinnedL1(g, 0);
    const l2 = freeMfn(g, 1);
    const l3 = freeMfn(g, 2);
    expect(pin(g, 2, l2)).toBe(0);
    expect(pin(g, 3, l3)).toBe(0);
    expect(write(g, l2, 0, pte(l1, P | G))).toBe(-EINVAL);
    expect(write(g, l2, 0, pte(l1, P | PCD))).toBe(-EINVAL);
    expect(write(g, l3, 0, pte(l2, P | PSE))).toBe(-EINVAL);
    expect(write(g, l3, 0, pte(l2, P | RW))).toBe(0);
  });

  it('refuses a table of the wrong type below: an L2 entry to a frame that is an L2 is a linear map (read-only only)', () => {
    const g = makeGuest();
    const l2a = freeMfn(g, 1);
    const l2b = freeMfn(g, 2);
    expect(pin(g, 2, l2a)).toBe(0);
    expect(pin(g, 2, l2b)).toBe(0);
    expect(write(g, l2a, 1, pte(l2b, P | RW))).toBe(-EINVAL); // "Attempt to create linear p.t. with write perms"
    expect(write(g, l2a, 1, pte(l2b, P))).toBe(0); // get_l2_linear_pagetable: another validated L2
    expect(g.host.pageInfo(l2b).typeCount).toBe(2);
    expect(write(g, l2a, 2, pte(l2a, P))).toBe(0); // a self map takes nothing
    expect(g.host.pageInfo(l2a).typeCount).toBe(1);
    // a frame already typed writable cannot become an L1 while mapped writable
    expect(write(g, l2a, 3, pte(g.domain.pfnToMfn(0x10), P | RW))).toBe(-EINVAL);
  });

  it('never lets the guest write Xen\'s L4 slots 256..271 (mod_l4_entry: -EINVAL)', () => {
    const g = makeGuest();
    const l4 = g.vcpu.guestTable;
    for (const slot of [256, 258, 261, 271]) {
      const before = readEntry(g, l4, slot);
      expect(write(g, l4, slot, 0n)).toBe(-EINVAL);
      expect(readEntry(g, l4, slot)).toBe(before);
    }
    expect(write(g, l4, 255, 0n)).toBe(0);
    expect(write(g, l4, 272, 0n)).toBe(0);
  });
});

describe('MMU_MACHPHYS_UPDATE', () => {
  it('sets the M2P entry of the domain\'s own frame; refuses others with -EINVAL', () => {
    const g = makeGuest();
    const m = g.domain.pfnToMfn(0x30);
    expect(g.vcpu.HYPERVISOR_mmu_update([{ ptr: (BigInt(m) << 12n) | BigInt(MMU_MACHPHYS_UPDATE), val: 0x777n }])).toBe(0);
    expect(g.vcpu.machine_to_phys_mapping(m)).toBe(0x777n);
    expect(g.vcpu.read64(0x800000000000 + m * 8)).toBe(0x777n); // the guest-visible table
    expect(g.vcpu.HYPERVISOR_mmu_update([{ ptr: (5n << 12n) | 1n, val: 1n }])).toBe(-EINVAL);
    expect(g.vcpu.machine_to_phys_mapping(5)).toBe(INVALID_M2P_ENTRY);
  });

  it('with DOMID_IO as the page owner reaches only DOMID_IO\'s frames', () => {
    const g = makeGuest();
    const m = g.domain.pfnToMfn(0x30);
    expect(g.vcpu.HYPERVISOR_mmu_update([{ ptr: (BigInt(m) << 12n) | 1n, val: 1n }], 1, null, DOMID_IO)).toBe(-EINVAL);
  });
});

describe('argument checks (LabError before any state change)', () => {
  it('refuses malformed requests', () => {
    const g = makeGuest();
    expect(() => g.vcpu.HYPERVISOR_mmu_update([{ ptr: 'zz', val: 0n }])).toThrowError(expect.objectContaining({ code: 'MALFORMED_ADDRESS' }));
    expect(() => g.vcpu.HYPERVISOR_mmu_update([{ ptr: 1n, val: -1n }])).toThrowError(expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }));
    expect(() => g.vcpu.HYPERVISOR_mmu_update([], 3)).toThrowError(expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }));
    expect(() => g.vcpu.HYPERVISOR_mmu_update(null as never)).toThrowError(expect.objectContaining({ code: 'WRONG_TYPE' }));
    const m = freeMfn(g, 0);
    // a bad second request: the first must not have been applied
    expect(() => g.vcpu.HYPERVISOR_mmu_update([{ ptr: entryPtr(m, 0), val: 9n }, { ptr: 'x', val: 0n }])).toThrowError(expect.objectContaining({ code: 'MALFORMED_ADDRESS' }));
    expect(readEntry(g, m, 0)).toBe(0n);
  });
});

