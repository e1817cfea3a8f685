import { describe, expect, it } from 'vitest';
import { countersView, runSummaryView } from '../../lib/viz';
import { bareMetalRun, knownRun } from './fixtures';

describe('runSummaryView', () => {
  const view = runSummaryView(knownRun(), ['(XEN) d7:v0: unhandled page fault (ec=0000)']);

  it('leads with the run and its outcome, marked as a crash', () => {
    expect(view.title).toBe('Run 8170e6bed465 / xen: crashed');
    expect(view.html).toMatch(/<div class="pvops-outcome" style="color:#b00020[^"]*">crashed<\/div>/);
  });

  it('shows the fault with its error code decoded', () => {
    expect(view.text).toContain('fault: page fault at ffffea000005b2d0, error code 0000, unhandled');
    expect(view.html).toContain('P=0: the page was not present; W/R=0: the access was a read');
  });

  it('tabulates the counters and the counts per phase', () => {
    expect(view.text).toContain('page faults: 2 (handled 1, unhandled 1; early #PF 1, kernel 0, bounced 0, fixup 0)');
    expect(view.text).toContain('page-table pages: 5 (L4 1, L3 1, L2 1, L1 2)');
    expect(view.text).toContain('hypercalls: 2 (mmu_update 1, mmuext_op 1)');
    expect(view.html).toMatch(/<tr><td style="[^"]*">map<\/td><td style="[^"]*">1<\/td><td style="[^"]*">3<\/td><td style="[^"]*">3<\/td>/);
  });

  it('includes the console and the stack with seed lines highlighted', () => {
    expect(view.html).toContain('class="pvops-terminal"');
    expect(view.html.match(/pvops-seed/g)).toHaveLength(1);
    expect(view.text).toContain('[<ffffffff8103feba>] xen_get_user_pgd+0x5a');
  });

  it('marks a booted run as such, with no fault and no terminal', () => {
    const booted = runSummaryView(bareMetalRun());
    expect(booted.html).toMatch(/class="pvops-outcome" style="color:#13794b/);
    expect(booted.html).not.toContain('pvops-terminal');
    expect(booted.text).not.toContain('fault:');
  });
});

describe('countersView', () => {
  it('is a table of the counters, and refuses anything else', () => {
    const v = countersView(knownRun().trace.counters);
    expect(v.html).toContain('<table class="pvops-counters"');
    expect(v.text).toContain('CR3 loads: 0');
    expect(() => countersView({} as never)).toThrow(/counters must be a Counters object/);
  });
});
