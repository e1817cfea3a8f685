/**
 * Synthetic runs for the gallery and the figure examples, until lib/lab produces real ones. The
 * shapes are right (phases, page-table pages per level, faults by handler, hypercalls, a crash
 * with its console lines and stack) but the numbers are made up: a rough scaling with guest
 * memory, not the model's. Every run says "synthetic" in its label.
 */
import { TraceRecorder, type PtLevel } from '../../trace';
import { walk } from '../../x86/walk';
import type { RunView, StackFrameView } from '../types';
import { demoAddressSpace, demoStructPageAddress } from './demo-address-space';
import type { SweepPoint } from '../figures/memory-sweep';

export const DEMO_VARIANTS = ['v3.8', '8170e6bed465', '5b5c1af104ab'] as const;
export const DEMO_PLATFORMS = ['xen', 'bare-metal'] as const;

const DOMID = 7;

/** One synthetic run: `variant` on `platform` with `memoryMiB` of guest memory. */
export function demoRun(variant: string, platform: string, memoryMiB = 1024): RunView {
  const t = new TraceRecorder();
  const xen = platform === 'xen';
  const onDemand = variant !== 'v3.8';
  const crashes = xen && variant === '8170e6bed465';
  let pfn = 0x1000;
  const alloc = (level: PtLevel, by: string, n: number) => {
    for (let i = 0; i < n; i++) t.emit({ type: 'pt-page-alloc', level, pfn: pfn++, by });
  };
  const writes = (level: PtLevel, n: number) => { for (let i = 0; i < n; i++) t.countPteWrite(level); };
  const hyper = (name: string, n: number, op: string | null = null) => {
    for (let i = 0; i < n; i++) {
      t.emit({ type: 'hypercall', name, op, result: 0, domid: DOMID });
      if (op !== null) t.countMmuextOp(op);
    }
  };
  const l1Tables = Math.max(1, Math.ceil(memoryMiB / 2));
  const l2Tables = Math.max(1, Math.ceil(memoryMiB / 1024));

  t.enterPhase(xen ? 'xen_start_kernel' : 'startup_64');
  alloc(4, xen ? 'xen_setup_kernel_pagetable' : 'startup_64', 1);
  alloc(3, xen ? 'xen_setup_kernel_pagetable' : 'startup_64', 2);
  alloc(2, xen ? 'xen_setup_kernel_pagetable' : 'startup_64', 2);
  writes(2, 512);
  if (xen) { hyper('mmuext_op', 2, 'MMUEXT_PIN_L4_TABLE'); hyper('mmuext_op', 1, 'MMUEXT_NEW_BASEPTR'); hyper('update_va_mapping', 6); }
  t.emit({ type: 'cr3-load', value: '0x1000000', by: xen ? 'xen_setup_kernel_pagetable' : 'startup_64' });

  t.enterPhase('x86_64_start_kernel');
  if (onDemand && !xen) {
    for (let i = 0; i < 12; i++) {
      t.emit({ type: 'page-fault', address: `ffff8800${(i * 0x200000).toString(16).padStart(8, '0')}`, errorCode: 0, handler: 'early-pf', rip: null });
      alloc(i % 3 === 0 ? 3 : 2, 'early_make_pgtable', 1);
      writes(2, 1);
    }
  }

  t.enterPhase('setup_arch');
  if (xen) hyper('mmu_update', 24);
  if (onDemand && !xen) {
    for (let i = 0; i < 6; i++) t.emit({ type: 'page-fault', address: `ffffffffff5f${(i * 0x1000).toString(16).padStart(4, '0')}`, errorCode: 0, handler: 'early-pf', rip: null });
  }

  t.enterPhase('init_mem_mapping');
  let fault: RunView['fault'] = null;
  let xenConsole: string[] = [];
  let guestStack: StackFrameView[] = [];
  const half = Math.floor(l1Tables / 2);
  if (crashes) {
    alloc(3, 'alloc_low_page', 1);
    alloc(2, 'alloc_low_page', l2Tables);
    alloc(1, 'alloc_low_page', half);
    writes(1, half * 512);
    hyper('mmu_update', half);
    hyper('mmuext_op', half, 'MMUEXT_PIN_L1_TABLE');
    t.emit({ type: 'cr3-load', value: '0x1000000', by: 'xen_write_cr3' });
    const crash = demoCrash();
    t.emit({ type: 'page-fault', address: crash.address, errorCode: crash.errorCode, handler: 'unhandled', rip: 'ffffffff8103feba' });
    for (const line of crash.console) t.emit({ type: 'console', source: 'xen', line });
    t.emit({ type: 'domain-crash', domid: DOMID, reason: 'unhandled page fault in xen_get_user_pgd' });
    fault = { address: crash.address, errorCode: crash.errorCode, handler: 'unhandled' };
    xenConsole = crash.console;
    guestStack = crash.stack;
  } else {
    alloc(3, 'alloc_low_page', 1);
    alloc(2, 'alloc_low_page', l2Tables);
    if (xen) {
      alloc(1, 'alloc_low_page', l1Tables);
      writes(1, l1Tables * 512);
      hyper('mmu_update', l1Tables);
      hyper('mmuext_op', l1Tables, 'MMUEXT_PIN_L1_TABLE');
      hyper('mmuext_op', 1, 'MMUEXT_NEW_BASEPTR');
      hyper('mmuext_op', 1, 'MMUEXT_NEW_USER_BASEPTR');
    } else {
      writes(2, Math.ceil(memoryMiB / 2));
    }
    t.emit({ type: 'cr3-load', value: '0x1000000', by: variant === '5b5c1af104ab' && xen ? 'xen_write_cr3_init' : 'write_cr3' });
    t.enterPhase('paging_init');
    if (xen) { hyper('update_va_mapping', 8); hyper('mmuext_op', 4, 'MMUEXT_TLB_FLUSH_LOCAL'); }
    alloc(1, 'vmemmap_populate', Math.max(1, Math.ceil(memoryMiB / 256)));
    writes(1, Math.ceil(memoryMiB / 2));
  }
  return {
    label: `${variant} / ${platform} (synthetic)`,
    variant, platform,
    outcome: crashes ? { kind: 'crashed', reason: 'Xen crashed the domain: unhandled page fault in xen_get_user_pgd' } : 'booted',
    trace: t,
    xenConsole, guestStack, fault,
  };
}

/** The three variants on both platforms. */
export function demoRuns(memoryMiB = 1024): RunView[] {
  const runs: RunView[] = [];
  for (const platform of DEMO_PLATFORMS) for (const variant of DEMO_VARIANTS) runs.push(demoRun(variant, platform, memoryMiB));
  return runs;
}

/** Every variant and platform at each memory size. */
export function demoSweep(sizesMiB: readonly number[] = [256, 512, 1024, 2048, 4096, 8192]): SweepPoint[] {
  const points: SweepPoint[] = [];
  for (const memoryMiB of sizesMiB) for (const run of demoRuns(memoryMiB)) points.push({ memoryMiB, run });
  return points;
}

/**
 * The demo crash: the `struct page` of the demo's pgd read through an empty vmemmap slot. The
 * console lines are built from the demo walk, in Xen 4.2's formats (show_page_walk).
 */
function demoCrash(): { address: string; errorCode: number; console: string[]; stack: StackFrameView[] } {
  const space = demoAddressSpace(4);
  const pgdFrame = Number(space.cr3 / 4096n);
  const address = demoStructPageAddress(pgdFrame, 0x10);
  const result = walk(space.mem, space.regs, address, { kind: 'read', user: false });
  const ec = (result.errorCode ?? 0).toString(16).toUpperCase().padStart(4, '0');
  const lines = [`(XEN) d${DOMID}:v0: unhandled page fault (ec=${ec})`, `(XEN) Pagetable walk from ${address}:`];
  for (const s of result.steps) {
    const present = (s.entry & 1n) === 1n;
    const names = ['', 'L1', 'L2', 'L3', 'L4'];
    lines.push(`(XEN)  ${names[s.level]}[0x${s.index.toString(16).padStart(3, '0')}] = ${s.entry.toString(16).padStart(16, '0')} ` +
      `${present ? (s.entry >> 12n).toString(16).padStart(16, '0') : 'ffffffffffffffff'}`);
  }
  lines.push('(XEN) domain_crash_sync called from entry.S', `(XEN) Domain ${DOMID} (vcpu#0) crashed on cpu#0:`);
  // Made-up addresses from no real symbol table: the stack's shape, not the kernel's numbers.
  const stack: StackFrameView[] = [
    { address: 'ffffffff81001000', symbol: 'xen_get_user_pgd', offset: 0x5a },
    { address: 'ffffffff81002000', symbol: 'xen_write_cr3', offset: 0x77 },
    { address: 'ffffffff81003000', symbol: 'init_mem_mapping', offset: 0x1f9 },
    { address: 'ffffffff81004000', symbol: 'setup_arch', offset: 0x742 },
  ];
  return { address, errorCode: result.errorCode ?? 0, console: lines, stack };
}
