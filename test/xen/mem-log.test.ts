/**
 * MEM_LOG (gdprintk XENLOG_WARNING in xen/arch/x86/mm.c): a refused request is reported as
 * "(XEN) mm.c:<line>:d<domain> <message>", rate-limited on a release build (printk_ratelimit:
 * a burst of 10), all of them on a debug build. Line numbers: xen/arch/x86/mm.c at RELEASE-4.2.0
 * (and RELEASE-4.2.2 where said); a call spread over lines prints the line of its closing
 * parenthesis (GCC 4.x's __LINE__), e.g. "Bad type" at 4.2.0 mm.c:2502-2505 prints 2505.
 */
import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, MMUEXT_UNPIN_TABLE } from '../../lib/xen';
import { P, PCD, RW, freeMfn, makeGuest, pin, pinnedL1, pte, write, type Guest } from './helpers';

/** The first characters after "Error getting mfn " for badL1's entry. */
const l1Target = (g: Guest): string => g.vcpu.guestTable.toString(16);

/** An L1 (free frame 0) whose entry 3 maps the live L4 writable: no validation can accept it. */
function badL1(g: Guest): { l1: number; l4: number; l4pfn: string; e: string } {
  const l1 = freeMfn(g, 0);
  const l4 = g.vcpu.guestTable;
  expect(write(g, l1, 3, pte(l4, P | RW))).toBe(0);
  return { l1, l4, l4pfn: g.vcpu.mfnToPfn(l4).toString(16), e: `00000000${l4.toString(16).padStart(5, '0')}003`.slice(-16) };
}

describe('MEM_LOG', () => {
  // 4.2.0 mm.c: __get_page_type 2502-2505, get_page_from_l1e 911 and 960-963 (could_not_pin:
  // -EBUSY), alloc_l1_table 1281, alloc_page_type 2253-2256, do_mmuext_op 3071 (the pin takes the
  // type preemptibly, 3064, so alloc_l1_table's -EBUSY comes back).
  it('prints the chain of a failed pin: get_page_from_l1e, alloc_l1_table, alloc_page_type, do_mmuext_op', () => {
    const g = makeGuest({ domid: 7 });
    const { l1, l4, l4pfn, e } = badL1(g);
    expect(pin(g, 1, l1)).toBe(-EBUSY);
    expect(g.host.console.lines).toEqual([
      `(XEN) mm.c:2505:d7 Bad type (saw 4c00000000000002 != exp 7000000000000000) for mfn ${l4.toString(16)} (pfn ${l4pfn})`,
      '(XEN) mm.c:911:d7 Could not get page type PGT_writable_page',
      `(XEN) mm.c:963:d7 Error getting mfn ${l4.toString(16)} (pfn ${l4pfn}) from L1 entry ${e} for l1e_owner=7, pg_owner=7`,
      '(XEN) mm.c:1281:d7 Failure in alloc_l1_table: entry 3',
      expect.stringMatching(new RegExp(`^\\(XEN\\) mm\\.c:2256:d7 Error while validating mfn ${l1.toString(16)} \\(pfn [0-9a-f]+\\) for type 1000000000000000: caf=8000000000000002 taf=1000000000000001$`)),
      `(XEN) mm.c:3071:d7 Error while pinning mfn ${l1.toString(16)}`,
    ]);
  });

  // The same chain at RELEASE-4.2.2: mm.c 2516-2519, 925, 974-977, 1295, 2267-2270, 3085.
  it('prints 4.2.2\'s lines on a 4.2.2 host', () => {
    const g = makeGuest({ domid: 7, host: { release: '4.2.2' } });
    const { l1 } = badL1(g);
    expect(pin(g, 1, l1)).toBe(-EBUSY);
    expect(g.host.console.lines.map((l) => l.slice(0, 16))).toEqual([
      '(XEN) mm.c:2519:', '(XEN) mm.c:925:d', '(XEN) mm.c:977:d', '(XEN) mm.c:1295:', '(XEN) mm.c:2270:', '(XEN) mm.c:3085:',
    ]);
  });

  // Pinning an L2 over that L1: get_page_from_l2e (4.2.0 mm.c:990) takes the L1 type with
  // get_page_and_type_from_pagenr(..., 0, 0), whose non-preemptible branch (mm.c:716-718) turns
  // the -EBUSY into -EINVAL; that -EINVAL makes get_page_from_l2e try a linear mapping
  // (mm.c:991), which refuses an RW entry with the MEM_LOG of define_get_linear_pagetable(l2),
  // printed with the line of the macro's invocation (971); alloc_l2_table 1427.
  it('a nested failure: pinning an L2 over the bad L1 is -EINVAL, with the linear-mapping attempt logged', () => {
    const g = makeGuest({ domid: 7 });
    const { l1 } = badL1(g);
    const l2 = freeMfn(g, 1);
    expect(write(g, l2, 0, pte(l1, P | RW))).toBe(0);
    expect(pin(g, 2, l2)).toBe(-EINVAL);
    const logged = g.host.console.lines.map((l) => /^\(XEN\) mm\.c:(\d+):d7 (.*)$/.exec(l) ?? ['', '?', l]);
    expect(logged.map((m) => Number(m[1]))).toEqual([2505, 911, 963, 1281, 2256, 971, 1427, 2256, 3071]);
    const starts = ['Bad type (saw', 'Could not get page type', `Error getting mfn ${l1Target(g)}`, 'Failure in alloc_l1_table: entry 3',
      `Error while validating mfn ${l1.toString(16)} `, 'Attempt to create linear p.t. with write perms', 'Failure in alloc_l2_table: entry 0',
      `Error while validating mfn ${l2.toString(16)} `, `Error while pinning mfn ${l2.toString(16)}`];
    logged.forEach((m, i) => expect(m[2].startsWith(starts[i]), `${m[2]} / ${starts[i]}`).toBe(true));
  });

  // 4.2.0 mm.c: mod_l1_entry 1845-1846, mod_l4_entry 2056, MMUEXT_UNPIN_TABLE 3128, default 3405.
  it('reports bad flags, a Xen-slot write, an unpin of an unpinned frame, an unknown command', () => {
    const g = makeGuest({ domid: 3 });
    const l1 = pinnedL1(g);
    expect(write(g, l1, 1, pte(g.domain.pfnToMfn(0x20), P | PCD))).toBe(-EINVAL);
    expect(write(g, g.vcpu.guestTable, 260, 0n)).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_UNPIN_TABLE, mfn: freeMfn(g, 5) }])).toBe(-EINVAL);
    expect(g.vcpu.HYPERVISOR_mmuext_op([{ cmd: 99 }])).toBe(-38);
    const l4 = BigInt(g.vcpu.guestTable);
    expect(g.host.console.lines).toEqual([
      '(XEN) mm.c:1846:d3 Bad L1 flags 10',
      `(XEN) mm.c:2056:d3 Illegal L4 update attempt in Xen-private area ${(0xffff830000000000n + l4 * 4096n + 260n * 8n).toString(16)}`,
      `(XEN) mm.c:3128:d3 Mfn ${freeMfn(g, 5).toString(16)} not pinned`,
      '(XEN) mm.c:3405:d3 Invalid extended pt command 0x63',
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
