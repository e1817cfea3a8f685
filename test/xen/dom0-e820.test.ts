/**
 * The host's memory map: `host.e820` as entries or as the text Xen prints under "Xen-e820 RAM map:"
 * (xen/arch/x86/e820.c print_e820_memory_map, Xen 4.1.5-pre at b39efd3dff), the map dom0 reads
 * with XENMEM_machine_memory_map (xen/arch/x86/mm.c 4754-4812: the gaps' frames dom0 may not touch
 * come back as reserved entries) and Linux's own e820 table (arch/x86/kernel/e820.c, v3.9.6).
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import {
  E820_RAM, E820_RESERVED, machine_memory_map, normalizeE820, parseXenE820Text, print_e820_memory_map,
} from '../../lib/xen/e820';
import { E820Map, sanitize_e820_map } from '../../lib/linux/e820';
import { dom0Report } from '../support/dom0-report';

const refusal = (f: () => unknown): LabError => {
  try { f(); } catch (e) { if (e instanceof LabError) return e; throw e; }
  throw new Error('no LabError');
};

describe('the host e820 map', () => {
  const report = dom0Report();
  const text = report['xen-e820'].join('\n');

  it('parses the report\'s map and prints it back as Xen does, line for line', () => {
    const map = parseXenE820Text(text);
    expect(map).toHaveLength(21);
    expect(map[0]).toEqual({ start: 0, end: 0x9ec00, type: E820_RAM });
    expect(print_e820_memory_map(map).map((l) => `(XEN) ${l}`)).toEqual(report['xen-e820'].slice(1));
    // the same map as entries, with type names, bigints and hex strings
    const arr = normalizeE820(map.map((e) => ({ start: BigInt(e.start), end: `0x${e.end.toString(16)}`, type: e.type === 1 ? 'usable' : e.type })));
    expect(arr).toEqual(map);
  });

  it('refuses bad lines, unsorted or overlapping ranges and a map without RAM, naming the problem', () => {
    const bad = refusal(() => parseXenE820Text('(XEN) Xen-e820 RAM map:\n(XEN)  0000000000000000 - 000000000009ec00 (usabel)'));
    expect(bad.code).toBe('BAD_CONFIG');
    expect(bad.message).toMatch(/line 2 .*usabel/);
    const overlap = refusal(() => normalizeE820([{ start: 0, end: 0x2000, type: 1 }, { start: 0x1000, end: 0x3000, type: 2 }]));
    expect(overlap.message).toMatch(/unsorted or overlap/);
    const unsorted = refusal(() => normalizeE820([{ start: 0x100000, end: 0x200000, type: 1 }, { start: 0, end: 0x1000, type: 1 }]));
    expect(unsorted.message).toMatch(/unsorted or overlap/);
    expect(refusal(() => normalizeE820([{ start: 0, end: 0x100000, type: 'reserved' }])).message).toMatch(/no RAM/);
    expect(refusal(() => normalizeE820([{ start: 0, end: 0x100000, type: 9 }])).message).toMatch(/must be one of/);
    expect(refusal(() => normalizeE820([{ start: 0x5000, end: 0x5000, type: 1 }])).message).toMatch(/empty/);
    expect(refusal(() => normalizeE820(42)).code).toBe('WRONG_TYPE');
  });

  it('XENMEM_machine_memory_map: the local APIC and IO-APIC frames dom0 is denied come back as reserved entries in the gaps', () => {
    const map = parseXenE820Text(text);
    const m = machine_memory_map(map, [0xfec00, 0xfee00]);
    const added = m.filter((e) => !map.some((x) => x.start === e.start && x.end === e.end));
    expect(added).toEqual([
      { start: 0xfec00000, end: 0xfec01000, type: E820_RESERVED },
      { start: 0xfee00000, end: 0xfee01000, type: E820_RESERVED },
    ]);
    expect(m).toHaveLength(map.length + 2);
    // a denied frame inside an e820 range is not reported again; a run of denied frames is one entry
    const m2 = machine_memory_map([{ start: 0, end: 0x1000000, type: 1 }, { start: 0x2000000, end: 0x3000000, type: 1 }], [0x1800, 0x1801, 0x1802, 0x2100]);
    expect(m2).toEqual([
      { start: 0, end: 0x1000000, type: 1 },
      { start: 0x1800000, end: 0x1803000, type: E820_RESERVED },
      { start: 0x2000000, end: 0x3000000, type: 1 },
    ]);
  });

  it('Linux sanitize_e820_map: overlaps go to the higher type, neighbours of a type merge', () => {
    expect(sanitize_e820_map([
      { addr: 0x9ec00, size: 0x1400, type: 2 }, { addr: 0xe0000, size: 0x20000, type: 2 }, { addr: 0xa0000, size: 0x60000, type: 2 },
      { addr: 0, size: 0x9e000, type: 1 }, { addr: 0x100000, size: 0x100000, type: 1 }, { addr: 0x180000, size: 0x1000, type: 2 },
    ])).toEqual([
      { addr: 0, size: 0x9e000, type: 1 },
      { addr: 0x9ec00, size: 0x100000 - 0x9ec00, type: 2 },
      { addr: 0x100000, size: 0x80000, type: 1 },
      { addr: 0x180000, size: 0x1000, type: 2 },
      { addr: 0x181000, size: 0x7f000, type: 1 },
    ]);
    const lines: string[] = [];
    const e = new E820Map((l) => lines.push(l));
    e.e820_add_region(0, 0x9e000, 1);
    e.e820_add_region(0x100000, 0x1000000, 1);
    e.e820_update_range(0, 0x1000, 1, 2);
    e.e820_remove_range(0xa0000, 0x60000, 1, true);
    e.sanitize();
    expect(e.map).toEqual([{ addr: 0, size: 0x1000, type: 2 }, { addr: 0x1000, size: 0x9d000, type: 1 }, { addr: 0x100000, size: 0x1000000, type: 1 }]);
    expect(e.e820_end_of_ram_pfn()).toBe(0x1100);
    expect(lines).toEqual([
      'e820: update [mem 0x00000000-0x00000fff] usable ==> reserved',
      'e820: remove [mem 0x000a0000-0x000fffff] usable',
      'e820: last_pfn = 0x1100 max_arch_pfn = 0x400000000',
    ]);
  });
});
