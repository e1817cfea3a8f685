import { describe, expect, it } from 'vitest';
import { Run } from '../../lib/lab/run';
import { bareMetalPlatform } from '../../lib/lab/platforms/bare-metal';
import { walk } from '../../lib/x86/walk';
import { VMEMMAP_START, EARLY_DYNAMIC_PAGE_TABLES, __PAGE_OFFSET } from '../../lib/linux/layout';
import { early_make_pgtable } from '../../lib/linux/boot/head64';
import { canonicalAddress } from '../../lib/x86/address';

const bare = (variant: 'v3.8' | '8170e6bed465' | '5b5c1af104ab', memory = '1G') =>
  new Run({ variant, platform: 'bare-metal', memory }, bareMetalPlatform);

describe('bare-metal boot (arch/x86/kernel/head_64.S, head64.c, arch/x86/mm/init.c)', () => {
  it('v3.8 boots on its static tables with no early page faults', () => {
    const r = bare('v3.8').run().result();
    expect(r.outcome).toBe('booted');
    expect(r.counters.pageFaults.earlyPf).toBe(0);
    expect(r.counters.cr3Loads).toBe(0);
    expect(r.guestConsole).toContain('init_memory_mapping: [mem 0x00000000-0x3fffffff]');
  });

  it('8170e6bed465 materialises early mappings on demand, then loads init_level4_pgt at the end of init_mem_mapping', () => {
    const run = bare('8170e6bed465').run();
    const r = run.result();
    expect(r.outcome).toBe('booted');
    expect(r.counters.pageFaults.earlyPf).toBeGreaterThan(0);
    expect(r.counters.pageFaults.unhandled).toBe(0);
    const m = run.current!;
    expect(m.platform.currentCr3()).toBe(m.kernel.image.init_level4_pgt);
    // after paging_init the struct page array is mapped: the seed's address translates
    const seedPrivate = canonicalAddress(VMEMMAP_START + 0x1a0c * 56 + 48);
    const w = walk(m.platform.memory, { cr3: BigInt(m.platform.currentCr3()), efer: { nxe: true } }, seedPrivate, { kind: 'read', user: false });
    expect(w.ok).toBe(true);
    expect(w.pageSize).toBe(2 * 1024 * 1024);
  });

  it('the fix changes nothing on bare metal: 5b5c1af104ab boots the same way', () => {
    const a = bare('8170e6bed465').run().result();
    const b = bare('5b5c1af104ab').run().result();
    expect(b.outcome).toBe('booted');
    expect(b.counters.ptPages).toEqual(a.counters.ptPages);
    expect(b.counters.pageFaults).toEqual(a.counters.pageFaults);
  });

  it('early_make_pgtable wipes its tables and starts over when early_dynamic_pgts run out', () => {
    const run = bare('8170e6bed465').runTo('start_kernel');
    const k = run.current!.kernel;
    k.onRoutineEnter = null;
    const before = k.g.early_pgt_resets;
    // touch a different GiB of the direct map each time: each needs a new PMD page
    for (let gib = 2; gib < 2 + EARLY_DYNAMIC_PAGE_TABLES + 4; gib++) {
      expect(early_make_pgtable(k, __PAGE_OFFSET + gib * 2 ** 30)).toBe(true);
    }
    expect(k.g.early_pgt_resets).toBe(before + 1);
    expect(k.g.next_early_pgt).toBeLessThan(EARLY_DYNAMIC_PAGE_TABLES);
    // outside the direct map (the vmemmap) it refuses: a genuine fault
    expect(early_make_pgtable(k, VMEMMAP_START)).toBe(false);
  });
});
