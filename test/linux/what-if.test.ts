/**
 * The fixes an engineer could have tried on 8170e6bed465 under Xen, each a routine override
 * (lib/linux/what-if.ts), with its true outcome:
 * - 'guard-user-pgd': xen_get_user_pgd gives NULL before the struct pages exist; Linux 3.9.6
 *   arch/x86/xen/mmu.c:1411-1434 xen_write_cr3 then queues __xen_write_cr3(false, 0), i.e.
 *   MMUEXT_NEW_USER_BASEPTR with mfn 0 (:1384-1410), which Xen 4.2.0 xen/arch/x86/mm.c:3148-3183
 *   accepts (mfn 0 takes no reference and clears guest_table_user): it boots.
 * - 'no-reload-under-xen': init_mem_mapping without load_cr3 (3.9.6 init.c:451) on a PV guest: boots.
 * - 'pf-gate-early': 3.8.13 traps.c:705's gate order with 3.9.6's CR3 load: Xen holds a #PF entry,
 *   bounces the fault, and the guest's do_page_fault oopses (3.9.6 arch/x86/mm/fault.c:576-602
 *   show_fault_oops, :631-693 no_context; arch/x86/kernel/dumpstack.c:28-32 printk_address with %pB;
 *   :243-249 oops_end (no panic_on_oops); kernel/exit.c:720 do_exit of pid 0 panics).
 * - 'xen-write-cr3-init': 5b5c1af104ab's change on 8170e6bed465: boots as 5b5c1af104ab does.
 */
import { describe, expect, it } from 'vitest';
import { boot, reproduce } from '../../lib/lab/boot';
import { applyWhatIf, WHAT_IF_NAMES, WHAT_IFS } from '../../lib/linux/what-if';
import { kernelVariant } from '../../lib/linux/variants';

describe('what-ifs are routine overrides of 8170e6bed465', () => {
  it('each names the change and overrides only routine fields of the variant', () => {
    expect(WHAT_IF_NAMES).toEqual(['guard-user-pgd', 'no-reload-under-xen', 'pf-gate-early', 'xen-write-cr3-init']);
    const base = kernelVariant('8170e6bed465');
    for (const name of WHAT_IF_NAMES) {
      const v = applyWhatIf(base, name);
      expect(v.whatIf).toBe(name);
      expect(WHAT_IFS[name].patch.length).toBeGreaterThan(20);
      const changed = Object.keys(v).filter((key) => key !== 'whatIf' && (v as never)[key] !== (base as never)[key]);
      expect(changed).toEqual(Object.keys(WHAT_IFS[name].override));
    }
  });
});

describe('their outcomes under Xen', () => {
  it("'guard-user-pgd' boots: the reload asks Xen for no user base pointer (mfn 0)", () => {
    const run = boot({ whatIf: 'guard-user-pgd', memory: '512M' }).run();
    const r = run.result();
    expect(r.outcome).toBe('booted');
    expect(r.xenConsole.filter((l) => l.includes('unhandled page fault'))).toEqual([]);
    expect(r.counters.mmuextOps.MMUEXT_NEW_USER_BASEPTR).toBeGreaterThanOrEqual(1);
    const userLoad = r.trace.events.find((e) => e.type === 'cr3-load' && e.by === '__xen_write_cr3(user)');
    expect(userLoad).toMatchObject({ value: '0', phase: 'init_mem_mapping' });
    expect(run.current!.platform.xen!.vcpu.guestTableUser).toBe(0);
  });

  it("'no-reload-under-xen' boots: init_mem_mapping makes no write_cr3", () => {
    const r = reproduce({ whatIf: 'no-reload-under-xen', memory: '512M' });
    expect(r.outcome).toBe('booted');
    expect(r.trace.events.filter((e) => e.type === 'cr3-load' && e.phase === 'init_mem_mapping')).toEqual([]);
  });

  it("'pf-gate-early' (= trapsEarly): Xen bounces the fault; the guest prints the oops, Xen prints nothing", () => {
    const r = reproduce({ whatIf: 'pf-gate-early', memory: '512M' });
    expect(r.outcome).toBe('crashed');
    expect(r.xenConsole).toEqual([]);
    expect(r.counters.pageFaults).toMatchObject({ bounced: 1, unhandled: 0 });
    const at = r.guestConsole.indexOf('BUG: unable to handle kernel paging request at ffffea000005b2d0');
    expect(at).toBeGreaterThan(0);
    expect(r.guestConsole.slice(at, at + 6)).toEqual([
      'BUG: unable to handle kernel paging request at ffffea000005b2d0',
      'IP: [<ffffffff8103feba>] xen_get_user_pgd+0x5a/0x70',
      'PGD 0 ', // dump_pagetable: the vmemmap's L4 slot is empty
      'Oops: 0000 [#1] SMP ',
      'CR2: ffffea000005b2d0',
      'Kernel panic - not syncing: Attempted to kill the idle task!',
    ]);
    expect(r.haltReason).toBe('Kernel panic - not syncing: Attempted to kill the idle task!');
    const early = reproduce({ trapsEarly: true, memory: '512M' });
    expect(early.guestConsole).toEqual(r.guestConsole);
  });

  it("'pf-gate-early' follows the knobs: a 64-byte struct page moves the oops' address", () => {
    const r = reproduce({ whatIf: 'pf-gate-early', memory: '512M', structPageSize: 64 });
    expect(r.guestConsole).toContain('BUG: unable to handle kernel paging request at ffffea0000068330');
  });

  it("'xen-write-cr3-init' boots as 5b5c1af104ab does", () => {
    const a = reproduce({ whatIf: 'xen-write-cr3-init', memory: '512M' });
    const b = reproduce({ variant: '5b5c1af104ab', memory: '512M' });
    expect(a.outcome).toBe('booted');
    expect(a.counters).toEqual(b.counters);
    const noBanner = (lines: string[]) => lines.filter((l) => !l.startsWith('Linux version')); // the build tag differs
    expect(noBanner(a.guestConsole)).toEqual(noBanner(b.guestConsole));
  });
});
