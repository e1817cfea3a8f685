/**
 * dom0 on a machine of our own making: a 12 GiB server with the PCI hole below 4 GiB (its
 * MMCONFIG, IO-APIC and local APIC ranges reserved in the e820), dom0 given 2 GiB
 * (dom0_mem-style) and a 16 MiB ramdisk. What must hold follows from the sources:
 * xen_memory_setup gives back every dom0 page in a hole below nr_pages and asks as many back
 * above (arch/x86/xen/setup.c, v3.9.6), init_mem_mapping maps exactly the guest's RAM plus the
 * ISA range (arch/x86/mm/init.c), the crash is the same fault (same kernel image), and the machine
 * reboots after dom0 dies (xen/common/shutdown.c, 4.1.5-pre); with `noreboot` it halts.
 * And the refusals: dom0 pages beyond the map, an allocation start that is not aligned or not free.
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import { reproduce } from '../../lib/lab/boot';
import { normalizeConfig, type BootConfig } from '../../lib/lab/config';

const GiB = 2 ** 30;
const SERVER: BootConfig = {
  domid: 0, pcpu: 0,
  host: {
    e820: [
      { start: 0, end: 0x9fc00, type: 'usable' }, { start: 0x9fc00, end: 0xa0000, type: 'reserved' },
      { start: 0xf0000, end: 0x100000, type: 'reserved' }, { start: 0x100000, end: 0xbff00000, type: 'usable' },
      { start: 0xbff00000, end: 0xc0000000, type: 'ACPI data' }, { start: 0xe0000000, end: 0xf0000000, type: 'reserved' },
      { start: 0xfec00000, end: 0xfec01000, type: 'reserved' }, { start: 0xfee00000, end: 0xfee01000, type: 'reserved' },
      { start: 0xff000000, end: 0x100000000, type: 'reserved' }, { start: 0x100000000, end: 0x100000000 + 9 * GiB, type: 'usable' },
    ],
  },
  xen: { release: '4.1.5-pre', debug: true, cmdline: 'console=com1 sync_console' },
  dom0: { pages: (2 * GiB) / 4096, initrdBytes: 16 * 2 ** 20, vcpus: 2 },
};

const refusal = (f: () => unknown): LabError => {
  try { f(); } catch (e) { if (e instanceof LabError) return e; throw e; }
  throw new Error('no LabError');
};
const num = (re: RegExp, lines: string[]): number[] => lines.flatMap((l) => { const m = re.exec(l); return m === null ? [] : [Number(m[1])]; });

describe('dom0 on a 12 GiB server with a PCI hole', () => {
  const r = reproduce(SERVER);
  const g = r.guestConsole;

  it('crashes on the same fault as the report, and the machine reboots', () => {
    expect(r.outcome).toBe('crashed');
    expect(r.fault?.address).toBe('ffffea000005b2d0');
    expect(r.host).toBe('rebooted');
    expect(r.xenConsole.slice(-2)).toEqual(['(XEN) Domain 0 crashed: rebooting machine in 5 seconds.', '(XEN) Resetting with ACPI MEMORY or I/O RESET_REG.']);
  });

  it('xen_memory_setup: what it frees is what it says, and it populates as much back above nr_pages', () => {
    const freed = num(/^Freeing [0-9a-f]+-[0-9a-f]+ pfn range: (\d+) pages freed$/, g).reduce((a, b) => a + b, 0);
    const released = num(/^Released (\d+) pages of unused memory$/, g);
    const populated = num(/^Populating [0-9a-f]+-[0-9a-f]+ pfn range: (\d+) pages added$/, g).reduce((a, b) => a + b, 0);
    expect(released).toEqual([freed]);
    // 2 GiB of dom0 pfns: the only holes below 0x80000 are the BIOS area's [0x9f, 0x100)
    expect(freed).toBe(0x100 - 0x9f);
    expect(populated).toBe(freed); // plenty of RAM above nr_pages to take them back
    const start = 0x80000;
    expect(g).toContain(`Populating ${start.toString(16)}-${(start + freed).toString(16)} pfn range: ${freed} pages added`);
    // the identity ranges are the map's non-RAM runs up to the next RAM range
    expect(g.filter((l) => l.startsWith('1-1 mapping on '))).toEqual(['1-1 mapping on 9f->100', '1-1 mapping on bff00->100000']);
  });

  it('init_mem_mapping maps exactly the guest RAM (and the ISA range), whatever the order', () => {
    const ranges = g.flatMap((l) => {
      const m = /^init_memory_mapping: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\]$/.exec(l);
      return m === null ? [] : [[parseInt(m[1], 16), parseInt(m[2], 16) + 1] as [number, number]];
    }).sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [s, e] of ranges) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last[1] === s) last[1] = e; else merged.push([s, e]);
    }
    // the guest's e820 RAM after trim_bios_range: [0x1000, 0x9f000) lies inside the ISA range
    expect(merged).toEqual([[0, 0xbff00000], [0x100000000, 0x100000000 + 9 * GiB]]);
    expect(g).toContain(`e820: last_pfn = 0x${((0x100000000 + 9 * GiB) / 4096).toString(16)} max_arch_pfn = 0x400000000`);
  });

  it('Xen prints its map and construct_dom0\'s block for this machine', () => {
    expect(r.xenConsole).toContain('(XEN)  0000000100000000 - 0000000340000000 (usable)');
    expect(r.xenConsole).toContain('(XEN) Dom0 has maximum 2 VCPUs');
    // the ramdisk sits at the top of the highest RAM range
    expect(r.xenConsole).toContain('(XEN)  Init. ramdisk: 000000033f000000->0000000340000000');
  });

  it('with noreboot on Xen\'s command line the machine halts instead', () => {
    const h = reproduce({ ...SERVER, xen: { release: '4.1.5-pre', cmdline: 'noreboot' } });
    expect(h.host).toBe('halted');
    expect(h.xenConsole[h.xenConsole.length - 1]).toBe("(XEN) Domain 0 crashed: 'noreboot' set - not rebooting.");
  });
});

describe('dom0 inputs that cannot be', () => {
  it('refuses dom0 pages beyond the map, an unaligned or taken allocation start, dom0 keys on a domU', () => {
    const big = refusal(() => reproduce({ ...SERVER, dom0: { pages: (13 * GiB) / 4096 } }));
    expect([big.code, big.message]).toEqual(['BAD_CONFIG', expect.stringMatching(/beyond the map/)]);
    const unaligned = refusal(() => reproduce({ ...SERVER, dom0: { pages: (2 * GiB) / 4096, allocStart: '0x200001000' } }));
    expect(unaligned.message).toMatch(/aligned/);
    const taken = refusal(() => reproduce({ ...SERVER, dom0: { pages: (2 * GiB) / 4096, allocStart: '0xc0000000' } }));
    expect(taken.message).toMatch(/not all free RAM/);
    expect(refusal(() => normalizeConfig({ domid: 3, dom0: { pages: 4096 } })).message).toMatch(/domid 0 only/);
    expect(refusal(() => normalizeConfig({ domid: 3, host: { e820: SERVER.host?.e820 } })).code).toBe('BAD_CONFIG');
    expect(refusal(() => normalizeConfig({ domid: 0, dom0: { pagez: 1 } as never })).message).toMatch(/allowed: pages, allocStart, initrdBytes, vcpus/);
    expect(refusal(() => normalizeConfig({ ...SERVER, memory: '4G' })).message).toMatch(/the map decides/);
  });
});
