/** memblock calls as the kernel makes them, with their frames on the stack (mm/memblock.c, v3.9). */
import type { Kernel } from '../kernel';

// mm/memblock.c (v3.9)
export function memblock_reserve(k: Kernel, base: number, size: number): void {
  k.call('memblock_reserve', () => k.memblock.reserve(base, size));
}

// mm/memblock.c (v3.9): top-down search; 0 when nothing fits
export function memblock_find_in_range(k: Kernel, start: number, end: number, size: number, align: number): number {
  return k.call('memblock_find_in_range', () => k.memblock.findInRange(start, end, size, align));
}
