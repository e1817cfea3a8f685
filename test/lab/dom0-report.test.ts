/**
 * The dom0 report, line by line: the run of DOM0_REPORT_CONFIG (the report's machine map, Xen's
 * command line, construct_dom0's inputs, pCPU 0; lib/lab/dom0-report.ts) against the lines
 * transcribed in test/fixtures/dom0-report.txt (Konrad Rzeszutek Wilk's serial log of 22 February
 * 2013). Every report line the model concerns itself with must appear in the model's console in
 * the same order, except the lines listed in UNMATCHED, each with the reason the model differs;
 * a line that starts to match (or stops) fails the test, so the list stays true.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reproduce } from '../../lib/lab/boot';
import { DOM0_REPORT_CONFIG } from '../../lib/lab/dom0-report';
import { kernelVariant } from '../../lib/linux/variants';
import { dom0Report, type Dom0ReportSection } from '../support/dom0-report';

/**
 * Report lines the model prints differently, and why. None now: the last two (r9-r11 and ENTRY
 * ADDRESS) match since the scratch registers are fitted per report and startup_xen is fitted to
 * this report's entry. A line that stops matching must be listed here with its reason.
 */
const UNMATCHED: Record<string, string> = {};

/**
 * Words of the report's guest stack (by address) the model prints differently, and why. Every
 * one of them but the stale printk frame is a word the model labels `invented` (a register it
 * never wrote, or a local it does not compute); the test fails if one starts to match.
 */
const STACK_DIFFERS: Record<string, string> = {
  ffffffff81a01e20: "setup_arch's r12, saved by init_mem_mapping (0x28): setup_arch's own value, which the model does not compute",
  ffffffff81a01e28: "setup_arch's r13, saved by init_mem_mapping (0x40004000): as r12",
  ffffffff81a01e58: "a local or saved register of setup_arch's frame (a kernel data address, 0xffffffff81b46900): not computed",
  ffffffff81a01e78: 'the stale frame below setup_arch: the model fits it to the domU report (saved rbp 0x...1ed8, printk+0x48); ' +
    'the dom0 boot left a different earlier call there (saved rbp 0x...1f00)',
  ffffffff81a01e80: 'the stale return address: printk+0x48 in the domU report (fitted, lib/linux/variants.ts), 0xffffffff8165fbd1 ' +
    'in this one, a function the model does not place (dom0 ran other code, e.g. its memory set-up printing, before init_mem_mapping)',
  ffffffff81a01e88: 'stale locals of that earlier call (the model does not run it)',
  ffffffff81a01e90: 'stale locals of that earlier call (pointers into the stack)',
  ffffffff81a01e98: 'stale locals of that earlier call (pointers into the stack)',
  ffffffff81a01ea8: 'stale locals of that earlier call (pointers into the stack)',
  ffffffff81a01eb0: "start_kernel's rbx, saved by setup_arch (all ones): not computed",
  ffffffff81a01eb8: "start_kernel's r12, saved by setup_arch (the same data address as above): not computed",
  ffffffff81a01ee8: "in start_kernel's frame: 0xffffffff96062000, the start of construct_dom0's initial page tables (the 'Page tables:' " +
    "line, xen_start_info->pt_base): a value the model has, but not in which register or slot the compiled code keeps it",
  ffffffff81a01ef0: 'stale words from xen_start_kernel\'s early calls (kernel image addresses): not computed',
  ffffffff81a01ef8: 'stale words from xen_start_kernel\'s early calls (kernel image addresses): not computed',
  ffffffff81a01f00: 'stale words from xen_start_kernel\'s early calls (kernel image addresses): not computed',
  ffffffff81a01f48: "xen_start_kernel's locals: not computed",
  ffffffff81a01f50: "xen_start_kernel's locals: not computed",
  ffffffff81a01fd8: "registers as the kernel was entered, saved by xen_start_kernel: host data (by their look, CPUID leaf 1 of the " +
    "reporter's CPU: signature 0x206a7, the Core i3-2100's family 6 model 42 stepping 7), which the model does not have",
  ffffffff81a01fe0: 'as the word before',
  ffffffff81a01fe8: 'as the word before',
  ffffffff81a02000: 'beyond the boot stack: init_thread_union ends here and .data..page_aligned follows (arch/x86/kernel/vmlinux.lds.S ' +
    'v3.9.6:133-140); the bytes are "mov $96 (__NR_gettimeofday), %rax; syscall; ret" then int3 padding, __vsyscall_page ' +
    '(arch/x86/kernel/vsyscall_emu_64.S): the model does not load the image\'s data there',
  ffffffff81a02008: 'as the word before',
};

/** For each report line of `section`, whether it is found in `model` at or after the previous match. */
function matchInOrder(report: string[], model: string[]): { line: string; found: boolean }[] {
  let at = 0;
  return report.map((line) => {
    const i = model.indexOf(line, at);
    if (i < 0) return { line, found: false };
    at = i + 1;
    return { line, found: true };
  });
}

describe('the dom0 report, from its inputs', () => {
  const report = dom0Report();
  const r = reproduce(DOM0_REPORT_CONFIG);

  it('crashes dom0 on the same fault and takes the machine down: the host reboots', () => {
    expect(r.outcome).toBe('crashed');
    expect(r.host).toBe('rebooted');
    expect(r.fault?.address).toBe(report['xen-crash'][1].replace(/.*from ([0-9a-f]+):$/, '$1'));
  });

  const sections: [Dom0ReportSection, () => string[]][] = [
    ['xen-boot', () => r.xenConsole],
    ['xen-e820', () => r.xenConsole],
    ['xen-dom0-build', () => r.xenConsole],
    ['linux', () => r.guestConsole],
    ['xen-crash', () => r.xenConsole],
  ];
  const tally: string[] = [];
  for (const [section, model] of sections) {
    it(`${section}: every line matches in order, but the ones explained`, () => {
      const res = matchInOrder(report[section], model());
      const missing = res.filter((x) => !x.found).map((x) => x.line);
      expect(missing).toEqual(report[section].filter((l) => UNMATCHED[l] !== undefined));
      tally.push(`${section}: ${res.length - missing.length}/${res.length}`);
    });
  }

  it('xen-stack: the guest stack, word by word, is the report\'s but for the words explained', () => {
    const [header, ...rows] = report['xen-stack'];
    const at = r.xenConsole.indexOf(header);
    expect(at).toBeGreaterThan(0);
    const words = (lines: string[]): string[] => lines.flatMap((l) => l.replace(/^\(XEN\)\s+/, '').split(/\s+/));
    const mine = words(r.xenConsole.slice(at + 1, at + 1 + rows.length));
    const theirs = words(rows);
    expect(mine).toHaveLength(theirs.length);
    const rsp = BigInt(`0x${/rsp=([0-9a-f]{16})/.exec(header)![1]}`);
    const addr = (i: number): string => (rsp + BigInt(i * 8)).toString(16);
    const differ = theirs.map((w, i) => (w === mine[i] ? null : addr(i))).filter((a): a is string => a !== null);
    expect(differ).toEqual(Object.keys(STACK_DIFFERS));
    // every differing word but the fitted stale printk frame is one the model itself calls invented
    const kinds = new Map<string, string>();
    for (let n = 1; n <= rows.length; n++) {
      (r.provenance[`console.${at + n}`].parts ?? []).forEach((part, j) => kinds.set(addr((n - 1) * 4 + j), part.kind));
    }
    expect(differ.filter((a) => kinds.get(a) !== 'invented')).toEqual(['ffffffff81a01e78', 'ffffffff81a01e80']);
    // init_mem_mapping's r12 and r14, saved by xen_write_cr3, are derived: real_end, and the sum of the ranges its loop mapped
    const labels = new Map<string, string>();
    for (let n = 1; n <= rows.length; n++) {
      (r.provenance[`console.${at + n}`].parts ?? []).forEach((part, j) => labels.set(addr((n - 1) * 4 + j), `${part.kind}: ${part.label}`));
    }
    expect(labels.get('ffffffff81a01df0')).toBe("derived: init_mem_mapping's r12, saved by xen_write_cr3: real_end");
    expect(labels.get('ffffffff81a01e00')).toBe("derived: init_mem_mapping's r14, saved by xen_write_cr3: mapped_ram_size");
    const mapped = report.linux.filter((l) => l.startsWith('init_memory_mapping: ')).slice(1, -1) // the loop's ranges: not the ISA one nor the last
      .map((l) => /\[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\]/.exec(l)!).reduce((sum, m) => sum + BigInt(`0x${m[2]}`) + 1n - BigInt(`0x${m[1]}`), 0n);
    expect(BigInt(`0x${theirs[(0x1e00 - 0x1d90) / 8]}`)).toBe(mapped);
    tally.push(`xen-stack: ${theirs.length - differ.length}/${theirs.length} words`);
  });

  it('xen-stack: its return addresses symbolise, with the model\'s fitted symbols, as the model\'s call chain does', () => {
    const symbols = kernelVariant('8170e6bed465').symbols;
    const named = (ws: string[]): string[] => ws.filter((w) => w.startsWith('ffffffff8'))
      .map((w) => symbols.lookup(Number(BigInt(`0x${w}`) & 0xffffffffffffn))?.text ?? null)
      .filter((t): t is string => t !== null);
    const theirs = named(report['xen-stack'].slice(1).flatMap((l) => l.replace(/^\(XEN\)\s+/, '').split(/\s+/)));
    const mine = r.guestStack.filter((f) => !f.isRip).map((f) => `${f.symbol}+0x${f.offset.toString(16)}`);
    // the same chain, but the stale printk+0x48 the model fits to the domU report
    expect(theirs).toEqual(mine.filter((t) => t !== 'printk+0x48'));
  });

  it('labels the banner: release and debug flag are this report\'s inputs, the taint follows from sync_console', () => {
    const n = r.xenConsole.findIndex((l) => l.includes('----[ Xen-'));
    const parts = r.provenance[`console.${n}`].parts!;
    expect(parts.map((x) => [r.xenConsole[n].slice(x.start, x.end), x.kind])).toEqual([
      ['4.1.5-pre', 'report'], ['y', 'report'], ['Tainted:    C', 'derived'],
    ]);
    expect(parts[2].label).toContain('sync_console');
    expect(r.provenance.xenRelease.reason).toContain('dom0 report');
    expect([r.provenance.domid.kind, r.provenance.pcpu.kind]).toEqual(['report', 'report']);
    // without sync_console nothing is tainted
    const plain = reproduce({ ...DOM0_REPORT_CONFIG, xen: { ...DOM0_REPORT_CONFIG.xen, cmdline: 'loglvl=all' } });
    expect(plain.xenConsole.find((l) => l.includes('----[ Xen-'))).toContain('debug=y  Not tainted ]');
  });

  it('ENTRY ADDRESS is startup_xen, fitted to this report; no symbol the domU report shows moved', () => {
    const n = r.xenConsole.findIndex((l) => l.includes('ENTRY ADDRESS:'));
    const part = r.provenance[`console.${n}`].parts!.find((x) => x.key === 'entry')!;
    expect(part.kind).toBe('fitted');
    expect(r.provenance.entry.reason).toContain('dom0 report');
    const v = kernelVariant('8170e6bed465');
    expect(r.xenConsole[n].slice(part.start, part.end)).toBe(`ffff${v.symbols.address('startup_xen').toString(16)}`);
    // startup_xen ends before the next function the domU report shows (x86_64_start_reservations)
    expect(v.symbols.address('startup_xen') + 0x20).toBeLessThanOrEqual(v.symbols.address('x86_64_start_reservations'));
  });

  it('the CR3 in the dump is where construct_dom0 put the pgd: the allocation start plus its pfn', () => {
    const cr3 = /cr3: ([0-9a-f]{16})/.exec(r.xenConsole.join('\n'))?.[1];
    expect(BigInt(`0x${cr3}`)).toBe(0x220000000n + BigInt(r.pgdPfn) * 4096n);
    expect(report['xen-crash'].some((l) => l.includes(`cr3: ${cr3}`))).toBe(true);
  });

  it('fits the scratch registers the two reports disagree on to this report, and says so', () => {
    for (const name of ['r10', 'r11']) {
      expect(r.provenance[`registers.${name}`].kind, name).toBe('fitted');
      expect(r.provenance[`registers.${name}`].reason, name).toContain('fitted to the dom0 report');
    }
    // r9 is the same in both reports: from the kernel's code
    expect(r.provenance['registers.r9'].reason).toContain('fitted to both reports');
    // the same machine with another dom0 size is not the report's run: r10/r11 stay the model's (0), invented
    const other = reproduce({ ...DOM0_REPORT_CONFIG, dom0: { ...DOM0_REPORT_CONFIG.dom0, pages: 0x100000 } });
    expect(other.xenConsole.find((l) => l.includes(' r10: '))).toContain('r10: 0000000000000000   r11: 0000000000000000');
    expect(other.provenance['registers.r10'].kind).toBe('invented');
    expect(other.provenance['registers.r10'].reason).toContain('dom0 report: 0x5');
  });

  it('no line of the report that carries data (numbers, addresses) is written in lib/: they are computed', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p); else if (p.endsWith('.ts')) files.push(readFileSync(p, 'utf8'));
      }
    };
    walk(resolve(__dirname, '..', '..', 'lib'));
    const src = files.join('\n');
    const data = Object.values(report).flat().map((l) => l.replace(/^\(XEN\) ?/, '').trim())
      .filter((l) => /[0-9a-f]{5,}|\d{3,}/.test(l.replace(/e820/g, ''))); // 'e820' is a name, not data
    expect(data.length).toBeGreaterThan(100);
    expect(data.filter((l) => src.includes(l))).toEqual([]);
  });

  it('says how many of the report\'s lines the model derives', () => {
    expect(tally.length).toBe(sections.length + 1);
    // eslint-disable-next-line no-console
    console.log(`dom0 report lines matched: ${tally.join(', ')}`);
  });
});
