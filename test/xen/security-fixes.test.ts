/**
 * Two holes of Xen 4.2.2 as released, in the fast paths of mod_l2_entry .. mod_l4_entry
 * (xen/arch/x86/mm.c): XSA-148 (a superpage made out of an existing L2 entry) and XSA-182 (RW
 * added to a read-only linear mapping). The invariant fuzz found the first one; the model applies
 * both fixes unless the host turns them off, and these tests show each hole and its fix.
 */
import { describe, expect, it } from 'vitest';
import { EINVAL } from '../../lib/xen';
import { InvariantChecker } from './invariants';
import { A, P, PSE, RW, freeMfn, makeGuest, pin, pte, write, type Guest } from './helpers';

function checker(g: Guest, frames: number[]): InvariantChecker {
  const tables = [...Array(g.layout.pgtables.pages).keys()].map((i) => g.domain.pfnToMfn(g.layout.pgtables.pfn + i));
  return new InvariantChecker(g.host, g.domain, g.vcpu, [...tables, ...frames]);
}

describe('XSA-148: mod_l2_entry\'s fast path and L2_DISALLOW_MASK without allowsuperpage', () => {
  const setup = (fixed: boolean): { g: Guest; l2: number; l1: number } => {
    const g = makeGuest({ host: { xsa148Fixed: fixed, xsa182Fixed: false } }); // XSA-182's fix alone also closes it
    const [l2, l1] = [freeMfn(g, 0), freeMfn(g, 1)];
    expect(pin(g, 2, l2)).toBe(0);
    expect(write(g, l2, 0, pte(l1, P | RW | A))).toBe(0);
    return { g, l2, l1 };
  };
  it('as released: PSE added to an existing entry is accepted, mapping the L1 (a page table) writable', () => {
    const { g, l2, l1 } = setup(false);
    expect(write(g, l2, 0, pte(l1, P | RW | A | PSE))).toBe(0);
    expect(checker(g, [l2, l1]).check().join('\n')).toMatch(/superpage/);
  });
  it('fixed: the flag is refused (-EINVAL, "Bad L2 flags") and nothing changes', () => {
    const { g, l2, l1 } = setup(true);
    expect(write(g, l2, 0, pte(l1, P | RW | A | PSE))).toBe(-EINVAL);
    expect(checker(g, [l2, l1]).check()).toEqual([]);
  });
});

describe('XSA-182: the fast path lets RW onto a read-only linear mapping', () => {
  const setup = (fixed: boolean): { g: Guest; l4: number } => {
    const g = makeGuest({ host: { xsa182Fixed: fixed, xsa148Fixed: false } });
    const l4 = freeMfn(g, 0);
    expect(write(g, l4, 5, pte(l4, P | A))).toBe(0); // a read-only self-map: allowed
    expect(pin(g, 4, l4)).toBe(0);
    return { g, l4 };
  };
  it('as released: RW added to the self-map is accepted (the guest can write its own L4)', () => {
    const { g, l4 } = setup(false);
    expect(write(g, l4, 5, pte(l4, P | RW | A))).toBe(0);
    expect(checker(g, [l4]).check().join('\n')).toMatch(/writable linear self-map/);
  });
  it('fixed: the update is revalidated and refused (-EINVAL: "Attempt to create linear p.t. with write perms")', () => {
    const { g, l4 } = setup(true);
    expect(write(g, l4, 5, pte(l4, P | RW | A))).toBe(-EINVAL);
    expect(checker(g, [l4]).check()).toEqual([]);
  });
});
