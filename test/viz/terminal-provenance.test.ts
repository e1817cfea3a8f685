import { describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import { reproduce } from '../../lib/lab/boot';
import { consoleView } from '../../lib/viz';
import { markedLineHtml } from '../../lib/viz/html/provenance-marks';

describe('consoleView with a run\'s provenance', () => {
  const r = reproduce();
  const view = consoleView(r.xenConsole, r.guestStack, [], { provenance: r.provenance });
  const lineHtml = (prefix: string): string => {
    const all = view.html.split('<div class="pvops-line');
    const hit = all.find((h) => h.includes(`>${prefix}`) || h.includes(prefix.replace(/</g, '&lt;')));
    expect(hit, prefix).toBeDefined();
    return hit!;
  };

  it('shows a legend of the four kinds, each with its letter and its own underline style', () => {
    expect(view.html).toContain('class="pvops-legend"');
    const items = view.html.match(/<span class="pvops-legend-item" data-kind="(\w+)"/g)!.map((s) => /data-kind="(\w+)"/.exec(s)![1]);
    expect(items).toEqual(['report', 'derived', 'fitted', 'invented']);
    expect(view.html).toContain('underline double');
    expect(view.html).toContain('underline dotted');
    expect(view.html).toContain('underline wavy');
    expect(view.text.split('\n')[0]).toMatch(/^Where each figure comes from.*R from the report.*D derived.*F fitted.*I invented/);
  });

  it('gives every console line and stack frame a letter for its kind, with the reason as a tooltip', () => {
    const lines = view.html.match(/<div class="pvops-line[^"]*"[^>]*data-kind="(\w+)"/g)!;
    expect(lines).toHaveLength(r.xenConsole.length + r.guestStack.length);
    expect(lineHtml('(XEN) rax:')).toMatch(/data-kind="derived" title="derived: every figure is derived: rax, rbx, rcx"/);
    expect(lineHtml('(XEN) RIP:')).toContain('>F</span>');
    expect(view.text).toContain('D   (XEN) rax: ffffea0000000000');
    // r10/r11: the two reports disagree and the default (2 GiB) run reproduces neither: invented
    expect(view.text).toContain('I   (XEN) r9:  0000000010000001');
    expect(view.text).toContain('F   [<ffffffff81042d27>] xen_write_cr3+0x77');
    expect(view.text).toContain('D   (XEN) Pagetable walk from ffffea000005b2d0:');
  });

  it('marks fitted, invented and report figures in place and leaves derived ones plain', () => {
    expect(lineHtml('(XEN) rax:')).not.toContain('class="pvops-v"');
    expect(lineHtml('(XEN) r9:')).toMatch(/data-kind="fitted" data-key="registers.r9"[^>]*>0000000010000001<\/span>/);
    expect(view.html).toMatch(new RegExp('<span class="pvops-v" data-kind="invented" title="[^"]*a register the model never wrote: invented" ' +
      'style="color:#ff9bd2;text-decoration:underline wavy 1px;text-underline-offset:3px">0{16}</span>'));
    expect(lineHtml('(XEN) RIP:')).toMatch(/data-kind="fitted" data-key="registers.rip"[^>]*>ffffffff8103feba<\/span>/);
    expect(lineHtml('(XEN) Domain ')).toMatch(/data-kind="report" data-key="domid"[^>]*>7<\/span>/);
    expect(lineHtml('(XEN) Pagetable walk')).toContain('(XEN) Pagetable walk from ffffea000005b2d0:');
    expect(lineHtml('(XEN) Pagetable walk')).not.toContain('class="pvops-v"');
    expect(lineHtml('[&lt;ffffffff81042d27')).toMatch(/data-kind="fitted" data-key="stack.xen_write_cr3"[^>]*>ffffffff81042d27<\/span>/);
  });

  it('adds a table of the values other than console lines, open without script', () => {
    expect(view.html).toMatch(/<details class="pvops-prov-table"[^>]*><summary[^>]*>Where each value comes from \(\d+\)<\/summary>/);
    expect(view.html).toMatch(/<tr data-key="structPageSize"><td[^>]*>structPageSize<\/td><td[^>]*>fitted<\/td><td[^>]*>fitted to the report, with evidence/);
    expect(view.html).not.toContain('<tr data-key="console.0">');
  });

  it('without provenance draws no legend and no letters, as before', () => {
    const plain = consoleView(r.xenConsole, r.guestStack);
    expect(plain.html).not.toContain('pvops-legend');
    expect(plain.html).not.toContain('data-kind=');
    expect(plain.text.split('\n')[1]).toBe('  (XEN) d7:v0: unhandled page fault (ec=0000)');
  });

  it('escapes text around marks and ignores parts that do not fit the line', () => {
    expect(markedLineHtml('<a> 12 & x', [{ start: 4, end: 6, kind: 'invented', label: 'n' }, { start: 5, end: 9, kind: 'fitted', label: 'overlap' },
      { start: 8, end: 99, kind: 'fitted', label: 'past the end' }, { start: 0, end: 1, kind: 'nonsense', label: 'bad kind' }]))
      .toBe('&lt;a&gt; <span class="pvops-v" data-kind="invented" title="n: invented" style="color:#ff9bd2;text-decoration:underline wavy 1px;text-underline-offset:3px">12</span> &amp; x');
  });

  it('refuses provenance that is not an object of entries', () => {
    expect(() => consoleView(['(XEN) x'], [], [], { provenance: 'yes' as never })).toThrow(LabError);
    expect(() => consoleView(['(XEN) x'], [], [], { provenance: [] as never })).toThrow(/options.provenance must be a run's result.provenance/);
    expect(() => consoleView(['(XEN) x'], [], [], null as never)).toThrow(/options must be an object/);
  });
});

describe('matched report lines beside provenance', () => {
  it('says that a matched line is the same text, not that its figures are derived', () => {
    const r = reproduce();
    const v = consoleView(r.xenConsole, r.guestStack, ['(XEN) Domain 7 (vcpu#0) crashed on cpu#3:'], { provenance: r.provenance });
    expect(v.text).toContain('1 of 1 lines of the report printed by this run (marked »). A match is the same text; the letters say which of its figures the model derives.');
    expect(v.text).toContain('D » (XEN) Domain 7 (vcpu#0) crashed on cpu#3:');
    expect(v.html.replace(/<[^>]*>/g, '')).not.toMatch(/seed/i); // what a reader sees
  });
});
