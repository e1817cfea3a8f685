import { describe, expect, it } from 'vitest';
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
    expect(fig.data[2].text![2]).toBe('8170e6bed465 / bare-metal: 2 page faults in phase x86_64_start_kernel');
  });

  it('counts faults by handler, naming each handler, keeping handlers some run used', () => {
    expect(fig.data[1].x).toEqual(['early #PF handler (bare metal)', 'unhandled (crash)']);
    expect(fig.data[1].y).toEqual([1, 1]);
    expect(fig.data[3].y).toEqual([2, 0]);
    expect(fig.data[1].text![1]).toBe('8170e6bed465 / xen (crashed): 1 page fault unhandled (crash)');
  });

  it('titles both panels\' axes', () => {
    expect(fig.layout.xaxis.title!.text).toBe('boot phase (phases without faults left out)');
    expect(fig.layout.yaxis.title!.text).toBe('page faults (count)');
    expect(fig.layout.xaxis2!.title!.text).toBe('handled by');
    expect(fig.layout.xaxis2!.domain).toEqual([0.54, 1]);
    expect(fig.layout.yaxis.dtick).toBe(1); // a few faults: whole ticks, not 0.2, 0.4 ...
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
