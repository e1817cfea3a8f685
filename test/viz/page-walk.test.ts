import { describe, expect, it } from 'vitest';
import { pageWalkView } from '../../lib/viz';
import { walk } from '../../lib/x86/walk';
import { REGIONS, tinySpace } from './walk-fixtures';
import { expectLabError } from '../support/lab-error';

// A fresh space per walk: a successful walk sets accessed flags, which show in the entries.
const space = tinySpace();
const regs = { cr3: space.cr3, efer: { nxe: true } };
const pageType = (f: number) => (space.tables.has(f) ? `l${space.tables.get(f)}_page_table` : undefined);
const fresh = (va: string, access: { kind: 'read' | 'write' | 'fetch'; user: boolean }, extra = {}) =>
  walk(tinySpace().mem, { ...regs, ...extra }, va, access);
const read = { kind: 'read' as const, user: false };

describe('pageWalkView', () => {
  it("splits the seed's address into its indices with their bit ranges", () => {
    const v = pageWalkView({ result: fresh('ffffea000005b2d0', read), address: 'ffffea000005b2d0', access: read });
    expect(v.title).toBe('Page walk of ffffea000005b2d0 · supervisor read');
    expect(v.text).toContain('PML4 index [47:39] = 0x1d4 (468), PDPT index [38:30] = 0x0 (0), PD index [29:21] = 0x0 (0), PT index [20:12] = 0x5b (91), page offset [11:0] = 0x2d0');
    expect(v.html).toContain('bits 47:39');
    expect(v.html).toContain('111010100'); // 468 in 9 bits
  });

  it('ends an empty PML4 slot in a not-present fault, error code decoded bit by bit', () => {
    const v = pageWalkView({ result: fresh('ffffea000005b2d0', read), address: 'ffffea000005b2d0', regions: REGIONS });
    expect(v.text).toContain('L4[0x1d4] = 0000000000000000');
    expect(v.text).toContain('→ #PF: not present at PML4E (L4), error code 0000');
    expect(v.html).toContain('#PF page fault: not present at PML4E (L4); error code 0000 (ec=0000)');
    expect(v.html).toContain('P=0: the page was not present');
    expect(v.html).toContain('I/D=0: not an instruction fetch');
    expect(v.html.match(/<div class="pvops-walk-level"/g)).toHaveLength(1);
    expect(v.text.split('\n')[0]).toContain('(vmemmap)');
  });

  it('draws every level of a successful walk: table, entry, flags, the frame it points to, and the page', () => {
    const v = pageWalkView({ result: fresh('ffff880000002123', read), address: 'ffff880000002123', pageType });
    expect(v.html.match(/<div class="pvops-walk-level"/g)).toHaveLength(4);
    expect(v.text).toContain('L4[0x110] = 0000000000002003 (table at 0x1000, l4_page_table): points to the page-directory-pointer table (PDPT) at frame 0x2 (Xen type l3_page_table)');
    expect(v.text).toContain('L1[0x002] = 8000000000102003 (table at 0x4000, l1_page_table): maps a 4 KiB page at frame 0x102');
    expect(v.text).toContain('→ physical address 0x102123 (4 KiB page, writable, supervisor, no-execute)');
    expect(v.html).toContain('title="bit 63">XD</th>');
    expect(v.html).toContain('Translated: physical address');
  });

  it('stops at a 2 MiB page and greys out the PT index the walk never used', () => {
    const v = pageWalkView({ result: fresh('ffffffff81012345', { kind: 'fetch', user: false }), address: 'ffffffff81012345' });
    expect(v.text).toContain('maps a 2 MiB page at frame 0x1000');
    expect(v.text).toContain('→ physical address 0x1012345 (2 MiB page, read-only, supervisor, executable)');
    expect(v.html).toMatch(/opacity:0\.45">0x12 \(18\)/);
    expect(v.html).toContain('>PS</th>');
  });

  it('reports a write to a read-only page as a protection fault with W/R and P set', () => {
    const v = pageWalkView({ result: fresh('ffff880000004000', { kind: 'write', user: false }, { cr0: { wp: true } }), address: 'ffff880000004000' });
    expect(v.text).toContain('→ #PF: protection violation at the access rights of the whole path, error code 0003');
    expect(v.text).toContain('W/R=1: the access was a write');
  });

  it('works from a result alone, taking the indices from the steps', () => {
    const v = pageWalkView({ result: fresh('ffff880000002123', read) });
    expect(v.text).toContain('PML4 index [47:39] = 0x110 (272)');
    expect(v.text).toContain('page offset [11:0] ?');
  });

  it('escapes region names and page types', () => {
    const v = pageWalkView({ result: fresh('ffff880000002123', read), address: 'ffff880000002123', regions: REGIONS, pageType: () => '<b>x</b>' });
    expect(v.html).toContain('direct &lt;map&gt;');
    expect(v.html).toContain('Xen type &lt;b&gt;x&lt;/b&gt;');
    expect(v.html).not.toContain('<b>x</b>');
  });

  it('refuses a missing result and a non-canonical address', () => {
    expect(() => pageWalkView({} as never)).toThrow(/input\.result must be a walk result/);
    const r = fresh('ffff880000002123', read);
    expectLabError(() => pageWalkView({ result: r, address: '0000900000000000' }), 'NON_CANONICAL');
  });
});
