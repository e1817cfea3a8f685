/**
 * Known synthetic runs for the viz tests: every number a test expects can be read off here.
 *
 *  seq  phase  event
 *   0   boot   phase boot
 *   1   boot   pt-page-alloc L4 pfn 0x10
 *   2   boot   pt-page-alloc L3 pfn 0x11
 *  3-4  boot   2 PTE writes at L4 (counted, no event)
 *   5   boot   hypercall mmu_update
 *   6   map    phase map
 *   7   map    pt-page-alloc L2 pfn 0x12
 *   8   map    pt-page-alloc L1 pfn 0x13
 *   9   map    pt-page-alloc L1 pfn 0x14
 *  10   map    page fault, early-pf
 *  11   map    hypercall mmuext_op (MMUEXT_PIN_L1_TABLE counted)
 * 12-14 map    3 PTE writes at L1
 *  15   map    pt-page-free L1 pfn 0x14
 *  16   crash  phase crash
 *  17   crash  page fault at ffffea000005b2d0, unhandled
 *  18   crash  domain-crash
 *  now = 19
 */
import { TraceRecorder } from '../../lib/trace';
import type { RunView } from '../../lib/viz';

export function knownTrace(crash = true): TraceRecorder {
  const t = new TraceRecorder();
  t.enterPhase('boot');
  t.emit({ type: 'pt-page-alloc', level: 4, pfn: 0x10, by: 'xen_setup_kernel_pagetable' });
  t.emit({ type: 'pt-page-alloc', level: 3, pfn: 0x11, by: 'xen_setup_kernel_pagetable' });
  t.countPteWrite(4);
  t.countPteWrite(4);
  t.emit({ type: 'hypercall', name: 'mmu_update', op: null, result: 0, domid: 7 });
  t.enterPhase('map');
  t.emit({ type: 'pt-page-alloc', level: 2, pfn: 0x12, by: 'alloc_low_page' });
  t.emit({ type: 'pt-page-alloc', level: 1, pfn: 0x13, by: 'alloc_low_page' });
  t.emit({ type: 'pt-page-alloc', level: 1, pfn: 0x14, by: 'alloc_low_page' });
  t.emit({ type: 'page-fault', address: 'ffff880000001000', errorCode: 0, handler: 'early-pf', rip: null });
  t.emit({ type: 'hypercall', name: 'mmuext_op', op: 'MMUEXT_PIN_L1_TABLE', result: 0, domid: 7 });
  t.countMmuextOp('MMUEXT_PIN_L1_TABLE');
  t.countPteWrite(1);
  t.countPteWrite(1);
  t.countPteWrite(1);
  t.emit({ type: 'pt-page-free', level: 1, pfn: 0x14, by: 'free_low_page' });
  if (crash) {
    t.enterPhase('crash');
    t.emit({ type: 'page-fault', address: 'ffffea000005b2d0', errorCode: 0, handler: 'unhandled', rip: 'ffffffff8103feba' });
    t.emit({ type: 'domain-crash', domid: 7, reason: 'unhandled page fault' });
  }
  return t;
}

export function knownRun(overrides: Partial<RunView> = {}): RunView {
  return {
    variant: '8170e6bed465', platform: 'xen', outcome: 'crashed', trace: knownTrace(),
    xenConsole: ['(XEN) d7:v0: unhandled page fault (ec=0000)', '(XEN) Pagetable walk from ffffea000005b2d0:'],
    guestStack: [{ address: 'ffffffff8103feba', symbol: 'xen_get_user_pgd', offset: 0x5a }],
    fault: { address: 'ffffea000005b2d0', errorCode: 0, handler: 'unhandled' },
    ...overrides,
  };
}

/** A bare-metal run with two early #PF faults in one phase and no hypercalls. */
export function bareMetalRun(variant = '8170e6bed465'): RunView {
  const t = new TraceRecorder();
  t.enterPhase('x86_64_start_kernel');
  t.emit({ type: 'pt-page-alloc', level: 4, pfn: 1, by: 'startup_64' });
  t.emit({ type: 'page-fault', address: 'ffff880000000000', errorCode: 0, handler: 'early-pf', rip: null });
  t.emit({ type: 'page-fault', address: 'ffff880000200000', errorCode: 2, handler: 'early-pf', rip: null });
  t.emit({ type: 'pt-page-alloc', level: 2, pfn: 2, by: 'early_make_pgtable' });
  t.enterPhase('quiet');
  t.countPteWrite(2);
  return { variant, platform: 'bare-metal', outcome: 'booted', trace: t };
}
