/**
 * Xen 4.1.5-pre, the release of the dom0 report (its banner: "Xen version 4.1.5-pre", changeset of
 * Fri Feb 15 15:31:55 2013 = git b39efd3dff on stable-4.1). Checked against that tree:
 * xen/Makefile:5 (XEN_EXTRAVERSION .5-pre), xen/common/kernel.c (cmdline_parse, print_tainted),
 * xen/include/xen/lib.h:113 (TAINT_SYNC_CONSOLE 1<<3), xen/drivers/char/console.c:588-592
 * (sync_console taints), xen/arch/x86/mm.c (MEM_LOG lines, get_page_from_l1e 799-922).
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import { normalizeConfig } from '../../lib/lab/config';
import { reproduce } from '../../lib/lab/boot';
import { XenHost } from '../../lib/xen';
import { cmdline_parse } from '../../lib/xen/cmdline';
import { XEN_RELEASES, xenReleaseFacts } from '../../lib/xen/release';
import { EBUSY, EINVAL } from '../../lib/xen';
import { makeGuest, pinnedL1, pte, write } from './helpers';

const refusal = (f: () => unknown): LabError => {
  try { f(); } catch (e) { if (e instanceof LabError) return e; throw e; }
  throw new Error('no LabError');
};

describe('Xen 4.1.5-pre as a release', () => {
  it('is one of the releases; an unknown one is refused naming all three', () => {
    expect(XEN_RELEASES).toContain('4.1.5-pre');
    const r = refusal(() => normalizeConfig({ xen: { release: '4.1.4' as never } }));
    expect(r.code).toBe('UNKNOWN_XEN_RELEASE');
    expect(r.message).toContain("'4.1.5-pre', '4.2.0', '4.2.2'");
  });

  it('its banner: version, debug flag and the taint sync_console leaves (or not)', () => {
    const h = new XenHost({ release: '4.1.5-pre', debug: true, cmdline: 'cpuinfo sync_console loglvl=all' });
    expect(h.versionString).toBe('4.1.5-pre');
    expect(h.taintString).toBe('Tainted:    C');
    expect(new XenHost({ release: '4.1.5-pre' }).taintString).toBe('Not tainted');
    expect(new XenHost({ cmdline: 'sync_console no-sync_console' }).taintString).toBe('Not tainted');
    expect(new XenHost({ cmdline: 'sync_console=off' }).taintString).toBe('Not tainted');
    expect(cmdline_parse('x', 'noreboot=1 sync_console=yes')).toEqual({ cmdline: 'noreboot=1 sync_console=yes', sync_console: true, noreboot: true, xsave: null });
    expect(refusal(() => cmdline_parse('xen.cmdline', 42)).code).toBe('WRONG_TYPE');
    expect(refusal(() => normalizeConfig({ xen: { debug: 'yes' as never } })).code).toBe('WRONG_TYPE');
  });

  it('a domU crash on 4.1.5-pre prints the 4.1 banner, debug=y and the sync_console taint', () => {
    const r = reproduce({ memory: '512M', xen: { release: '4.1.5-pre', debug: true, cmdline: 'sync_console' } });
    const banner = r.xenConsole.find((l) => l.includes('----['));
    expect(banner).toBe('(XEN) ----[ Xen-4.1.5-pre  x86_64  debug=y  Tainted:    C ]----');
  });

  it('4.1 leaves XSAVE off unless its command line says xsave (cpu/common.c use_xsave = 0; 4.2: 1); VMX puts CR4.VMXE in', () => {
    const OSXSAVE = 0x40000;
    expect(new XenHost({ release: '4.1.5-pre' }).cr4 & OSXSAVE).toBe(0);
    expect(new XenHost({ release: '4.1.5-pre', cmdline: 'xsave' }).cr4 & OSXSAVE).toBe(OSXSAVE);
    expect(new XenHost({ release: '4.2.0' }).cr4 & OSXSAVE).toBe(OSXSAVE);
    expect(new XenHost({ release: '4.2.0', cmdline: 'no-xsave' }).cr4 & OSXSAVE).toBe(0);
    expect(new XenHost({ release: '4.1.5-pre', cpuHasVmx: true }).cr4).toBe(0x26f0);
  });

  it('a refused L1 write comes back -EINVAL on 4.1 (mod_l1_entry is a boolean there), -EBUSY on 4.2; 4.1 logs only could_not_pin', () => {
    const P = 1; const RW = 2;
    const rcOf = (release: '4.1.5-pre' | '4.2.0'): [number, string[]] => {
      const g = makeGuest({ host: { release, debug: true } });
      const l1 = pinnedL1(g);
      const mark = g.host.console.lines.length;
      return [write(g, l1, 10, pte(l1, P | RW)), g.host.console.lines.slice(mark)]; // the L1 itself, writable
    };
    const [rc41, lines41] = rcOf('4.1.5-pre');
    const [rc42, lines42] = rcOf('4.2.0');
    expect([rc41, rc42]).toEqual([-EINVAL, -EBUSY]);
    expect(lines41.map((l) => /mm\.c:(\d+)/.exec(l)?.[1])).toEqual(['2435', '918']); // __get_page_type's "Bad type", then could_not_pin
    expect(lines42.map((l) => /mm\.c:(\d+)/.exec(l)?.[1])).toEqual(['2505', '911', '963']);
  });

  it('MEM_LOG lines follow 4.1 mm.c; 4.1 has no line of its own for a foreign or non-writable frame', () => {
    const f = xenReleaseFacts('r', '4.1.5-pre');
    // mm.c at b39efd3dff: "Bad L1 flags" in get_page_from_l1e at 807, could_not_pin's call ends at 918,
    // the mmu_update "Invalid page update command" at 3671
    expect([f.memLog.get_l1e_bad_flags, f.memLog.get_l1e_could_not_pin, f.memLog.mmu_update_invalid_cmd]).toEqual([807, 918, 3671]);
    expect([f.l1eOwnerAndTypeLines, f.mmuextFramesViaPagenr, f.pinBadFrameFailsOp, f.unpinBadFrameFailsOp]).toEqual([false, true, true, true]);
    expect(xenReleaseFacts('r', '4.2.0').l1eOwnerAndTypeLines).toBe(true);
  });
});
