/**
 * A small synthetic address space for the gallery (not a model run): a PML4 with a direct map of
 * the first few MiB in 4 KiB pages (page-table frames mapped read-only, as Xen PV requires), the
 * kernel text in 2 MiB pages, a fixmap page, one entry in Xen's hole, and nothing in the vmemmap
 * slot, so a walk there faults at L4 as the seed's did. Walk it with `regs` (EFER.NXE on, or the
 * direct map's NX bits are reserved bits).
 */
import { splitVirtualAddress } from '../../x86/address';
import { PhysicalMemory } from '../../x86/physical-memory';
import { encodePte } from '../../x86/pte';
import type { PageTypeLookup } from '../types';
import { DEMO_REGIONS } from './demo-layout';

export interface DemoAddressSpace {
  mem: PhysicalMemory;
  /** CR3: the PML4's physical address */
  cr3: bigint;
  /** registers to walk with: this CR3, EFER.NXE (the direct map is NX) and CR0.WP on */
  regs: { cr3: bigint; efer: { nxe: boolean }; cr0: { wp: boolean } };
  regions: typeof DEMO_REGIONS;
  pageType: PageTypeLookup;
  /** the Xen page type of every page-table frame */
  types: Map<number, string>;
}

const TYPE_NAMES = ['', 'l1_page_table', 'l2_page_table', 'l3_page_table', 'l4_page_table'];

export function demoAddressSpace(directMapMiB = 8): DemoAddressSpace {
  const mem = new PhysicalMemory();
  mem.allocFrame(); // frame 0 stays out of the page tables, as the real-mode IVT/BIOS page does
  const types = new Map<number, string>();
  const table = (level: number): number => {
    const f = mem.allocFrame();
    types.set(f, TYPE_NAMES[level]);
    return f;
  };
  const pml4 = table(4);
  const set = (frame: number, index: number, value: bigint) => mem.write64(BigInt(frame * 4096 + index * 8), value);
  const link = (frame: number) => encodePte({ present: true, writable: true, accessed: true, address: BigInt(frame * 4096) });
  /** The table at `level` below `parent[index]`, made if missing. */
  const child = (parent: number, index: number, level: number): number => {
    const e = mem.read64(BigInt(parent * 4096 + index * 8));
    if ((e & 1n) === 1n) return Number((e & 0x000ffffffffff000n) / 4096n);
    const f = table(level);
    set(parent, index, link(f));
    return f;
  };

  // Direct map: 4 KiB pages from frame 0; the tables themselves are mapped read-only.
  const pages = directMapMiB * 256;
  const dm = splitVirtualAddress('ffff880000000000');
  const dmL3 = child(pml4, dm.pml4, 3);
  const dmL2 = child(dmL3, 0, 2);
  const l1s: number[] = [];
  for (let i = 0; i < pages / 512; i++) l1s.push(child(dmL2, i, 1));
  // Kernel text: 16 MiB of 2 MiB pages from physical 16 MiB, read-only, executable, global.
  const kt = splitVirtualAddress('ffffffff81000000');
  const ktL3 = child(pml4, kt.pml4, 3);
  const ktL2 = child(ktL3, kt.pdpt, 2);
  for (let i = 0; i < 8; i++) {
    set(ktL2, kt.pd + i, encodePte({ present: true, pageSize: true, global: true, accessed: true, address: BigInt((8 + i) * 2 * 1024 * 1024) }, 2));
  }
  // Fixmap: one L1 table with two pages (shared info, console) in the top L3 slot.
  const fx = splitVirtualAddress('ffffffffff5fe000');
  const fxL2 = child(ktL3, fx.pdpt, 2);
  const fxL1 = child(fxL2, fx.pd, 1);
  set(fxL1, fx.pt, encodePte({ present: true, writable: true, noExecute: true, address: 0x5f000n }));
  set(fxL1, fx.pt + 1, encodePte({ present: true, writable: true, noExecute: true, address: 0x60000n }));
  // Xen's hole: Xen's read-only machine-to-phys table, as Xen puts it in a PV guest's L4.
  const xh = splitVirtualAddress('ffff800000000000');
  const xhL3 = table(3);
  set(pml4, xh.pml4, encodePte({ present: true, user: true, address: BigInt(xhL3 * 4096) }));
  set(xhL3, 0, encodePte({ present: true, pageSize: true, user: true, noExecute: true, address: 0x40000000n }, 3));

  // Now every table exists: fill the direct map, page-table frames read-only.
  for (let p = 0; p < pages; p++) {
    const rw = !types.has(p);
    set(l1s[Math.floor(p / 512)], p % 512, encodePte({ present: true, writable: rw, noExecute: true, accessed: true, address: BigInt(p * 4096) }));
  }
  const cr3 = BigInt(pml4 * 4096);
  return { mem, cr3, regs: { cr3, efer: { nxe: true }, cr0: { wp: true } }, regions: DEMO_REGIONS, pageType: (f) => types.get(f), types };
}

/** The vmemmap address of a frame's `struct page` field, as Linux computes it (64-byte struct page). */
export function demoStructPageAddress(frame: number, fieldOffset: number): string {
  const base = 0xffffea0000000000n + BigInt(frame) * 64n + BigInt(fieldOffset);
  return base.toString(16);
}
