/**
 * The bare-metal early #PF handler's reset really wipes the early page tables, and the dynamic
 * pages are reused from the first one: arch/x86/kernel/head64.c at 8170e6bed465
 * (reset_early_page_tables: every early_level4_pgt entry but the last, the kernel's, is cleared,
 * next_early_pgt goes back to 0, CR3 is reloaded; early_make_pgtable then takes
 * early_dynamic_pgts[next_early_pgt++] again). A counter alone (how many resets) cannot show this.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../lib/lab/boot';
import { early_make_pgtable, reset_early_page_tables } from '../../lib/linux/boot/head64';
import { EARLY_DYNAMIC_PAGE_TABLES, PAGE_SIZE, __PAGE_OFFSET, pgd_index, pud_index } from '../../lib/linux/layout';
import { walk } from '../../lib/x86/walk';

const GiB = 2 ** 30;

function startKernel() {
  const run = boot({ variant: '8170e6bed465', platform: 'bare-metal', memory: '1T' }).runTo('start_kernel');
  const m = run.current!;
  const k = m.kernel;
  const l4 = k.ktextVa(k.image.early_level4_pgt);
  /** early_level4_pgt's entries as [lo, hi] */
  const pgd = (): Array<[number, number]> => [...Array(512).keys()].map((i) => k.readEntry(l4 + i * 8) as [number, number]);
  const translates = (va: number): boolean =>
    walk(m.platform.memory, { cr3: BigInt(k.image.early_level4_pgt), efer: { nxe: true } }, BigInt.asUintN(64, BigInt(va) | 0xffff000000000000n), { kind: 'read', user: false }).ok;
  return { m, k, l4, pgd, translates };
}

describe('reset_early_page_tables (head64.c, 8170e6bed465)', () => {
  it('clears every early_level4_pgt entry but the kernel\'s and starts the dynamic pool again', () => {
    const { k, pgd, translates } = startKernel();
    expect(k.g.native_cr3).toBe(k.image.early_level4_pgt);
    // map a few GiB of the direct map on demand: they translate, from the pool
    for (let g = 2; g < 6; g++) expect(early_make_pgtable(k, __PAGE_OFFSET + g * GiB)).toBe(true);
    for (let g = 2; g < 6; g++) expect(translates(__PAGE_OFFSET + g * GiB + 0x123)).toBe(true);
    const before = pgd();
    const used = k.g.next_early_pgt;
    expect(used).toBeGreaterThan(4);
    expect(before.filter(([lo]) => (lo & 1) !== 0).length).toBeGreaterThanOrEqual(2); // the direct map's slot and 511
    const kernelSlot = before[511];
    expect(kernelSlot[0] & 1).toBe(1);

    reset_early_page_tables(k);
    const after = pgd();
    after.slice(0, 511).forEach(([lo, hi], i) => expect([i, lo, hi]).toEqual([i, 0, 0]));
    expect(after[511]).toEqual(kernelSlot);
    expect(k.g.next_early_pgt).toBe(0);
    expect(k.g.native_cr3).toBe(k.image.early_level4_pgt);
    // the direct map is gone; the kernel's own mapping (slot 511) is not
    for (let g = 2; g < 6; g++) expect(translates(__PAGE_OFFSET + g * GiB)).toBe(false);
    expect(translates(k.ktextVa(k.image.early_level4_pgt))).toBe(true);

    // the next fault takes early_dynamic_pgts[0] and [1] again, zeroed: only the GiB asked for maps
    expect(early_make_pgtable(k, __PAGE_OFFSET + 7 * GiB)).toBe(true);
    expect(k.g.next_early_pgt).toBe(2);
    const [lo4, hi4] = k.readEntry(k.ktextVa(k.image.early_level4_pgt) + pgd_index(__PAGE_OFFSET + 7 * GiB) * 8);
    const pud = (hi4 & 0xfffff) * 2 ** 32 + (lo4 & 0xfffff000);
    expect(pud).toBe(k.image.early_dynamic_pgts);
    const [lo3, hi3] = k.readEntry(k.ktextVa(pud) + pud_index(__PAGE_OFFSET + 7 * GiB) * 8);
    expect((hi3 & 0xfffff) * 2 ** 32 + (lo3 & 0xfffff000)).toBe(k.image.early_dynamic_pgts + PAGE_SIZE);
    expect(translates(__PAGE_OFFSET + 7 * GiB)).toBe(true);
    for (let g = 2; g < 6; g++) expect(translates(__PAGE_OFFSET + g * GiB)).toBe(false);
    // the reused PUD page holds exactly one entry: the rest was zeroed when it was taken again
    const present = [...Array(512).keys()].filter((i) => (k.readEntry(k.ktextVa(pud) + i * 8)[0] & 1) !== 0);
    expect(present).toEqual([pud_index(__PAGE_OFFSET + 7 * GiB)]);
  });

  it('runs out after EARLY_DYNAMIC_PAGE_TABLES pages in use and resets by itself, wiping what it had mapped', () => {
    const { k, pgd, translates } = startKernel();
    // At start_kernel the pool holds one PUD page (the direct map's pgd slot) and one PMD page (the
    // first GiB, touched by copy_bootdata): each new GiB then costs one PMD page, so the pool is
    // full after 64 - 2 = 62 touches and the 63rd (touch 62) resets. This is run-api.test.ts's [62].
    expect(k.g.next_early_pgt).toBe(2);
    const resets = k.g.early_pgt_resets;
    let g = 2;
    while (k.g.next_early_pgt < EARLY_DYNAMIC_PAGE_TABLES) expect(early_make_pgtable(k, __PAGE_OFFSET + g++ * GiB)).toBe(true);
    expect(g - 2).toBe(EARLY_DYNAMIC_PAGE_TABLES - 2);
    expect(translates(__PAGE_OFFSET + 2 * GiB)).toBe(true);
    expect(k.g.early_pgt_resets).toBe(resets);
    expect(early_make_pgtable(k, __PAGE_OFFSET + g * GiB)).toBe(true);
    expect(k.g.early_pgt_resets).toBe(resets + 1);
    expect(k.g.next_early_pgt).toBe(2);
    expect(translates(__PAGE_OFFSET + g * GiB)).toBe(true);
    expect(translates(__PAGE_OFFSET + 2 * GiB)).toBe(false);
    const live = pgd().map(([lo], i) => ((lo & 1) !== 0 ? i : -1)).filter((i) => i >= 0);
    expect(live).toEqual([pgd_index(__PAGE_OFFSET), 511]);
  });
});
