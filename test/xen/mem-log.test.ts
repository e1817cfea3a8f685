/**
 * MEM_LOG (gdprintk XENLOG_WARNING in xen/arch/x86/mm.c): a refused request is reported as
 * "(XEN) mm.c:<line>:d<domain> <message>", rate-limited on a release build (printk_ratelimit:
 * a burst of 10), all of them on a debug build.
 */
import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, MMUEXT_UNPIN_TABLE } from '../../lib/xen';
import { P, PCD, RW, freeMfn, makeGuest, pin, pinnedL1, pte, write } from './helpers';

describe('MEM_LOG', () => {
  it('prints the chain of a failed pin: get_page_from_l1e, alloc_l1_table, alloc_page_type, do_mmuext_op', () => {
    const g = makeGuest({ domid: 7 });
    const l1 = freeMfn(g, 0);
    const l4 = g.vcpu.guestTable;
    expect(write(g, l1, 3, pte(l4, P | RW))).toBe(0);
    expect(pin(g, 1, l1)).toBe(-EBUSY);
    const l4pfn = g.vcpu.mfnToPfn(l4).toString(16);
    const e = `00000000${l4.toString(16).padStart(5, '0')}003`.slice(-16);
    expect(g.host.console.lines).toEqual([
      `(XEN) mm.c:2573:d7 Bad type (saw 4c00000000000002 != exp 7000000000000000) for mfn ${l4.toString(16)} (pfn ${l4pfn})`,
      '(XEN) mm.c:942:d7 Could not get page type PGT_writable_page',
      `(XEN) mm.c:991:d7 Error getting mfn ${l4.toString(16)} (pfn ${l4pfn}) from L1 entry ${e} for l1e_owner=7, pg_owner=7`,
      '(XEN) mm.c:1337:d7 Failure in alloc_l1_table: entry 3',
      expect.stringMatching(new RegExp(`^\\(XEN\\) mm\\.c:2314:d7 Error while validating mfn ${l1.toString(16)} \\(pfn [0-9a-f]+\\) for type 1000000000000000: caf=8000000000000002 taf=1000000000000001$`)),
      `(XEN) mm.c:3272:d7 Error while pinning mfn ${l1.toString(16)}`,
    ]);
  });

  it('reports bad flags, a Xen-slot write, an unpin of an unpinned frame, an unknown command', () => {
    const g = makeGuest({ domid: 3 });
    const l1 = pinnedL1(g);
    expect(write(g, l1, 1, pte(g.domain.pfnToMfn(0x20), P | PCD))).toBe(-EINVAL);
    expect(write(g, g.vcpu.guestTable, 260, 0n)).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_UNPIN_TABLE, mfn: freeMfn(g, 5) }])).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: 99 }])).toBe(-38);
    const l4 = BigInt(g.vcpu.guestTable);
    expect(g.host.console.lines).toEqual([
      '(XEN) mm.c:1906:d3 Bad L1 flags 10',
      `(XEN) mm.c:2115:d3 Illegal L4 update attempt in Xen-private area ${(0xffff830000000000n + l4 * 4096n + 260n * 8n).toString(16)}`,
      `(XEN) mm.c:3332:d3 Mfn ${freeMfn(g, 5).toString(16)} not pinned`,
      '(XEN) mm.c:3651:d3 Invalid extended pt command 0x63',
    ]);
  });

  it('is rate-limited on a release build (10 messages, the rest suppressed) and not on a debug build', () => {
    for (const debug of [false, true]) {
      const g = makeGuest({ host: { debug } });
      const l1 = pinnedL1(g);
      for (let i = 0; i < 25; i++) expect(write(g, l1, 1, pte(g.domain.pfnToMfn(0x20), P | PCD))).toBe(-EINVAL);
      expect(g.host.console.lines).toHaveLength(debug ? 25 : 10);
      expect(g.host.console.suppressed).toBe(debug ? 0 : 15);
    }
  });
});
