/**
 * The kernel's e820 table (struct e820map e820): how Linux 3.9 keeps the firmware's memory map,
 * sanitizes it (overlaps resolved in favour of the higher type, neighbours of one type merged),
 * prints it, trims the BIOS ranges and finds the last RAM pfn; each routine prints what the
 * source prints.
 * // arch/x86/kernel/e820.c, arch/x86/kernel/setup.c (trim_bios_range) (Linux 3.9.6)
 */
export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;
export const E820_UNUSABLE = 5;
/** E820_RESERVED_KERN (asm/e820.h): RAM the kernel reserved for itself, printed as usable */
export const E820_RESERVED_KERN = 128;
/** E820_X_MAX: the table's capacity (E820MAX + 3 * MAX_NUMNODES at the usual config, 128 here) */
export const E820_X_MAX = 128;
/** MAX_ARCH_PFN on x86_64: MAXMEM >> PAGE_SHIFT, MAXMEM = 1 << MAX_PHYSMEM_BITS (46) */
export const MAX_ARCH_PFN = 2 ** 46 / 4096;
export const BIOS_BEGIN = 0xa0000;
export const BIOS_END = 0x100000;

/** struct e820entry: [addr, addr + size) of a type */
export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

const fmt = (n: number, width: number): string => `0x${n.toString(16).padStart(width - 2, '0')}`;

// arch/x86/kernel/e820.c (v3.9.6): the type's name as e820_print_type prints it
export function e820_type_name(type: number): string {
  switch (type) {
    case E820_RAM: case E820_RESERVED_KERN: return 'usable';
    case E820_RESERVED: return 'reserved';
    case E820_ACPI: return 'ACPI data';
    case E820_NVS: return 'ACPI NVS';
    case E820_UNUSABLE: return 'unusable';
    default: return `type ${type}`;
  }
}

/** The kernel's e820 table and the lines its routines print. */
export class E820Map {
  readonly map: E820Entry[] = [];

  constructor(private readonly printk: (line: string) => void) {}

  // arch/x86/kernel/e820.c (v3.9.6): append an entry (the table keeps E820_X_MAX at most)
  e820_add_region(start: number, size: number, type: number): void {
    if (this.map.length >= E820_X_MAX) {
      this.printk(`e820: too many entries; ignoring [mem ${fmt(start, 10)}-${fmt(start + size - 1, 10)}]`);
      return;
    }
    this.map.push({ addr: start, size, type });
  }

  // arch/x86/kernel/e820.c (v3.9.6)
  e820_print_map(who: string): void {
    for (const e of this.map) this.printk(`${who}: [mem ${fmt(e.addr, 18)}-${fmt(e.addr + e.size - 1, 18)}] ${e820_type_name(e.type)}`);
  }

  // arch/x86/kernel/e820.c (v3.9.6): change a type over [start, start + size)
  e820_update_range(start: number, size: number, old_type: number, new_type: number): number {
    const end = start + size;
    this.printk(`e820: update [mem ${fmt(start, 10)}-${fmt(end - 1, 10)}] ${e820_type_name(old_type)} ==> ${e820_type_name(new_type)}`);
    let updated = 0;
    for (let i = 0; i < this.map.length; i++) {
      const ei = this.map[i];
      if (ei.type !== old_type) continue;
      const ei_end = ei.addr + ei.size;
      if (ei.addr >= start && ei_end <= end) { ei.type = new_type; updated += ei.size; continue; }
      if (ei.addr < start && ei_end > end) {
        this.e820_add_region(start, size, new_type);
        this.e820_add_region(end, ei_end - end, ei.type);
        ei.size = start - ei.addr;
        updated += size;
        continue;
      }
      const fs = Math.max(start, ei.addr);
      const fe = Math.min(end, ei_end);
      if (fs >= fe) continue;
      this.e820_add_region(fs, fe - fs, new_type);
      updated += fe - fs;
      ei.size -= fe - fs;
      if (ei.addr < fs) continue;
      ei.addr = fe;
    }
    return updated;
  }

  // arch/x86/kernel/e820.c (v3.9.6): take [start, start + size) out of entries (of old_type when checktype)
  e820_remove_range(start: number, size: number, old_type: number, checktype: boolean): number {
    const end = start + size;
    this.printk(`e820: remove [mem ${fmt(start, 10)}-${fmt(end - 1, 10)}]${checktype ? ` ${e820_type_name(old_type)}` : ' '}`);
    let removed = 0;
    for (let i = 0; i < this.map.length; i++) {
      const ei = this.map[i];
      if (checktype && ei.type !== old_type) continue;
      const ei_end = ei.addr + ei.size;
      if (ei.addr >= start && ei_end <= end) { removed += ei.size; ei.addr = 0; ei.size = 0; ei.type = 0; continue; }
      if (ei.addr < start && ei_end > end) {
        this.e820_add_region(end, ei_end - end, ei.type);
        ei.size = start - ei.addr;
        removed += size;
        continue;
      }
      const fs = Math.max(start, ei.addr);
      const fe = Math.min(end, ei_end);
      if (fs >= fe) continue;
      removed += fe - fs;
      ei.size -= fe - fs;
      if (ei.addr < fs) continue;
      ei.addr = fe;
    }
    return removed;
  }

  /** sanitize_e820_map(e820.map, ...) on the table itself */
  sanitize(): void {
    const out = sanitize_e820_map(this.map);
    if (out !== null) this.map.splice(0, this.map.length, ...out);
  }

  // arch/x86/kernel/e820.c (v3.9.6): e820_end_of_ram_pfn = e820_end_pfn(MAX_ARCH_PFN, E820_RAM)
  e820_end_of_ram_pfn(): number {
    let last_pfn = 0;
    const limit_pfn = MAX_ARCH_PFN;
    for (const ei of this.map) {
      if (ei.type !== E820_RAM) continue;
      const start_pfn = Math.floor(ei.addr / 4096);
      const end_pfn = Math.floor((ei.addr + ei.size) / 4096);
      if (start_pfn >= limit_pfn) continue;
      if (end_pfn > limit_pfn) { last_pfn = limit_pfn; break; }
      if (end_pfn > last_pfn) last_pfn = end_pfn;
    }
    if (last_pfn > MAX_ARCH_PFN) last_pfn = MAX_ARCH_PFN;
    this.printk(`e820: last_pfn = 0x${last_pfn.toString(16)} max_arch_pfn = 0x${MAX_ARCH_PFN.toString(16)}`);
    return last_pfn;
  }

  /** The RAM ranges (type E820_RAM), as memblock_x86_fill adds them. */
  ramRanges(): { base: number; end: number }[] {
    return this.map.filter((e) => e.type === E820_RAM && e.size > 0).map((e) => ({ base: e.addr, end: e.addr + e.size }));
  }
}

/**
 * sanitize_e820_map (arch/x86/kernel/e820.c, v3.9.6): the change-point sweep. Every non-empty
 * entry gives a start and an end point; sorted by address (an end after a start at the same
 * address), the sweep keeps the set of entries covering the point and opens a new entry whenever
 * the highest type among them changes. Returns the new list, or null (nothing done) for fewer than
 * two entries or an entry that wraps, as the source does.
 */
export function sanitize_e820_map(biosmap: readonly E820Entry[]): E820Entry[] | null {
  if (biosmap.length < 2) return null;
  for (const e of biosmap) if (e.addr + e.size < e.addr) return null;
  interface Change { addr: number; pbios: E820Entry; isEnd: boolean; order: number }
  const cps: Change[] = [];
  biosmap.forEach((e) => {
    if (e.size !== 0) {
      cps.push({ addr: e.addr, pbios: e, isEnd: false, order: cps.length });
      cps.push({ addr: e.addr + e.size, pbios: e, isEnd: true, order: cps.length });
    }
  });
  // cpcompare: by address, then a start before an end (sort() in lib/sort.c is a heap sort, not
  // stable; points that compare equal are both starts or both ends and only change the overlap
  // list's order, not the result)
  cps.sort((a, b) => (a.addr !== b.addr ? a.addr - b.addr : (a.isEnd ? 1 : 0) - (b.isEnd ? 1 : 0)) || a.order - b.order);
  const overlap: E820Entry[] = [];
  const out: E820Entry[] = [];
  let last_type = 0;
  let last_addr = 0;
  let current: E820Entry | null = null;
  for (const cp of cps) {
    if (!cp.isEnd) overlap.push(cp.pbios);
    else {
      const i = overlap.indexOf(cp.pbios);
      overlap[i] = overlap[overlap.length - 1];
      overlap.pop();
    }
    let current_type = 0;
    for (const o of overlap) if (o.type > current_type) current_type = o.type;
    if (current_type !== last_type) {
      if (last_type !== 0 && current !== null) {
        current.size = cp.addr - last_addr;
        if (current.size !== 0) out.push(current);
        current = null;
      }
      if (current_type !== 0) {
        current = { addr: cp.addr, size: 0, type: current_type };
        last_addr = cp.addr;
      }
      last_type = current_type;
    }
  }
  return out;
}
