import { describe, expect, it } from 'vitest';
import { buildPageTableTree, pageTableExplorer, pageTableTreeView, regionLookupFromTable } from '../../lib/viz';
import { encodePte } from '../../lib/x86/pte';
import { PhysicalMemory } from '../../lib/x86/physical-memory';
import { REGIONS, tinySpace } from './walk-fixtures';
import { expectLabError } from '../support/lab-error';

const space = tinySpace();
const pageType = (f: number) => (space.tables.has(f) ? `l${space.tables.get(f)}_page_table` : f === 0x104 ? 'writable <ro>' : undefined);

describe('buildPageTableTree', () => {
  const tree = buildPageTableTree(space.mem, space.cr3, { regions: REGIONS, pageType });

  it('has one root per present L4 slot, with the tables below them', () => {
    expect(tree.roots.map((n) => [n.level, n.first, n.start, n.region])).toEqual([
      [4, 0x110, 'ffff880000000000', 'direct <map>'],
      [4, 0x1ff, 'ffffff8000000000', undefined],
    ]);
    expect(tree.tables).toBe(6);
    expect(tree.presentEntries).toBe(2 + 2 + 2 + 6); // L4, L3, L2, L1
    expect(tree.pml4Type).toBe('l4_page_table');
    expect(tree.truncated).toBe(false);
  });

  it('collapses contiguous leaves with equal flags and types into runs, and breaks runs where they differ', () => {
    const l1 = tree.roots[0].children[0].children[0].children;
    expect(l1.map((n) => [n.first, n.last, n.frame, n.end, n.pageType])).toEqual([
      [0, 3, 0x100, 'ffff880000003fff', undefined], // four RW pages, frames 0x100..0x103
      [4, 4, 0x104, 'ffff880000004fff', 'writable <ro>'], // read-only: other flags
      [5, 5, 0x200, 'ffff880000005fff', undefined], // RW again, but frame 0x200 is not next
    ]);
    expect(l1[0].flags).toEqual(['P', 'RW', 'sup', 'NX']);
    expect(l1[0].pageSize).toBe(4096);
  });

  it('shows a large page as a leaf of its level, with the region it starts in', () => {
    const kernelL2 = tree.roots[1].children[0].children;
    expect(kernelL2).toHaveLength(1);
    expect(kernelL2[0]).toMatchObject({ level: 2, first: 8, leaf: true, pageSize: 2 ** 21, frame: 0x1000, start: 'ffffffff81000000', region: 'kernel text' });
    expect(kernelL2[0].flags).toContain('PSE');
  });

  it('does not expand an entry that points back to a table above it (a linear page-table mapping)', () => {
    const s = tinySpace();
    const pml4 = Number(s.cr3 / 4096n);
    s.mem.write64(BigInt(pml4 * 4096 + 258 * 8), encodePte({ present: true, writable: true, address: s.cr3 }));
    const t = buildPageTableTree(s.mem, s.cr3);
    const linear = t.roots.find((n) => n.first === 258)!;
    expect(linear).toMatchObject({ loopsTo: 4, children: [], start: 'ffff810000000000' });
    expect(t.tables).toBe(6);
    expect(pageTableTreeView(t).text).toContain('L4[0x102] ffff810000000000–ffff817fffffffff → frame 0x1, the L4 table above: a recursive (linear) page-table mapping, not expanded again');
  });

  it('takes a region lookup function of the 48-bit address, as lib/linux has one', () => {
    const t = buildPageTableTree(space.mem, space.cr3, { regions: (va48) => (va48 >= 2 ** 47 ? 'upper half' : null) });
    expect(t.roots.map((n) => n.region)).toEqual(['upper half', 'upper half']);
  });

  it('stops at maxNodes and says so', () => {
    const small = buildPageTableTree(space.mem, space.cr3, { maxNodes: 3 });
    expect(small.truncated).toBe(true);
    expect(small.nodes).toBe(3);
  });

  it('refuses what is not a memory and a bad maxNodes', () => {
    expect(() => buildPageTableTree({} as never, 0n)).toThrow(/mem must be a PhysicalMemory/);
    expectLabError(() => buildPageTableTree(space.mem, space.cr3, { maxNodes: 0 }), 'VALUE_OUT_OF_RANGE');
  });
});

describe('pageTableExplorer', () => {
  const view = pageTableExplorer(space.mem, space.cr3, { regions: regionLookupFromTable(REGIONS), pageType });

  it('draws a collapsible tree: a <details> per table entry, a line per run', () => {
    expect(view.html.match(/<details class="pvops-pt" data-level="4"/g)).toHaveLength(2);
    expect(view.html.match(/<details class="pvops-pt" data-level="3"/g)).toHaveLength(2);
    expect(view.html.match(/<div class="pvops-pt-run" data-level="1"/g)).toHaveLength(3);
    expect(view.html.match(/<div class="pvops-pt-run" data-level="2"/g)).toHaveLength(1);
    expect(view.html.split('<details').length).toBe(view.html.split('</details>').length);
  });

  it('names regions and page types, escaped', () => {
    expect(view.html).toContain('direct &lt;map&gt;');
    expect(view.html).toContain('(writable &lt;ro&gt;)');
    expect(view.html).not.toContain('<ro>');
    expect(view.text).toContain('L1[0x0–0x3] ffff880000000000–ffff880000003fff → 4 × 4 KiB pages, frames 0x100–0x103 · P RW sup NX');
    expect(view.text).toContain('L2[0x8] ffffffff81000000–ffffffff811fffff → 2 MiB page, frame 0x1000 · P ro sup PSE GLB x');
    expect(view.text).toContain('L3[0x0] ffff880000000000–ffff88003fffffff → L2 table, frame 0x3 (l2_page_table)');
    // a region is named where it changes from the parent's: at L3 for the kernel text, not again below
    expect(view.text).toContain('L3[0x1fe] ffffffff80000000–ffffffffbfffffff · kernel text → L2 table');
  });

  it('says when the PML4 is empty', () => {
    const mem = new PhysicalMemory();
    const empty = pageTableExplorer(mem, BigInt(mem.allocFrame() * 4096));
    expect(empty.html).toContain('No present entries');
    expect(empty.text).toContain('1 table page, 0 present entries');
  });
});
