/**
 * The variants are states of the tree, in history order:
 * - v3.8: Linux 3.8.13 arch/x86/mm/init.c:43-100 find_early_table_space (entries summed per range,
 *   a page per range crossing an L4 slot, start 0, good_end = max_pfn_mapped << PAGE_SHIFT) and
 *   :134-316 init_memory_mapping (64-bit: __flush_tlb_all, no load_cr3; pagetable_reserve);
 *   arch/x86/xen/mmu.c:1504-1520 mask_rw_pte (64-bit: pfns in [pgt_buf_start, pgt_buf_top)
 *   write-protected), :1181-1193 xen_mapping_pagetable_reserve ("xen: setting RW the range");
 *   Makefile VERSION 3, PATCHLEVEL 8.
 * - 8170e6bed465^: Yinghai Lu's top-down init_mem_mapping (as 3.9.6 init.c:394-455, less the
 *   64-bit load_cr3 that 8170e6bed465's "-v6: switch to init_level4_pgt in init_mem_mapping" added at
 *   lines 451-452), no early #PF handler, the #PF gate in early_trap_init.
 * - 8170e6bed465 and 5b5c1af104ab: 3.9.6 init.c:451 load_cr3(swapper_pg_dir) on 64-bit too.
 */
import { describe, expect, it } from 'vitest';
import { boot, reproduce } from '../../lib/lab/boot';
import { VARIANT_IDS, kernelVariant } from '../../lib/linux/variants';
import { __PAGE_OFFSET } from '../../lib/linux/layout';

describe('the variants, in history order', () => {
  it('VARIANT_IDS runs from 3.8 through the parent to the commit and its fix', () => {
    expect(VARIANT_IDS).toEqual(['v3.8', '8170e6bed465^', '8170e6bed465', '5b5c1af104ab']);
  });

  it('each kernel prints its own release in the banner', () => {
    const banner = (r: { guestConsole: string[] }) => r.guestConsole.find((l) => l.startsWith('Linux version'));
    expect(banner(reproduce({ variant: 'v3.8', memory: '256M' }))).toBe('Linux version 3.8.0 (v3.8) #1 SMP');
    expect(banner(reproduce({ variant: '8170e6bed465^', memory: '256M' }))).toBe('Linux version 3.9.0-rc1 (8170e6bed465^) #1 SMP');
  });
});

describe("8170e6bed465^: Yinghai Lu's init_mem_mapping without the CR3 reload", () => {
  it('boots under Xen: no write_cr3 after xen_setup_kernel_pagetable, no user base pointer', () => {
    const r = reproduce({ variant: '8170e6bed465^', memory: '1G' });
    expect(r.outcome).toBe('booted');
    expect(r.guestConsole.some((l) => /^BRK \[0x[0-9a-f]{8}, 0x[0-9a-f]{8}\] PGTABLE$/.test(l))).toBe(true); // alloc_low_pages from the BRK
    const loads = r.trace.events.filter((e) => e.type === 'cr3-load' && e.by.startsWith('__xen_write_cr3')).map((e) => e.phase);
    expect(loads).toEqual(['xen_setup_kernel_pagetable']); // the guest's only one
    expect(r.counters.mmuextOps.MMUEXT_NEW_USER_BASEPTR ?? 0).toBe(0);
  });

  it('boots on bare metal on the static tables, with no CR3 load', () => {
    const r = reproduce({ variant: '8170e6bed465^', platform: 'bare-metal', memory: '2G' });
    expect(r.outcome).toBe('booted');
    expect(r.counters.cr3Loads).toBe(0);
    expect(r.counters.earlyPgtResets).toBe(0);
  });

  it('8170e6bed465 differs from it by the reload: one write_cr3 more, which under Xen is the crash', () => {
    const a = reproduce({ variant: '8170e6bed465^', platform: 'bare-metal', memory: '2G' });
    const b = reproduce({ variant: '8170e6bed465', platform: 'bare-metal', memory: '2G' });
    const byInit = b.trace.events.filter((e) => e.type === 'cr3-load' && e.phase === 'init_mem_mapping');
    expect(byInit.length).toBeGreaterThanOrEqual(1);
    expect(a.trace.events.filter((e) => e.type === 'cr3-load' && e.phase === 'init_mem_mapping')).toEqual([]);
    expect(kernelVariant('8170e6bed465^').initMemMappingEnd).toBe('flush');
  });
});

describe("v3.8: 3.8.13's find_early_table_space and Xen hooks", () => {
  it('sizes the buffer as 3.8.13 does: [0, 2G) in 4k pages (Xen) needs 1 + 2 + 1024 pages', () => {
    const run = boot({ variant: 'v3.8', memory: '2G' }).run();
    const g = run.current!.kernel.g;
    // puds: 2 entries -> 1 page; pmds: 1024 entries -> 2 pages; ptes: 524288 entries -> 1024 pages; no L4 crossing
    expect(g.pgt_buf_top - g.pgt_buf_start).toBe(1 + 2 + 1024);
    const line = run.result().guestConsole.find((l) => l.startsWith('kernel direct mapping tables up to 0x7fffffff @ [mem '));
    expect(line).toBeDefined();
  });

  it('on bare metal [0, 2G) in 2M pages needs 1 + 2 pages and no pte page (2M-aligned: no 4k head)', () => {
    const run = boot({ variant: 'v3.8', platform: 'bare-metal', memory: '2G' }).run();
    const g = run.current!.kernel.g;
    expect(run.result().guestConsole).toContain(' [mem 0x00000000-0x7fffffff] page 2M');
    expect(g.pgt_buf_top - g.pgt_buf_start).toBe(1 + 2);
  });

  it('mask_rw_pte: xen_set_pte_init write-protects an entry for a pfn inside [pgt_buf_start, pgt_buf_top), not outside', () => {
    const run = boot({ variant: 'v3.8', memory: '512M' }).runTo('kernel_physical_mapping_init');
    const k = run.current!.kernel;
    k.onRoutineEnter = null;
    expect(k.pv.set_pte.name).toBe('xen_set_pte_init');
    const scratch = k.ktextVa(k.image.boot_params); // a writable word of .data to store the entry in
    const entryFor = (pfn: number): number => {
      const frame = k.pv.pfn_to_entry_frame.fn(pfn);
      k.pv.set_pte.fn(scratch, ((frame % 1048576) * 4096 + 0x63) >>> 0, Math.floor(frame / 1048576)); // _PAGE_KERNEL: P|RW|A|D
      return k.cpu.read32(scratch);
    };
    expect(entryFor(k.g.pgt_buf_start) & 2).toBe(0);
    expect(entryFor(k.g.pgt_buf_top - 1) & 2).toBe(0);
    expect(entryFor(k.g.pgt_buf_top) & 2).toBe(2);
    expect(entryFor(k.g.pgt_buf_start - 1) & 2).toBe(2);
  });

  it('xen_mapping_pagetable_reserve makes the unused rest of the buffer writable again and says so', () => {
    const run = boot({ variant: 'v3.8', memory: '512M' }).run();
    const r = run.result();
    expect(r.outcome).toBe('booted');
    const g = run.current!.kernel.g;
    expect(g.pgt_buf_end).toBeLessThan(g.pgt_buf_top);
    const va = (pfn: number) => `0x${(BigInt(__PAGE_OFFSET) + BigInt(pfn) * 4096n + 0xffff000000000000n).toString(16)}`;
    expect(run.walk(va(g.pgt_buf_top - 1), 'write').ok).toBe(true);
    expect(run.walk(va(g.pgt_buf_start), 'write').ok).toBe(false); // used: a page table now, read-only
    expect(r.guestConsole).toContain(`xen: setting RW the range ${(g.pgt_buf_end * 4096).toString(16)} - ${(g.pgt_buf_top * 4096).toString(16)}`);
  });
});
