import { describe, expect, it } from 'vitest';
import { formatVirtualAddress } from '../../lib/x86/address';
import { VMEMMAP_START, __PAGE_OFFSET, pgd_index, regionName } from '../../lib/linux/layout';
import { pfn_to_page, structPageLayout } from '../../lib/linux/struct-page';
import { KERNEL_IMAGE } from '../../lib/linux/image';
import { kernelVariant } from '../../lib/linux/variants';
import { expectLabError } from '../support/lab-error';

describe('Linux 3.9 x86-64 layout (Documentation/x86/x86_64/mm.txt)', () => {
  it('puts vmemmap in L4 slot 0x1d4 and the direct map in slot 272', () => {
    expect(pgd_index(VMEMMAP_START)).toBe(0x1d4);
    expect(pgd_index(__PAGE_OFFSET)).toBe(272);
    expect(regionName(VMEMMAP_START + 0x5b2d0)).toMatch(/vmemmap/);
  });

  it("derives the seed's faulting address from init_level4_pgt's pfn, sizeof(struct page) and offsetof(private)", () => {
    const layout = structPageLayout(56);
    const pfn = KERNEL_IMAGE.init_level4_pgt / 4096;
    expect(pfn).toBe(0x1a0c);
    expect(formatVirtualAddress(pfn_to_page(layout, pfn) + layout.private)).toBe('ffffea000005b2d0');
    // with a 64-byte struct page the same pgd's private lies elsewhere
    const l64 = structPageLayout(64);
    expect(formatVirtualAddress(pfn_to_page(l64, pfn) + l64.private)).toBe('ffffea0000068330');
  });

  it('refuses a struct page size other than 56 or 64, and an unknown variant', () => {
    expectLabError(() => structPageLayout(48), 'BAD_CONFIG');
    expect(() => kernelVariant('v4.0')).toThrow(/variant must be one of v3\.8, 8170e6bed465\^, 8170e6bed465, 5b5c1af104ab/);
  });

  it('symbolises the return addresses of the seed stack from function starts and offsets', () => {
    const s = kernelVariant('8170e6bed465').symbols;
    const at = (name: string, off: number): string | undefined => s.lookup(s.address(name) + off)?.text;
    expect(at('xen_get_user_pgd', 0x5a)).toBe('xen_get_user_pgd+0x5a');
    expect(formatVirtualAddress(s.address('xen_write_cr3') + 0x77)).toBe('ffffffff81042d27');
    expect(formatVirtualAddress(s.address('init_mem_mapping') + 0x1f9)).toBe('ffffffff81ad2d21');
    expect(s.lookup(0x1000)).toBeNull();
  });
});
