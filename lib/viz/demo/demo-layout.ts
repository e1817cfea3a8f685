/**
 * A copy of the x86-64 Linux 3.8 virtual memory layout (Documentation/x86/x86_64/mm.txt) for the
 * gallery's demo data only, until lib/linux exports the real table; ends are inclusive. Xen's
 * hole is the part of the guard hole Xen reserves for itself in a PV guest (L4 slots 256..271).
 */
import type { RegionRange } from '../types';

export const DEMO_REGIONS: readonly RegionRange[] = [
  { name: 'user space', start: '0000000000000000', end: '00007fffffffffff' },
  { name: "Xen's hole (L4 256..271)", start: 'ffff800000000000', end: 'ffff87ffffffffff' },
  { name: 'direct map', start: 'ffff880000000000', end: 'ffffc7ffffffffff' },
  { name: 'vmalloc', start: 'ffffc90000000000', end: 'ffffe8ffffffffff' },
  { name: 'vmemmap', start: 'ffffea0000000000', end: 'ffffeaffffffffff' },
  { name: 'kernel text', start: 'ffffffff80000000', end: 'ffffffff9fffffff' },
  { name: 'fixmap', start: 'ffffffffff400000', end: 'ffffffffff5fffff' },
  { name: 'vsyscall', start: 'ffffffffff600000', end: 'ffffffffffdfffff' },
  { name: 'modules', start: 'ffffffffa0000000', end: 'fffffffffff00000' },
];

export const DEMO_VMEMMAP_START = 0xffffea0000000000n;
