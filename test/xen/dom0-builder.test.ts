/**
 * construct_dom0 (xen/arch/x86/domain_build.c, Xen 4.1.5-pre at b39efd3dff) on its own: the layout's
 * equations (lines 460-520: vinitrd after the kernel, the phys-to-machine list, start_info plus
 * the VGA console info, nr_pt_pages found by search, v_end 4 MiB aligned with >= 512 KiB slack),
 * compute_dom0_nr_pages (1/16th kept back, at most 128 MiB), the ramdisk at the top of RAM, the
 * p2m and M2P agreeing for every pfn, the debug build's reversed frames past the initial mapping
 * (lines 1047-1050, 1085-1091), and the bootstrap tables validated and pinned.
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import { XenHost } from '../../lib/xen/host';
import { compute_dom0_nr_pages, construct_dom0, dom0Layout, get_order_from_bytes } from '../../lib/xen/dom0-builder';
import { PGT_pinned } from '../../lib/xen/page-info';

const KBASE = 0xffff80000000; // __START_KERNEL_map, bits 47:0
const kernel = { virtBase: KBASE, pstart: 0x1000000, pend: 0x20d7000, entry: KBASE + 0x1abc1e0, fill: () => undefined };
const pc = (bytes: number) => [
  { start: 0, end: 0x9f000, type: 1 }, { start: 0x9f000, end: 0xa0000, type: 2 },
  { start: 0xf0000, end: 0x100000, type: 2 }, { start: 0x100000, end: bytes, type: 1 },
];

describe('construct_dom0', () => {
  it('lays the bootstrap region out as the source\'s equations do', () => {
    const L = dom0Layout(kernel, 0x1acb65, 0x13224000);
    expect(L.vinitrd_start - KBASE).toBe(0x20d7000);
    expect(L.vphysmap_end - L.vphysmap_start).toBe(0x1acb65 * 8);
    expect(L.vstartinfo_end - L.vstartinfo_start).toBe(1168 + 36); // sizeof(start_info) + sizeof(dom0_vga_console_info)
    // one L4, one L3, one L2 per GiB touched, one L1 per 2 MiB: all within nr_pt_pages
    const span = L.v_end - L.v_start;
    expect(L.nr_pt_pages).toBe(1 + 1 + 1 + span / 2 ** 21);
    expect(L.v_end % (4 * 2 ** 20)).toBe(0);
    expect(L.v_end - L.vstack_end).toBeGreaterThanOrEqual(512 * 1024);
    expect(L.order).toBe(get_order_from_bytes(span - 0x13224000));
    expect([get_order_from_bytes(4096), get_order_from_bytes(4097), get_order_from_bytes(0x31dc000)]).toEqual([0, 1, 14]);
  });

  it('compute_dom0_nr_pages keeps 1/16th back, at most 128 MiB, and clips what would not fit the address space', () => {
    expect(compute_dom0_nr_pages(0x10000, kernel, 0).nrPages).toBe(0x10000 - 0x1000);
    expect(compute_dom0_nr_pages(0x200000, kernel, 0).nrPages).toBe(0x200000 - 0x8000);
    const huge = compute_dom0_nr_pages(2 ** 28, kernel, 0);
    expect(huge.clipped).toBe(true);
    expect(huge.nrPages).toBe(Math.floor((2 ** 48 - (KBASE + 0x20d7000)) / 16));
  });

  for (const debug of [true, false]) {
    it(`builds a 1 GiB dom0 on a 4 GiB PC (debug=${debug ? 'y' : 'n'}): p2m and M2P agree, the tables are pinned`, () => {
      const host = new XenHost({ release: '4.1.5-pre', debug, e820: pc(4 * 2 ** 30) });
      const b = construct_dom0(host, { kernel, nrPages: 0x40000, initrdBytes: 0x800000, vcpus: 2 });
      const p2m = b.domain.p2mFrames as Float64Array;
      const seen = new Set<number>();
      const wrong: number[] = [];
      for (let pfn = 0; pfn < p2m.length; pfn++) {
        const mfn = p2m[pfn];
        if (host.m2p.get(mfn) !== pfn || host.frameTable.owner[mfn] !== 0) wrong.push(pfn);
        seen.add(mfn);
      }
      expect(wrong).toEqual([]);
      expect(seen.size).toBe(0x40000);
      expect(b.initrdMfn).toBe((4 * 2 ** 30 - 0x800000) / 4096); // the top of RAM
      const REVERSE_START = (b.layout.v_end - b.layout.v_start) / 4096;
      // past the initial mapping a debug build hands the allocation's frames out from its end down
      expect(p2m[REVERSE_START + 1]).toBe(debug ? b.allocEpfn - 1 : p2m[REVERSE_START] + 1);
      // and numbers the rest of dom0's frames (alloc_chunk's, ascending within a chunk) from the top pfn down
      const count = 0x4000 + 0x800; // 2^order + the ramdisk's pages: what the initial allocation covers
      if (debug) expect(p2m[0x40000 - 2]).toBe(p2m[0x40000 - 1] + 1);
      else expect(p2m[count + 1]).toBe(p2m[count] + 1);
      expect(b.allocEpfn - b.allocSpfn).toBe(0x4000);
      const l4 = b.vcpu.guestTable;
      expect(host.frameTable.typeInfo[l4] & PGT_pinned).toBe(PGT_pinned);
      expect(l4).toBe(b.allocSpfn + (b.layout.vpt_start - b.layout.v_start) / 4096 - 0x800);
    });
  }

  it('without a ramdisk: the virtual ramdisk range is empty after the kernel, no physical one, the debug reversal still applies', () => {
    const host = new XenHost({ release: '4.1.5-pre', debug: true, e820: pc(4 * 2 ** 30) });
    const b = construct_dom0(host, { kernel, nrPages: 0x40000 });
    const lines = host.console.lines;
    expect(lines).toContain('(XEN)  Init. ramdisk: ffffffff820d7000->ffffffff820d7000');
    expect(lines.filter((l) => l.includes('Init. ramdisk'))).toHaveLength(1);
    const REVERSE_START = (b.layout.v_end - b.layout.v_start) / 4096;
    expect((b.domain.p2mFrames as Float64Array)[REVERSE_START + 1]).toBe(b.allocEpfn - 1);
  });

  it('refuses a second dom0, an allocation start that is not free, and too few pages for the image', () => {
    const host = new XenHost({ release: '4.1.5-pre', e820: pc(4 * 2 ** 30) });
    const err = (f: () => unknown): string => { try { f(); } catch (e) { if (e instanceof LabError) return e.message; throw e; } return 'none'; };
    expect(err(() => construct_dom0(host, { kernel, nrPages: 0x40000, allocStart: 0x0 }))).toMatch(/not all free RAM/);
    expect(err(() => construct_dom0(host, { kernel, nrPages: 0x1000 + 0x100 }))).toMatch(/too small for kernel image/);
    construct_dom0(host, { kernel, nrPages: 0x40000 });
    expect(err(() => construct_dom0(host, { kernel, nrPages: 0x40000 }))).toMatch(/already exists/);
    expect(err(() => construct_dom0(new XenHost({}), { kernel }))).toMatch(/e820/);
  });
});
