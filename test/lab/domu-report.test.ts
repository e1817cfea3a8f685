/**
 * The domU report in full (Konrad Wilk, LKML, 22 Feb 2013: a 1 GiB PV guest on Xen 4.2.0): the
 * model's console, run with the report's inputs (memory 1G; the rest are the defaults), compared
 * line by line with the report's lines as transcribed in test/fixtures/domu-report.txt, and each
 * register's provenance: what the model derives, what is fitted to the report and why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boot, reproduce } from '../../lib/lab/boot';
import { REPORT_DOMU_HOST } from '../../lib/lab/report-host';
import { formatFrame } from '../../lib/lab/guest-stack';

function fixture(name: string): string[] {
  return readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

const REPORT = fixture('domu-report.txt');
const CALL_TRACE = fixture('domu-report-call-trace.txt');
const r = reproduce({ memory: '1G' });

/** A register's value as the dump prints it. */
function reg(lines: readonly string[], name: string): string {
  for (const line of lines) {
    const m = new RegExp(`\\b${name}:\\s+([0-9a-f]{16})`).exec(line);
    if (m !== null) return m[1];
  }
  throw new Error(`no ${name} in the dump`);
}

describe('the domU report, line by line', () => {
  it('the fixture holds the whole dump: the six quoted lines, the registers, the selectors and two rows of stack words', () => {
    expect(REPORT).toHaveLength(20);
    expect(REPORT.filter((l) => /^\(XEN\)\s{4}[0-9a-f]{16}/.test(l))).toHaveLength(2);
  });

  it('prints every line of the report, in order, from the first', () => {
    const start = r.xenConsole.indexOf(REPORT[0]);
    expect(start).toBeGreaterThanOrEqual(0);
    const printed = r.xenConsole.slice(start, start + REPORT.length);
    const differing = REPORT.map((line, i) => ({ line, printed: printed[i] })).filter((x) => x.line !== x.printed);
    expect(differing).toEqual([]);
    expect(printed).toEqual(REPORT);
  });

  it('prints more stack rows than the report shows (Xen prints up to debug_stack_lines = 20); the report was cut after two', () => {
    const at = r.xenConsole.findIndex((l) => l.includes('Guest stack trace from rsp='));
    const rows = r.xenConsole.slice(at + 1).filter((l) => /^\(XEN\)\s{4}[0-9a-f]{16}/.test(l));
    expect(rows.length).toBeGreaterThan(2);
    expect(rows.length).toBeLessThanOrEqual(20);
  });

  it("symbolises the stack as the report's Call Trace does", () => {
    expect(r.guestStack.slice(0, CALL_TRACE.length).map(formatFrame)).toEqual(CALL_TRACE.map((l) => l.replace('  <--', ' <--')));
  });
});

describe('the dump\'s provenance: derived or fitted, never invented', () => {
  const p = r.provenance;
  const DERIVED = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'r13', 'r15', 'cr0', 'cr2', 'cr4', 'cs', 'ss', 'ds', 'es', 'fs', 'gs'];
  const FITTED = ['rip', 'rflags', 'rbp', 'rsp', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r14', 'cr3'];

  it('labels each register of the dump', () => {
    const kinds = (names: string[]): string[] => names.map((n) => `${n} ${p[`registers.${n}`]?.kind}`);
    expect(kinds(DERIVED)).toEqual(DERIVED.map((n) => `${n} derived`));
    expect(kinds(FITTED)).toEqual(FITTED.map((n) => `${n} fitted`));
    for (const n of FITTED) expect(p[`registers.${n}`].reason.length, n).toBeGreaterThan(40);
    // r10 and r11 differ between the two reports: this run gets the domU report's, and says so
    for (const n of ['r10', 'r11']) expect(p[`registers.${n}`].reason, n).toContain('fitted to the domU report');
  });

  it('no figure of the report\'s lines is invented', () => {
    const start = r.xenConsole.indexOf(REPORT[0]);
    for (let n = start; n < start + REPORT.length; n++) {
      const parts = p[`console.${n}`].parts ?? [];
      expect(parts.filter((x) => x.kind === 'invented').map((x) => x.label), r.xenConsole[n]).toEqual([]);
    }
  });
});

/**
 * init_mem_mapping's step_size at its load_cr3, re-done from the source (arch/x86/mm/init.c,
 * v3.9.6:418-436) for a domU whose RAM is [ISA_END_ADDRESS, memory) and whose first block is the
 * top 2 MiB: start at PMD_SIZE, shift left by STEP_SIZE_SHIFT whenever a step maps more than all
 * steps before it.
 */
function stepSize(memory: number): number {
  const ISA_END = 0x100000;
  const PMD = 0x200000;
  let step = PMD;
  let last = memory;
  let mapped = 0;
  while (last > ISA_END) {
    const start = last > step ? Math.max(Math.floor((last - 1) / step) * step, ISA_END) : ISA_END;
    const now = last - start;
    last = start;
    if (now > mapped) step *= 32;
    mapped += now;
  }
  return step;
}

describe('derived values move with their inputs', () => {
  const MiB = 1024 * 1024;

  it('r13 is init_mem_mapping\'s step_size: it follows the memory size', () => {
    for (const [memory, mib] of [['64M', 64], ['1G', 1024], ['3G', 3072]] as const) {
      const run = reproduce({ memory });
      expect(BigInt(`0x${reg(run.xenConsole, 'r13')}`), memory).toBe(BigInt(stepSize(mib * MiB)));
    }
    expect(stepSize(64 * MiB)).not.toBe(stepSize(1024 * MiB));
    expect(stepSize(3072 * MiB)).not.toBe(stepSize(1024 * MiB));
  });

  it('rdx is pfn × sizeof(struct page): 64 bytes moves it, with the fault address', () => {
    const run = reproduce({ memory: '1G', structPageSize: 64 });
    expect(reg(run.xenConsole, 'rdx')).toBe((0x1a0c * 64).toString(16).padStart(16, '0'));
    expect(reg(run.xenConsole, 'cr2')).toBe((0xffffea0000000000n + BigInt(0x1a0c * 64 + 48)).toString(16));
    expect(run.provenance['registers.rdx'].kind).toBe('derived');
  });

  it('cr3 is fitted only for the report\'s 1 GiB guest; other guests get the frame the model\'s builder gives', () => {
    const other = reproduce({ memory: '2G' });
    expect(reg(other.xenConsole, 'cr3')).not.toBe(reg(r.xenConsole, 'cr3'));
    expect(other.provenance['registers.cr3'].kind).toBe('derived');
    expect(r.provenance['registers.cr3'].kind).toBe('fitted');
    // the pgd's frame moved, the guest's view did not: same fault, same pfn
    expect(other.fault).toEqual(r.fault);
  });
});

describe("the report's pgd frame, placed as host data", () => {
  it('is the frame Xen, the toolstack and the guest all see for init_level4_pgt, typed and pinned as an L4; the builder\'s frame is free', () => {
    const run = boot({ memory: '1G' }).run();
    const pf = run.current!.platform;
    const host = pf.xen!.host;
    const pfn = run.result().pgdPfn;
    const mfn = REPORT_DOMU_HOST.pgdMfn;
    expect(pf.guestToMachine(pfn)).toBe(mfn);
    expect(pf.machineToGuest(mfn)).toBe(pfn);
    expect(pf.pageType(mfn)).toBe('PGT_l4_page_table');
    expect(host.frameTable.ownerOf(mfn)).toBe(run.result().config.domid);
    expect(pf.xen!.vcpu.cr3Mfn).toBe(mfn);
    // the frame the builder first gave the pfn (its 2 MiB extent's) went back to the heap
    const extent = pf.xen!.domain.p2mExtents[Math.floor(pfn / 512)];
    const builders = extent.mfn + (pfn - extent.pfn);
    expect(builders).not.toBe(mfn);
    expect(host.frameTable.ownerOf(builders)).toBeNull();
    expect(host.m2p.get(builders)).toBe(-1);
    // and a kernel that boots runs on it to the end
    const other = boot({ memory: '1G', variant: '8170e6bed465^' }).run();
    expect(other.result().outcome).toBe('booted');
    expect(other.current!.platform.guestToMachine(pfn)).toBe(mfn);
  });
});
