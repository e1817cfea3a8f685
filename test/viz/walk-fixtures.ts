/** A tiny address space for the page-walk and explorer tests, built entry by entry. */
import { splitVirtualAddress } from '../../lib/x86/address';
import { PhysicalMemory } from '../../lib/x86/physical-memory';
import { encodePte } from '../../lib/x86/pte';

export interface TinySpace {
  mem: PhysicalMemory;
  cr3: bigint;
  /** frame → table level, for page-type lookups */
  tables: Map<number, number>;
}

/**
 * PML4 at frame 1; the direct map's first 2 MiB through L3 frame 2, L2 frame 3, L1 frame 4:
 * PTEs 0..3 map frames 0x100..0x103 RW NX, PTE 4 maps frame 0x104 read-only, PTE 5 maps frame
 * 0x200 RW NX (not contiguous); the kernel text's first 2 MiB page (PS) at physical 16 MiB.
 */
export function tinySpace(): TinySpace {
  const mem = new PhysicalMemory();
  mem.allocFrame();
  const tables = new Map<number, number>();
  const table = (level: number) => { const f = mem.allocFrame(); tables.set(f, level); return f; };
  const set = (frame: number, index: number, v: bigint) => mem.write64(BigInt(frame * 4096 + index * 8), v);
  const link = (f: number) => encodePte({ present: true, writable: true, address: BigInt(f * 4096) });
  const pml4 = table(4);
  const l3 = table(3);
  const l2 = table(2);
  const l1 = table(1);
  const dm = splitVirtualAddress('ffff880000000000');
  set(pml4, dm.pml4, link(l3));
  set(l3, 0, link(l2));
  set(l2, 0, link(l1));
  for (let i = 0; i < 4; i++) set(l1, i, encodePte({ present: true, writable: true, noExecute: true, address: BigInt((0x100 + i) * 4096) }));
  set(l1, 4, encodePte({ present: true, noExecute: true, address: 0x104000n }));
  set(l1, 5, encodePte({ present: true, writable: true, noExecute: true, address: 0x200000n }));
  const kt = splitVirtualAddress('ffffffff81000000');
  const ktL3 = table(3);
  const ktL2 = table(2);
  set(pml4, kt.pml4, link(ktL3));
  set(ktL3, kt.pdpt, link(ktL2));
  set(ktL2, kt.pd, encodePte({ present: true, pageSize: true, global: true, address: 0x1000000n }, 2));
  return { mem, cr3: BigInt(pml4 * 4096), tables };
}

export const REGIONS = [
  { name: 'direct <map>', start: 'ffff880000000000', end: 'ffffc7ffffffffff' },
  { name: 'vmemmap', start: 'ffffea0000000000', end: 'ffffeaffffffffff' },
  { name: 'kernel text', start: 'ffffffff80000000', end: 'ffffffff9fffffff' },
];
