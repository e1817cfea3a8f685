/**
 * What get_page_from_l1e .. get_page_from_l4e print when they refuse an entry, as Xen 4.2.0 words
 * it (xen/arch/x86/mm.c at RELEASE-4.2.0): "Bad L%d flags %x" with exactly the entry's disallowed
 * flags in get_pte_flags form (842-845, 982-985, 1023-1026, 1048-1051; x86_64/page.h:155), and
 * "Non-privileged (%u) attempt to map I/O space %08lx" naming pg_owner, which DOMID_IO reverts to
 * the current domain (853-866). Written to kill mutants StrykerJS left alive in the expressions
 * these messages are built from (README "Mutation testing"). Only the message text is matched, not
 * the "mm.c:<line>" prefix. A debug build prints every such message (no rate limit).
 */
import { describe, expect, it } from 'vitest';
import { DOMID_IO, EINVAL, EPERM } from '../../lib/xen';
import {
  get_page_from_l1e, get_page_from_l2e, get_page_from_l3e, get_page_from_l4e,
} from '../../lib/xen/mm/validate';
import { G, P, PCD, PSE, PWT, RW, freeMfn, makeGuest, pte, type Guest } from './helpers';

const lo = (x: bigint) => Number(x & 0xffffffffn);
const hi = (x: bigint) => Number(x >> 32n);
function printed(g: Guest, f: () => void): string {
  const mark = g.host.console.lines.length;
  f();
  return g.host.console.since(mark).join('');
}

describe('"Bad L%d flags %x": the disallowed flags of the entry, nothing else', () => {
  // Each case: the entry's flags, and the flags the message must show (flag bits 23:12 are pte bits 63:52).
  const NX = 1n << 63n;
  it('an NX-less CPU: NX (flag bit 23) is disallowed at every level and shown with the low flags found', () => {
    const g = makeGuest({ host: { debug: true, cpuHasNx: false } });
    const d = g.domain.domid;
    const t = freeMfn(g, 0);
    const self = freeMfn(g, 1);
    const e1 = pte(t, P | RW | PWT | 0x60) | NX; // A|D are fine, PWT and NX are not
    expect(printed(g, () => expect(get_page_from_l1e(g.host, lo(e1), hi(e1), d, d)).toBe(-EINVAL))).toContain('Bad L1 flags 800008');
    const e2 = pte(t, P | G) | NX;
    expect(printed(g, () => expect(get_page_from_l2e(g.host, lo(e2), hi(e2), self, d)).toBe(-EINVAL))).toContain('Bad L2 flags 800100');
    const e3 = pte(t, P | PSE | PCD) | NX | (0x7ffn << 52n); // bits 62:52 are the guest's: not shown
    expect(printed(g, () => expect(get_page_from_l3e(g.host, lo(e3), hi(e3), self, d, false)).toBe(-EINVAL))).toContain('Bad L3 flags 800090');
    const e4 = pte(t, P | G);
    expect(printed(g, () => expect(get_page_from_l4e(g.host, lo(e4), hi(e4), self, d, false)).toBe(-EINVAL))).toContain('Bad L4 flags 100');
  });

  it('an NX CPU on a release-build mask: only the low disallowed flags; GLOBAL is fine in an L1, PSE in an L2', () => {
    const g = makeGuest({ host: { debug: true } });
    const d = g.domain.domid;
    const t = freeMfn(g, 0);
    const e1 = pte(t, P | G | PSE | PCD) | NX; // GLOBAL and NX allowed; PAT and PCD not
    expect(printed(g, () => expect(get_page_from_l1e(g.host, lo(e1), hi(e1), d, d)).toBe(-EINVAL))).toContain('Bad L1 flags 90');
    const e4 = pte(t, P | PWT | PCD | PSE | G) | NX;
    expect(printed(g, () => expect(get_page_from_l4e(g.host, lo(e4), hi(e4), freeMfn(g, 1), d, false)).toBe(-EINVAL))).toContain('Bad L4 flags 198');
  });
});

describe('"Non-privileged (%u) attempt to map I/O space %08lx" (mm.c:853-866)', () => {
  it('names pg_owner; DOMID_IO as pg_owner reverts to the current domain', () => {
    const g = makeGuest({ domid: 5, host: { debug: true } });
    g.host.currentDomid = 5;
    const io = pte(0x10, P);
    expect(printed(g, () => expect(get_page_from_l1e(g.host, lo(io), 0, 5, 5)).toBe(-EPERM))).toContain('Non-privileged (5) attempt to map I/O space 00000010');
    expect(printed(g, () => expect(get_page_from_l1e(g.host, lo(io), 0, 5, DOMID_IO)).toBe(-EPERM))).toContain('Non-privileged (5) attempt to map I/O space 00000010');
    expect(printed(g, () => expect(get_page_from_l1e(g.host, lo(io), 0, 5, 9)).toBe(-EPERM))).toContain('Non-privileged (9) attempt');
  });
});
