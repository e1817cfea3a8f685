/**
 * buildPvDomain: the layout of libxc's xc_dom_build_image / xc_dom_x86.c for a 64-bit PV guest,
 * start_info, the bootstrap page tables, the pin and the initial vCPU state.
 */
import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../lib/trace';
import {
  FLAT_KERNEL_CS, FLAT_KERNEL_SS, START_INFO_OFFSETS, XenHost, buildPvDomain,
} from '../../lib/xen';
import { expectSaneXenInputs, xenSlotsFromSource } from './oracle-xen-slots';
import { VIRT_BASE, makeGuest, readEntry, vaOfPfn } from './helpers';

describe('buildPvDomain (xc_dom_build_image, setup_pgtables_x86_64, start_info_x86_64, vcpu_x86_64)', () => {
  it('lays out kernel, p2m, start_info, xenstore, console, page tables, boot stack in that order', () => {
    const g = makeGuest({ memoryMiB: 64, kernelPages: 0x200 });
    const L = g.layout;
    const total = 64 * 256;
    expect(L.totalPages).toBe(total);
    expect(L.kernel).toEqual({ vstart: VIRT_BASE + 0x1000000n, vend: VIRT_BASE + 0x1200000n, pfn: 0x1000, pages: 0x200 });
    expect(L.p2m.pfn).toBe(0x1200);
    expect(L.p2m.pages).toBe((total * 8) / 4096);
    expect(L.startInfoPfn).toBe(L.p2m.pfn + L.p2m.pages);
    expect([L.xenstorePfn, L.consolePfn]).toEqual([L.startInfoPfn + 1, L.startInfoPfn + 2]);
    expect(L.pgtables.pfn).toBe(L.startInfoPfn + 3);
    expect(L.bootstackPfn).toBe(L.pgtables.pfn + L.pgtables.pages);
    // count_pgtables: one L4, L3, L2, and an L1 per 2 MiB of the mapped region
    const mapped = Number(L.virtPgtabEnd - VIRT_BASE);
    expect(mapped % (4 << 20)).toBe(0);
    expect(L.pgtables).toMatchObject({ l4: 1, l3: 1, l2: 1, l1: mapped / (2 << 20) });
    // at least 512 KiB of slop after the boot stack
    expect(Number(L.virtPgtabEnd - VIRT_BASE) - (L.bootstackPfn + 1) * 4096).toBeGreaterThanOrEqual(512 * 1024);
  });

  it('fills start_info (returned and in guest memory at rsi)', () => {
    const g = makeGuest({ domid: 5 });
    const si = g.startInfo;
    const v = g.vcpu;
    expect(si.magic).toBe('xen-3.0-x86_64');
    expect(si.nr_pages).toBe(g.layout.totalPages);
    expect(si.pt_base).toBe(g.layout.pgtables.vstart);
    expect(si.nr_pt_frames).toBe(g.layout.pgtables.pages);
    expect(si.mfn_list).toBe(g.layout.p2m.vstart);
    expect(si.store_mfn).toBe(g.domain.pfnToMfn(g.layout.xenstorePfn));
    expect(si.console.domU.mfn).toBe(g.domain.pfnToMfn(g.layout.consolePfn));
    expect(si.shared_info).toBe(BigInt(g.domain.sharedInfoMfn) * 4096n);
    const base = Number(v.regs.rsi & 0xffffffffffffn);
    expect(v.regs.rsi).toBe(g.startInfoVa);
    const rd = (off: number): bigint => v.read64(base + off);
    expect(rd(START_INFO_OFFSETS.nr_pages)).toBe(BigInt(si.nr_pages));
    expect(rd(START_INFO_OFFSETS.shared_info)).toBe(si.shared_info);
    expect(rd(START_INFO_OFFSETS.pt_base)).toBe(si.pt_base);
    expect(rd(START_INFO_OFFSETS.nr_pt_frames)).toBe(BigInt(si.nr_pt_frames));
    expect(rd(START_INFO_OFFSETS.mfn_list)).toBe(si.mfn_list);
    expect(rd(START_INFO_OFFSETS.store_mfn)).toBe(BigInt(si.store_mfn));
    const magic = [0, 8].map((o) => rd(o));
    expect(Buffer.from(new BigUint64Array(magic).buffer).toString('latin1').replace(/\0+$/, '')).toBe('xen-3.0-x86_64');
  });

  it('gives guest frames machine frames that are not their pfns; mfn_list and the M2P agree', () => {
    const g = makeGuest();
    const v = g.vcpu;
    const list = Number(g.startInfo.mfn_list & 0xffffffffffffn);
    let identity = 0;
    for (const pfn of [0, 1, 0x1ff, 0x200, 0x1000, 0x2abc, g.layout.totalPages - 1]) {
      const mfn = g.domain.pfnToMfn(pfn);
      if (mfn === pfn) identity++;
      expect(v.read64(list + pfn * 8)).toBe(BigInt(mfn));
      expect(v.mfnToPfn(mfn)).toBe(pfn);
      expect(v.machine_to_phys_mapping(mfn)).toBe(BigInt(pfn));
      expect(g.host.pageInfo(mfn).owner).toBe(g.domain.domid);
    }
    expect(identity).toBe(0);
    expect(v.mfnToPfn(5)).toBe(-1); // INVALID_M2P_ENTRY read as a signed long
  });

  it('maps virt_base + pfn * 4 KiB to pfn\'s frame up to virt_pgtab_end; page tables read-only', () => {
    const g = makeGuest();
    const v = g.vcpu;
    expect(v.read64(vaOfPfn(0x1000))).toBe(0x1000n); // the kernel image, as fill() wrote it
    expect(v.read64(vaOfPfn(0x11ff))).toBe(0x11ffn);
    const l1pfn = g.layout.pgtables.pfn + 3;
    const l1mfn = g.domain.pfnToMfn(l1pfn);
    // the L1 mapping the page tables has them read-only (RW clear), everything else RW
    const l1OfPt = g.domain.pfnToMfn(g.layout.pgtables.pfn + 3 + Math.floor(g.layout.pgtables.pfn / 512));
    const e = readEntry(g, l1OfPt, g.layout.pgtables.pfn % 512);
    expect(Number((e >> 12n) & 0xfffffffffn)).toBe(g.domain.pfnToMfn(g.layout.pgtables.pfn));
    expect(e & 2n).toBe(0n);
    expect(readEntry(g, l1mfn, 0) & 2n).toBe(2n);
    // Xen adjusted every kernel L1 entry: _PAGE_USER and _PAGE_GUEST_KERNEL
    expect(readEntry(g, l1mfn, 0) & ((1n << 52n) | 4n)).toBe((1n << 52n) | 4n);
  });

  it('pins the L4 (validating the tree), loads it as CR3, installs Xen\'s slots, registers no trap table', () => {
    const g = makeGuest();
    const v = g.vcpu;
    const l4 = g.domain.pfnToMfn(g.layout.pgtables.pfn);
    expect(v.guestTable).toBe(l4);
    expect(g.host.pageInfo(l4)).toMatchObject({ type: 'PGT_l4_page_table', typeCount: 2, pinned: true, validated: true });
    expect(g.host.pageInfo(g.domain.pfnToMfn(g.layout.pgtables.pfn + 1))).toMatchObject({ type: 'PGT_l3_page_table', typeCount: 1 });
    expect(g.host.pageInfo(g.domain.pfnToMfn(g.layout.pgtables.pfn + 2))).toMatchObject({ type: 'PGT_l2_page_table', typeCount: 1 });
    expect([...g.host.memory.words(l4).subarray(512, 544)]).toEqual([...xenSlotsFromSource(g.host, l4, g.domain.perdomainL3Mfn)]); // alloc_l4_table's rule, from the source
    expectSaneXenInputs(g.host, g.domain.perdomainL3Mfn);
    expect(v.trapCtxt.every((t) => t.address === 0)).toBe(true);
    expect(v.regs.cs).toBe(FLAT_KERNEL_CS);
    expect(v.regs.ss).toBe(FLAT_KERNEL_SS);
    expect(v.regs.ds).toBe(0);
    expect(v.regs.rip).toBe(VIRT_BASE + 0x1000000n);
    expect(v.regs.rsp).toBe(VIRT_BASE + BigInt((g.layout.bootstackPfn + 1) * 4096));
    expect(v.regs.rsi).toBe(VIRT_BASE + BigInt(g.layout.startInfoPfn * 4096));
    expect(v.regs.rflags).toBe(0x202n);
    expect(v.kernelMode).toBe(true);
  });

  it('puts two domains on one host without sharing frames', () => {
    const host = new XenHost({ trace: new TraceRecorder() });
    const k = { virtBase: VIRT_BASE, loadPfn: 0x1000, pages: 16, fill: () => {}, entry: VIRT_BASE + 0x1000000n };
    const a = buildPvDomain(host, { domid: 1, memoryBytes: 32 << 20, kernel: k });
    const b = buildPvDomain(host, { domid: 2, memoryBytes: 32 << 20, kernel: k });
    const am = new Set(a.domain.p2mExtents.flatMap((e) => [...Array(e.count).keys()].map((i) => e.mfn + i)));
    for (const e of b.domain.p2mExtents) for (let i = 0; i < e.count; i++) expect(am.has(e.mfn + i)).toBe(false);
  });

  it('refuses bad configurations with a LabError, before building anything', () => {
    const host = new XenHost();
    const k = { virtBase: VIRT_BASE, loadPfn: 0x1000, pages: 16, fill: () => {}, entry: VIRT_BASE };
    expect(() => buildPvDomain(host, { domid: 0, memoryBytes: 32 << 20, kernel: k })).toThrowError(expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }));
    expect(() => buildPvDomain(host, { domid: 1, memoryBytes: 1000, kernel: k })).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(() => buildPvDomain(host, { domid: 1, memoryBytes: 32 << 20, pcpu: 4, kernel: k })).toThrowError(expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }));
    expect(() => buildPvDomain(host, { domid: 1, memoryBytes: 32 << 20, vcpus: 2, kernel: k })).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(() => buildPvDomain(host, { domid: 1, memoryBytes: 32 << 20, kernel: { ...k, virtBase: VIRT_BASE + 4096n } })).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(() => buildPvDomain(host, { domid: 1, memoryBytes: 16 << 20, kernel: { ...k, loadPfn: 0xff0, pages: 16 } })).toThrowError(/initial mapping|loadPfn|pages/);
    expect(host.domains.size).toBe(0);
    const fixed = new XenHost({ memoryBytes: 32 << 20 });
    expect(() => buildPvDomain(fixed, { domid: 1, memoryBytes: 64 << 20, kernel: k })).toThrowError(/free frames/);
  });
});
