import { describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import { TraceRecorder } from '../../lib/trace';
import { faultCountsFigure } from '../../lib/viz';
import { bareMetalRun, knownRun } from './fixtures';
import { expectLabError } from '../support/lab-error';

describe('faultCountsFigure', () => {
  const runs = [knownRun(), bareMetalRun(), bareMetalRun('v3.8')];
  const fig = faultCountsFigure(runs);

  it('has two bar traces per run, grouped, one per panel, sharing a colour and a legend entry', () => {
    expect(fig.data).toHaveLength(6);
    expect(fig.layout.barmode).toBe('group');
    expect(fig.data.map((t) => t.name)).toEqual([
      '8170e6bed465 / xen (crashed)', '8170e6bed465 / xen (crashed)',
      '8170e6bed465 / bare-metal', '8170e6bed465 / bare-metal', 'v3.8 / bare-metal', 'v3.8 / bare-metal',
    ]);
    expect(fig.data[0].marker).toEqual(fig.data[1].marker);
    expect(fig.data[1].showlegend).toBe(false);
    expect(fig.data.filter((_, i) => i % 2 === 1).every((t) => t.xaxis === 'x2' && t.yaxis === 'y2')).toBe(true);
  });

  it('counts faults by phase, leaving out phases where no run faulted', () => {
    expect(fig.data[0].x).toEqual(['map', 'crash', 'x86_64_start_kernel']);
    expect(fig.data[0].y).toEqual([1, 1, 0]);
    expect(fig.data[2].y).toEqual([0, 0, 2]);
    expect(fig.data[2].hovertext).toEqual(expect.arrayContaining(['8170e6bed465 / bare-metal: 2 page faults in phase x86_64_start_kernel']));
    // every bar carries its count; empty slots carry nothing
    expect(fig.data[2].text).toEqual(['', '', '2']);
  });

  it('counts faults by handler, naming each handler, keeping handlers some run used', () => {
    expect(fig.data[1].x).toEqual(['early #PF handler (bare metal)', 'unhandled (crash)']);
    expect(fig.data[1].y).toEqual([1, 1]);
    expect(fig.data[3].y).toEqual([2, 0]);
    expect((fig.data[1].hovertext as string[])[1]).toBe('8170e6bed465 / xen (crashed): 1 page fault unhandled (crash)');
  });

  it('titles both panels\' axes', () => {
    expect(fig.layout.xaxis.title!.text).toBe('boot phase (those with faults)');
    expect(fig.layout.yaxis.title!.text).toBe('page faults');
    expect(fig.layout.xaxis2!.title!.text).toBe('handled by');
    // one panel above the other, each the page's full width
    expect(fig.layout.yaxis.domain).toEqual([0.74, 1]);
    expect(fig.layout.yaxis2!.domain).toEqual([0.12, 0.4]);
    expect(fig.layout.yaxis.dtick).toBe(1); // a few faults: whole ticks, not 0.2, 0.4 ...
  });

  it('puts counts that span orders of magnitude on a log scale where a single crash still shows', () => {
    const t = new TraceRecorder();
    t.enterPhase('paging_init');
    for (let i = 0; i < 7168; i++) t.emit({ type: 'page-fault', address: 'ffffea0000000000', errorCode: 2, handler: 'fixup', rip: null });
    t.enterPhase('init_mem_mapping');
    t.emit({ type: 'page-fault', address: 'ffffea000005b2d0', errorCode: 0, handler: 'unhandled', rip: null });
    const big = faultCountsFigure([{ variant: '8170e6bed465', platform: 'xen', outcome: 'crashed', trace: t }]);
    const y2 = big.layout.yaxis2!;
    expect(y2.type).toBe('log');
    expect(y2.title!.text).toBe('page faults (log scale)');
    // the axis starts below 1 (log10 < 0): the bar of 1 has a height
    expect((y2.range as number[])[0]).toBeLessThan(0);
    // ticks only at whole powers of ten, labelled short: no minor "2 3 4 5" labels
    expect(y2.tickvals).toEqual([1, 10, 100, 1000, 10000]);
    expect(y2.ticktext).toEqual(['1', '10', '100', '1k', '10k']);
    expect(big.data[1].y).toEqual([7168, 1]);
    expect(big.data[1].text).toEqual(['7.2k', '1']);
  });

  it('gives a run with no faults no legend entry, and names it in a note', () => {
    const quiet = { ...bareMetalRun('v3.8'), trace: new TraceRecorder() };
    const f = faultCountsFigure([knownRun(), quiet]);
    expect(f.data.map((t) => t.name)).not.toContain('v3.8 / bare-metal');
    expect(f.layout.annotations!.map((a) => a.text)).toEqual(['no page faults: v3.8 / bare-metal']);
  });

  it('says so when no run faulted', () => {
    const quiet = { ...bareMetalRun(), trace: { ...bareMetalRun().trace, countersByPhase: new Map(), counters: knownRun().trace.counters } };
    expect(faultCountsFigure([quiet]).layout.annotations!.map((a) => a.text)).toEqual(['no page faults in any run']);
  });

  it('refuses an empty list and names a bad element', () => {
    expectLabError(() => faultCountsFigure([]), 'WRONG_TYPE');
    expect(() => faultCountsFigure([knownRun(), {} as never])).toThrow(/runs\[1\] must be a run/);
  });
});
