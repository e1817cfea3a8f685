import { describe, expect, it } from 'vitest';
import { consoleView, formatStackFrame, matchSeedLines, terminalView } from '../../lib/viz';
import { expectLabError } from '../support/lab-error';

const SEEDS = [
  '(XEN) d7:v0: unhandled page fault (ec=0000)',
  '(XEN) Pagetable walk from\nffffea000005b2d0:', // wrapped, as in the commit message
  '[<ffffffff81042d27>] xen_write_cr3+0x77',
  '(XEN) Domain 7 (vcpu#0) crashed on cpu#3:',
];
const CONSOLE = [
  '(XEN) d7:v0: unhandled page fault (ec=0000)',
  '(XEN) Pagetable walk from ffffea000005b2d0:',
  '(XEN)  L4[0x1d4] = 0000000000000000 ffffffffffffffff',
  '(XEN) <script>alert(1)</script>',
];
const STACK = [{ address: 'ffffffff81042d27', symbol: 'xen_write_cr3', offset: 0x77 }, { address: 0xffffffff81ad2d21n, symbol: 'init_mem_mapping', offset: '0x1f9' }];

describe('seed lines', () => {
  it('match when equal once white space is removed, or when a RegExp tests true', () => {
    const m = matchSeedLines(CONSOLE, [...SEEDS, /L4\[0x1d4\]/g]);
    expect(m.lineSeed).toEqual([0, 1, 4, -1]);
    expect(m.missing).toEqual([SEEDS[2], SEEDS[3]]);
  });

  it('formats stack frames as the kernel prints them', () => {
    expect(formatStackFrame(STACK[0])).toBe('[<ffffffff81042d27>] xen_write_cr3+0x77');
    expect(formatStackFrame(STACK[1])).toBe('[<ffffffff81ad2d21>] init_mem_mapping+0x1f9');
    expect(formatStackFrame({ ...STACK[0], isRip: true })).toBe('[<ffffffff81042d27>] xen_write_cr3+0x77 <--');
  });
});

describe('consoleView', () => {
  const view = consoleView(CONSOLE, STACK, SEEDS);

  it('renders the console and the stack as one terminal block, seed lines highlighted', () => {
    expect(view.html).toContain('── Xen console ──');
    expect(view.html).toContain('── guest call stack ──');
    const seeded = view.html.match(/<div class="pvops-line pvops-seed" data-seed="(\d)"/g)!;
    expect(seeded).toEqual([
      '<div class="pvops-line pvops-seed" data-seed="0"', '<div class="pvops-line pvops-seed" data-seed="1"',
      '<div class="pvops-line pvops-seed" data-seed="2"',
    ]);
    expect(view.html.match(/class="pvops-line"/g)).toHaveLength(3); // L4 line, script line, init_mem_mapping
    expect(view.text).toContain('» [<ffffffff81042d27>] xen_write_cr3+0x77');
    expect(view.text).toContain('  (XEN)  L4[0x1d4] = 0000000000000000 ffffffffffffffff');
  });

  it('lists the seed lines the run did not print', () => {
    expect(view.html).toContain('3 of 4 lines of the report printed by this run');
    expect(view.html).toMatch(/Not seen in this run:.*\(XEN\) Domain 7 \(vcpu#0\) crashed on cpu#3:/);
    expect(view.text).toContain('Not seen in this run:\n  (XEN) Domain 7 (vcpu#0) crashed on cpu#3:');
  });

  it('escapes console text', () => {
    expect(view.html).toContain('(XEN) &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(view.html).not.toContain('<script>');
  });

  it('shows no seed summary without seeds, and refuses lines that are not strings', () => {
    expect(terminalView([{ title: 't', lines: ['a'] }]).html).not.toContain('lines of the report');
    expectLabError(() => consoleView(['ok', 3] as never), 'WRONG_TYPE');
    expect(() => consoleView(['ok'], [], [42] as never)).toThrow(/seeds must be an array of strings or RegExps/);
  });
});
