import { describe, expect, it } from 'vitest';
import { boot, reproduce } from '../../lib/lab/boot';
import { formatFrame } from '../../lib/lab/guest-stack';
import { SEED_XEN_LINES } from '../support/seed';

describe('8170e6bed465 under Xen: the crash of the seed, out of the model', () => {
  const r = reproduce();

  it('crashes in xen_write_cr3 called from init_mem_mapping', () => {
    expect(r.outcome).toBe('crashed');
    expect(r.callChain.slice(-3)).toEqual(['init_mem_mapping', 'xen_write_cr3', 'xen_get_user_pgd']);
  });

  it("prints the seed's six Xen lines, consecutively", () => {
    const start = r.xenConsole.indexOf(SEED_XEN_LINES[0]);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(r.xenConsole.slice(start, start + 6)).toEqual([...SEED_XEN_LINES]);
  });

  // fitted to the report: the call-site offsets and frame shapes (CALL_SITES, FRAMES in
  // lib/linux/variants.ts) are chosen so the stack symbolises like the report; that the frame
  // chain is sound and follows the call order is checked in crash-derivations.test.ts.
  it("symbolises the guest stack as the seed's author did", () => {
    expect(r.guestStack.slice(0, 6).map(formatFrame)).toEqual([
      '[<ffffffff8103feba>] xen_get_user_pgd+0x5a <--',
      '[<ffffffff8103feba>] xen_get_user_pgd+0x5a',
      '[<ffffffff81042d27>] xen_write_cr3+0x77',
      '[<ffffffff81ad2d21>] init_mem_mapping+0x1f9',
      '[<ffffffff81ac293f>] setup_arch+0x742',
      '[<ffffffff81666d71>] printk+0x48',
    ]);
    // and on, as the full report shows: the stale console word and the entry path
    expect(r.guestStack.slice(6).map((f) => `${f.symbol}+0x${f.offset.toString(16)}`)).toEqual([
      'start_kernel+0x90', '__add_preferred_console.clone.1+0x9b', 'x86_64_start_reservations+0x2a', 'xen_start_kernel+0x564',
    ]);
  });

  it("Xen's trap table for the guest has #DB and #BP (xen_load_idt at the end of early_trap_init) and no #PF", () => {
    // Linux 3.9.6 arch/x86/kernel/traps.c:686-702 (the 64-bit #PF gate waits for early_trap_pf_init,
    // setup.c:1106, after init_mem_mapping); Xen 4.2.0 traps.c:1125 null_trap_bounce on trap_ctxt[14]
    const run = boot().run();
    expect(run.xenTrapTable().map((e) => `${e.vector} ${e.symbol}`)).toEqual(['1 xen_debug', '3 xen_int3']);
  });

  it('reports the fault, the registers and the pgd from the state', () => {
    expect(r.fault).toEqual({ address: 'ffffea000005b2d0', errorCode: 0 });
    expect(r.pgdPfn).toBe(0x1a0c);
    // rax = VMEMMAP_START and rdx = pfn * sizeof(struct page) (virt_to_page), rbx = rsi = the pgd's
    // physical address (xen_write_cr3's argument), rcx = -__START_KERNEL_map (__pa's constant):
    // values derived by the model; which register holds which is read off the report (see
    // crash-derivations.test.ts and domu-report.test.ts).
    expect(r.xenConsole).toContain('(XEN) rax: ffffea0000000000   rbx: 0000000001a0c000   rcx: 0000000080000000');
    expect(r.xenConsole.some((l) => l.startsWith('(XEN) rdx: 000000000005b2a0   rsi: 0000000001a0c000'))).toBe(true);
    // fitted to the report: rsp = (the rsp at the fault & ~0xf) - 64, create_bounce_frame's frame
    // (derived, crash-derivations.test.ts); the rsp at the fault follows from the frame sizes in
    // lib/linux/variants.ts FRAMES, read off the report's stack.
    expect(r.xenConsole).toContain('(XEN) Guest stack trace from rsp=ffffffff81a01d90:');
    expect(r.counters.pageFaults).toMatchObject({ handled: 0, unhandled: 1 });
    expect(r.counters.hypercalls.mmuext_op).toBeGreaterThan(0);
  });
});

describe('the knobs change the crash as Xen and Linux would', () => {
  it('domain id and physical CPU appear in the Xen lines', () => {
    const r = reproduce({ domid: 12, pcpu: 1 });
    expect(r.xenConsole).toContain('(XEN) d12:v0: unhandled page fault (ec=0000)');
    expect(r.xenConsole).toContain('(XEN) Domain 12 (vcpu#0) crashed on cpu#1:');
    expect(r.xenConsole).toContain('(XEN) CPU:    1');
  });

  it('a 64-byte struct page moves the faulting address (0x1a0c * 64 + 48), same L4 slot', () => {
    const r = reproduce({ structPageSize: 64 });
    expect(r.xenConsole).toContain('(XEN) Pagetable walk from ffffea0000068330:');
    expect(r.xenConsole).toContain('(XEN)  L4[0x1d4] = 0000000000000000 ffffffffffffffff');
    expect(r.fault?.address).toBe('ffffea0000068330');
  });
});

describe('the other kernels boot under Xen', () => {
  it('5b5c1af104ab: xen_write_cr3_init loads only the kernel base pointer, then vmemmap gets mapped', () => {
    const run = boot({ variant: '5b5c1af104ab' });
    run.runTo('xen_write_cr3_init');
    expect(run.result().callChain.slice(-2)).toEqual(['init_mem_mapping', 'xen_write_cr3_init']);
    const r = run.run().result();
    expect(r.outcome).toBe('booted');
    expect(r.xenConsole.filter((l) => l.includes('unhandled page fault'))).toEqual([]);
    expect(r.counters.mmuextOps.MMUEXT_NEW_USER_BASEPTR ?? 0).toBe(0);
    expect(r.counters.ptPages.l3).toBeGreaterThanOrEqual(1); // the vmemmap's L3 under L4[0x1d4]
  });

  it('8170e6bed465^ (its parent): no CR3 reload in init_mem_mapping, boots', () => {
    const r = reproduce({ variant: '8170e6bed465^' });
    expect(r.outcome).toBe('booted');
    expect(r.counters.mmuextOps.MMUEXT_NEW_USER_BASEPTR ?? 0).toBe(0);
  });

  it('v3.8: no CR3 load in init_memory_mapping, boots', () => {
    const r = reproduce({ variant: 'v3.8' });
    expect(r.outcome).toBe('booted');
    expect(r.guestConsole).toContain('init_memory_mapping: [mem 0x00000000-0x7fffffff]');
  });
});
