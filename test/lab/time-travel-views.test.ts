import { describe, expect, it } from 'vitest';
import { boot } from '../../lib/lab/boot';
import { runTimelineFigure } from '../../lib/viz/figures/run-timeline';
import { faultExplanationView } from '../../lib/viz/html/fault-explanation';
import { LabError } from '../../lib/errors';

describe('the timeline of one run', () => {
  const run = boot({ memory: '256M' }).run();
  const result = run.result();
  const fig = runTimelineFigure(result);
  const series = (name: string) => fig.data.find((d) => d.name === name);

  it('puts every routine entry at its step and call depth when asked for all of them', () => {
    const entries = runTimelineFigure(result, { maxRoutinePoints: Infinity }).data[0];
    expect(entries.x).toHaveLength(run.stepCount);
    expect(entries.x[entries.x.length - 1]).toBe(run.stepCount);
    expect(entries.text![entries.x.length - 1]).toBe(`step ${run.stepCount}: xen_get_user_pgd`);
    expect(entries.y[entries.y.length - 1]).toBe(result.callChain.length);
  });

  it('by default draws at most 2500 entries, the shallowest calls, and says which depths it kept', () => {
    const entries = fig.data[0];
    expect(entries.x.length).toBeGreaterThan(0);
    expect(entries.x.length).toBeLessThanOrEqual(2500);
    const kept = Math.max(...(entries.y as number[]));
    expect(entries.name).toBe(`routine entries (depth ≤ ${kept})`);
    expect(run.stepCount).toBeGreaterThan(2500); // so the limit is really exercised
  });

  it('marks each CR3 load, the fault and the crash with its step in the hover text, for run.at(step)', () => {
    expect(series('CR3 load')!.x).toHaveLength(result.trace.events.filter((e) => e.type === 'cr3-load').length);
    expect(series('page fault')!.x).toEqual([run.stepCount]);
    expect(series('crash')!.x).toEqual([run.stepCount]);
    for (const d of fig.data.slice(1)) d.x.forEach((x, i) => expect(d.text![i]).toMatch(new RegExp(`^steps? ${x}\\b`)));
    // the last CR3 load is the reload at the end of init_mem_mapping: at its step the run is inside xen_write_cr3's chain
    const lastLoad = series('CR3 load')!.x.at(-1) as number;
    expect(run.at(lastLoad).callChain).toContain('init_mem_mapping');
    // every hypercall is in one burst
    const counted = series('hypercalls')!.text!.reduce((n, t) => n + Number(/: (\d+) hypercall/.exec(t)![1]), 0);
    expect(counted).toBe(result.trace.events.filter((e) => e.type === 'hypercall').length);
  });

  it('marks the one set_trap_table that reaches Xen before the crash (xen_load_idt: debug and int3, no #PF)', () => {
    // 3.9.6 arch/x86/kernel/setup.c:882 early_trap_init -> load_idt = xen_load_idt (arch/x86/xen/enlighten.c:797);
    // early_trap_pf_init (setup.c:1106) comes after init_mem_mapping, where 8170e6bed465 crashes.
    const history = run.trapTableHistory();
    expect(history.map((h) => [h.routine, h.vectors])).toEqual([['xen_load_idt', [1, 3]]]);
    expect(series('trap table')?.x).toEqual([history[0].step]);
  });
});

describe('the fault explanation view', () => {
  it('shows the walk, Xen\'s side and the verdict, in HTML and in text', () => {
    const x = boot({ memory: '256M' }).run().explainFault();
    const v = faultExplanationView(x);
    expect(v.text).toBe(x.text);
    expect(v.html).toContain('class="pvops-walk"'); // the page-walk view, reused
    expect(v.html).toContain('L4[0x1d4]');
    expect(v.html).toContain('Not bounced');
    expect(v.html).toContain('PGT_l4_page_table');
    expect(() => faultExplanationView({} as never)).toThrow(LabError);
  });
});
