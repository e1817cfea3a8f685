import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boot, reproduce } from '../../lib/lab/boot';
import { PROVENANCE_KINDS, lessReal, symbolProvenance } from '../../lib/lab/provenance';
import { REPORTED, fittedSymbol, kernelVariant } from '../../lib/linux/variants';

const ROOT = resolve(__dirname, '..', '..');

/** The commit message's frames (shared/seed/commit-message.txt), address and symbol+offset. */
const COMMIT_FRAMES: Record<string, string> = {
  xen_get_user_pgd: 'ffffffff8103feba xen_get_user_pgd+0x5a',
  xen_write_cr3: 'ffffffff81042d27 xen_write_cr3+0x77',
  init_mem_mapping: 'ffffffff81ad2d21 init_mem_mapping+0x1f9',
  setup_arch: 'ffffffff81ac293f setup_arch+0x742',
  printk: 'ffffffff81666d71 printk+0x48',
};

/** Every value of the default crash run other than its console lines, and its kind. */
const DEFAULT_KINDS: Record<string, string> = {
  domid: 'report', pcpu: 'report', structPageSize: 'fitted', pgdPfn: 'fitted', faultAddress: 'derived', l4Index: 'derived',
  xenRelease: 'report', xenDebug: 'report',
  'stack.xen_get_user_pgd': 'fitted', 'stack.xen_write_cr3': 'fitted', 'stack.init_mem_mapping': 'fitted',
  'stack.setup_arch': 'fitted', 'stack.printk': 'fitted', 'stack.start_kernel': 'fitted',
  'stack.__add_preferred_console.clone.1': 'fitted', 'stack.x86_64_start_reservations': 'fitted', 'stack.xen_start_kernel': 'fitted',
  'registers.rip': 'fitted', 'registers.rsp': 'fitted', 'registers.rbp': 'fitted',
  // derived: what the modelled routines compute; fitted: what compiled code the model does not run leaves
  // (lib/linux/variants.ts FITTED_MACHINE_STATE); cr3 is derived here (2 GiB: not the report's guest), and
  // r10/r11, on which the two reports disagree, are the model's unwritten zeros (invented)
  'registers.rax': 'derived', 'registers.rbx': 'derived', 'registers.rcx': 'derived', 'registers.rdx': 'derived',
  'registers.rsi': 'derived', 'registers.rdi': 'fitted', 'registers.r8': 'fitted', 'registers.r9': 'fitted',
  'registers.r10': 'invented', 'registers.r11': 'invented', 'registers.r12': 'fitted', 'registers.r13': 'derived',
  'registers.r14': 'fitted', 'registers.r15': 'derived', 'registers.cr0': 'derived', 'registers.cr4': 'derived',
  'registers.rflags': 'fitted', 'registers.cr2': 'derived', 'registers.cr3': 'derived',
  'registers.cs': 'derived', 'registers.ss': 'derived', 'registers.ds': 'derived', 'registers.es': 'derived',
  'registers.fs': 'derived', 'registers.gs': 'derived',
};

describe('provenance of the default crash run', () => {
  const r = reproduce();
  const p = r.provenance;

  it('labels every value the contract names, each with a kind and a reason', () => {
    for (const key of ['domid', 'pcpu', 'structPageSize', 'pgdPfn', 'faultAddress', 'l4Index']) expect(p[key], key).toBeDefined();
    for (const f of r.guestStack) expect(p[`stack.${f.symbol}`], f.symbol).toBeDefined();
    r.xenConsole.forEach((_, n) => expect(p[`console.${n}`], `console.${n}`).toBeDefined());
    expect(Object.keys(p).filter((k) => k.startsWith('console.'))).toHaveLength(r.xenConsole.length);
    for (const [key, entry] of Object.entries(p)) {
      expect(PROVENANCE_KINDS, key).toContain(entry.kind);
      expect(entry.reason.length, key).toBeGreaterThan(20);
    }
  });

  it('gives each value the kind its source implies (a relabelled value fails here)', () => {
    const got = Object.fromEntries(Object.entries(p).filter(([k]) => !k.startsWith('console.')).map(([k, v]) => [k, v.kind]));
    expect(got).toEqual(DEFAULT_KINDS);
  });

  it('states the evidence for sizeof(struct page) 56 and how the pgd pfn was fitted', () => {
    expect(p.structPageSize.reason).toContain('ffffea000005b2d0');
    expect(p.structPageSize.reason).toContain('0x5b2a0 = 56 × 0x1a0c');
    expect(p.structPageSize.reason).toContain('0x5b2a0 / 64 = 5834.5 is not whole');
    expect(p.pgdPfn.reason).toMatch(/pfn 0x1a0c\) is fitted: .*ffffea000005b2d0/);
    expect(p.faultAddress.reason).toContain('VMEMMAP_START + pfn 0x1a0c × sizeof(struct page) 56 + 48');
    expect(p.l4Index.reason).toContain('0x1d4');
  });

  it("says which report frame each fitted function start was subtracted from", () => {
    for (const [name, frame] of Object.entries(COMMIT_FRAMES)) {
      const [address, text] = frame.split(' ');
      expect(p[`stack.${name}`].reason).toContain(`the commit message's frame [<${address}>] ${text}, less 0x`);
    }
    expect(p['stack.start_kernel'].reason).toMatch(/full report \(LKML, 22 Feb 2013; transcribed in test\/fixtures\/domu-report-call-trace.txt\).*start_kernel\+0x90/);
  });

  it('classifies console lines by their least-real figure and names it', () => {
    const line = (prefix: string): number => r.xenConsole.findIndex((l) => l.startsWith(prefix));
    const kind = (prefix: string): string => p[`console.${line(prefix)}`].kind;
    expect(kind('(XEN) d7:v0: unhandled page fault')).toBe('derived');
    expect(p[`console.${line('(XEN) d7:v0')}`].reason).toBe('least real: vCPU id, error code (derived); also report: domain id');
    expect(kind('(XEN) Pagetable walk from')).toBe('derived');
    expect(kind('(XEN)  L4[0x1d4]')).toBe('derived');
    expect(kind('(XEN) domain_crash_sync')).toBe('derived');
    expect(kind('(XEN) Domain 7 (vcpu#0)')).toBe('derived');
    // the release and the debug flag copied from the report; "Not tainted" follows from Xen's command line
    expect(kind('(XEN) ----[ Xen-4.2.0')).toBe('derived');
    expect(p[`console.${line('(XEN) ----[ Xen-4.2.0')}`].parts!.map((x) => x.kind)).toEqual(['report', 'report', 'derived']);
    expect(kind('(XEN) CPU:')).toBe('report');
    expect(kind('(XEN) RIP:')).toBe('fitted');
    expect(kind('(XEN) RFLAGS:')).toBe('fitted');
    expect(kind('(XEN) rax:')).toBe('derived');
    expect(p[`console.${line('(XEN) rbp:')}`].reason).toBe('every figure is fitted: rbp, rsp, r8');
    expect(p[`console.${line('(XEN) r12:')}`].reason).toBe('least real: r12, r14 (fitted); also derived: r13');
    expect(kind('(XEN) cr3:')).toBe('derived');
    expect(kind('(XEN) ds:')).toBe('derived');
    expect(kind('(XEN) Guest stack trace from rsp=')).toBe('fitted');
    const first = line('(XEN) Guest stack trace') + 1;
    // the bounce frame's words: rcx and the error code derived, rip, rflags and rsp fitted, r11 invented
    // (the reports disagree on r11 and this 2 GiB run reproduces neither)
    expect(p[`console.${first}`].kind).toBe('invented');
    expect(p[`console.${first + 1}`].kind).toBe('fitted');
    // xen_write_cr3's zeroed r12 (fitted) in the third row; further up, words the model never wrote stay invented
    expect(p[`console.${first + 2}`].kind).toBe('fitted');
    expect(p[`console.${first + 4}`].kind).toBe('invented');
  });

  it("locates each figure's text in its line", () => {
    r.xenConsole.forEach((text, n) => {
      for (const part of p[`console.${n}`].parts ?? []) {
        expect(text.slice(part.start, part.end), `console.${n} ${part.label}`).toMatch(/^([0-9a-f]+|[0-9]+\.[0-9]+\.[0-9]+|[yn]|Not tainted)$/);
      }
    });
    const rax = r.xenConsole.findIndex((l) => l.startsWith('(XEN) rax:'));
    const part = p[`console.${rax}`].parts!.find((x) => x.key === 'registers.rax')!;
    expect(r.xenConsole[rax].slice(part.start, part.end)).toBe('ffffea0000000000');
    expect(part.kind).toBe('derived');
    const walk = r.xenConsole.findIndex((l) => l.startsWith('(XEN) Pagetable walk'));
    expect(p[`console.${walk}`].parts).toEqual([{ start: 26, end: 42, kind: 'derived', label: 'fault address', key: 'faultAddress' }]);
    const crashed = r.xenConsole.findIndex((l) => l.startsWith('(XEN) Domain 7'));
    expect(p[`console.${crashed}`].parts!.map((x) => [r.xenConsole[crashed].slice(x.start, x.end), x.kind, x.key])).toEqual([
      ['7', 'report', 'domid'], ['0', 'derived', undefined], ['3', 'report', 'pcpu'],
    ]);
  });

  it("reads the start of the dumped stack as Xen's bounce frame and the rest by what wrote each word", () => {
    const at = r.xenConsole.findIndex((l) => l.startsWith('(XEN) Guest stack trace'));
    const words = [1, 2].flatMap((d) => p[`console.${at + d}`].parts!);
    expect(words.slice(0, 8).map((w) => [w.label.replace(" (Xen's bounce frame)", ''), w.kind])).toEqual([
      ['saved rcx', 'derived'], ['saved r11', 'invented'], ['error code', 'derived'], ['saved rip', 'fitted'],
      ['saved cs and upcall mask', 'derived'], ['saved rflags', 'fitted'], ['saved rsp', 'fitted'], ['saved ss', 'derived'],
    ]);
    const line3 = p[`console.${at + 3}`].parts!;
    expect(line3.map((w) => [r.xenConsole[at + 3].slice(w.start, w.end), w.kind])).toEqual([
      ['0000000000000000', 'fitted'], ['ffffffff81a01e08', 'fitted'], ['ffffffff81042d27', 'fitted'], ['0000000080000000', 'derived'],
    ]);
    expect(line3[2].key).toBe('stack.xen_write_cr3');
    // a pushed register says whose it is, who saved it and, when a modelled routine set it, what it holds
    // xen_write_cr3's compiled code zeroes r12 after saving init_mem_mapping's (fitted: both reports show 0)
    expect(line3[0].label).toMatch(/^xen_write_cr3's r12, saved by __xen_write_cr3: set by its compiled code \(fitted: /);
    expect(line3[3].label).toBe("init_mem_mapping's rbx, saved by xen_write_cr3: end = max_pfn << PAGE_SHIFT");
    const line4 = p[`console.${at + 4}`].parts!;
    expect(line4.map((w) => [w.kind, w.label])[1]).toEqual(['derived', "init_mem_mapping's r13, saved by xen_write_cr3: step_size"]);
  });
});

describe('provenance follows the config', () => {
  it('structPageSize 64: the fault address stays derived, the size becomes a config value', () => {
    const r = reproduce({ structPageSize: 64 });
    expect(r.fault?.address).not.toBe('ffffea000005b2d0');
    expect(r.provenance.faultAddress.kind).toBe('derived');
    expect(r.provenance.faultAddress.reason).toContain('0x1a0c × sizeof(struct page) 64 + 48');
    expect(r.provenance.structPageSize.kind).toBe('invented');
    expect(r.provenance.structPageSize.reason).toMatch(/^set by this run's config \(structPageSize: 64.*needs 56$/);
    const walk = r.xenConsole.findIndex((l) => l.startsWith('(XEN) Pagetable walk'));
    expect(r.provenance[`console.${walk}`].kind).toBe('derived');
  });

  it('a domain id or CPU other than the report\'s is invented, and so are the lines that print it', () => {
    const r = reproduce({ domid: 9, pcpu: 1 });
    expect(r.provenance.domid).toEqual({ kind: 'invented', reason: "set by this run's config (domid: 9); the report's is 7" });
    expect(r.provenance.pcpu.kind).toBe('invented');
    const first = r.xenConsole.findIndex((l) => l.startsWith('(XEN) d9:v0'));
    expect(r.provenance[`console.${first}`].kind).toBe('invented');
    expect(r.provenance[`console.${first}`].reason).toBe('least real: domain id (invented); also derived: vCPU id, error code');
    const cpu = r.xenConsole.findIndex((l) => l.startsWith('(XEN) CPU:'));
    expect(r.provenance[`console.${cpu}`].kind).toBe('invented');
  });

  it('a run that boots has no fault, register or stack values to label; a run not started has its config only', () => {
    const r = reproduce({ variant: '5b5c1af104ab' });
    expect(r.outcome).toBe('booted');
    expect(r.provenance.faultAddress.reason).toMatch(/no unhandled page fault|there is none/);
    expect(Object.keys(r.provenance).some((k) => k.startsWith('registers.') || k.startsWith('stack.'))).toBe(false);
    expect(r.provenance.domid.kind).toBe('report');
    const bare = reproduce({ platform: 'bare-metal', memory: '256M' });
    expect(bare.provenance.domid.reason).toMatch(/\(not used on bare metal\)$/);
    expect(bare.provenance.faultAddress.kind).toBe('derived');
    const idle = boot().result().provenance;
    expect(idle.pgdPfn.reason).toContain('has not started');
    expect(idle.structPageSize.kind).toBe('fitted');
  });
});

describe('the fitted data in lib/linux/variants.ts', () => {
  const v = kernelVariant('8170e6bed465');

  it("records, per fitted function, the report frame it came from; start + offset is the report's address", () => {
    const fromCommit = REPORTED.filter((s) => s.fitted.source === 'commit message').map((s) => s.name).sort();
    expect(fromCommit).toEqual(Object.keys(COMMIT_FRAMES).sort());
    for (const s of REPORTED) {
      expect(v.symbols.address(s.name)).toBe(s.address);
      const [name, off] = s.fitted.frame.split('+');
      expect(name).toBe(s.name);
      const expected = COMMIT_FRAMES[s.name];
      if (expected !== undefined) {
        expect(`ffff${(s.address + Number(off)).toString(16)} ${s.fitted.frame}`).toBe(expected);
      }
    }
  });

  it('uses the same offsets the variant calls and faults at', () => {
    for (const s of REPORTED) {
      const off = Number(s.fitted.frame.split('+')[1]);
      if (s.fitted.source === 'dom0 report' && off === 0) continue; // an entry point: the report prints the start itself
      const used = [
        ...Object.entries(v.callSites).filter(([k]) => k.startsWith(`${s.name}>`)).map(([, o]) => o),
        ...Object.entries(v.instructions).filter(([k]) => k.startsWith(`${s.name}:`)).map(([, o]) => o),
      ];
      expect(used, s.name).toContain(off);
    }
  });

  it('calls a placed function invented, and a fitted one fitted only while the table still holds its fitted start', () => {
    expect(fittedSymbol('paging_init')).toBeNull();
    expect(symbolProvenance(v.symbols, 'paging_init').kind).toBe('invented');
    expect(symbolProvenance(v.symbols, 'xen_write_cr3').kind).toBe('fitted');
    expect(lessReal('derived', 'fitted')).toBe('fitted');
    expect(lessReal('invented', 'report')).toBe('invented');
  });
});

describe('pvops-lab repro --json', () => {
  it('includes the provenance of every value', () => {
    const out = spawnSync(process.execPath, [resolve(ROOT, 'dist/cli.js'), 'repro', '--json', '--struct-page-size', '64'], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.provenance.faultAddress.kind).toBe('derived');
    expect(json.provenance.structPageSize.kind).toBe('invented');
    expect(json.provenance['stack.xen_write_cr3'].kind).toBe('fitted');
    expect(json.provenance['registers.cr0'].kind).toBe('derived');
    expect(json.provenance['registers.r9'].kind).toBe('fitted');
    expect(Object.keys(json.provenance).filter((k) => k.startsWith('console.'))).toHaveLength(json.xenConsole.length);
  });

  it('the text summary names the kind of the headline values', () => {
    const out = spawnSync(process.execPath, [resolve(ROOT, 'dist/cli.js'), 'repro', '--domid', '4'], { encoding: 'utf8' });
    expect(out.stdout).toContain('provenance: domid invented, pcpu report, structPageSize fitted, pgdPfn fitted, faultAddress derived, l4Index derived');
  });
});
