import { describe, expect, it } from 'vitest';
import { memorySweepFigure, type SweepPoint } from '../../lib/viz';
import { bareMetalRun, knownRun } from './fixtures';
import { expectLabError } from '../support/lab-error';

describe('memorySweepFigure', () => {
  const points: SweepPoint[] = [
    { memoryMiB: 4096, run: knownRun() },
    { memoryMiB: 1024, run: knownRun({ outcome: 'booted' }) },
    { memoryMiB: 1024, run: bareMetalRun() },
    { memoryMiB: 2048, run: bareMetalRun() },
  ];
  const fig = memorySweepFigure(points);

  it('draws one line per variant/platform, sorted by memory, page-table pages on the left', () => {
    const left = fig.data.filter((t) => t.yaxis === 'y');
    // the series with a crashed run is drawn last (on top)
    expect(left.map((t) => t.name)).toEqual(['8170e6bed465 / bare-metal', '8170e6bed465 / xen']);
    left.reverse();
    // the known run allocates 5 page-table pages (the freed one still counts as allocated)
    expect(left[0]).toMatchObject({ x: [1024, 4096], y: [5, 5] });
    expect(left[1]).toMatchObject({ x: [1024, 2048], y: [2, 2] });
  });

  it('draws hypercalls on the right, and names series without any instead of putting zeros on a log axis', () => {
    const right = fig.data.filter((t) => t.yaxis === 'y2');
    expect(right).toHaveLength(1);
    expect(right[0]).toMatchObject({ name: '8170e6bed465 / xen', x: [1024, 4096], y: [2, 2], showlegend: false });
    expect(fig.layout.annotations![0].text).toBe('no hypercalls (bare metal): 8170e6bed465 / bare-metal');
  });

  it('marks a crashed run with a cross and says so on hover', () => {
    const xen = fig.data.find((t) => t.name === '8170e6bed465 / xen' && t.yaxis === 'y')!;
    expect((xen.marker as { symbol: string[] }).symbol).toEqual(['circle', 'x']);
    expect(xen.text![1]).toBe('8170e6bed465 / xen, 4096 MiB guest: 5 page-table pages, crashed');
  });

  it("takes runs straight, reading the memory size from their config as lab results have it", () => {
    const sized = (mib: number) => ({ ...knownRun(), config: { variant: 'v3.8', platform: 'xen', memoryBytes: mib * 2 ** 20 }, variant: undefined, platform: undefined });
    const f = memorySweepFigure([sized(2048), sized(512)]);
    expect(f.data[0]).toMatchObject({ name: 'v3.8 / xen', x: [512, 2048] });
  });

  it('ticks the x axes at the memory sizes swept, labelled as a reader says them', () => {
    for (const a of [fig.layout.xaxis, fig.layout.xaxis2!]) {
      expect(a.tickvals).toEqual([1024, 2048, 4096]);
      expect(a.ticktext).toEqual(['1 G', '2 G', '4 G']);
    }
  });

  it('ticks the y axes at whole powers of ten (or 2 and 5 times them over a short span), never minor labels', () => {
    for (const a of [fig.layout.yaxis, fig.layout.yaxis2!]) {
      for (const v of a.tickvals as number[]) expect([1, 2, 5]).toContain(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
    }
    expect(fig.layout.yaxis.ticktext).toEqual(['2', '5']);
  });

  it('draws no hypercall panel when no run made a hypercall', () => {
    const bare = memorySweepFigure([{ memoryMiB: 256, run: bareMetalRun() }, { memoryMiB: 16384, run: bareMetalRun() }]);
    expect(bare.layout.xaxis2).toBeUndefined();
    expect(bare.data.every((t) => t.yaxis === 'y')).toBe(true);
    expect(bare.layout.xaxis.ticktext).toEqual(['256 M', '16 G']);
  });

  it('draws crashed series last, so their crosses are not hidden under coinciding lines', () => {
    const crashedAt = fig.data.findIndex((t) => (t.marker as { symbol: string[] }).symbol.includes('x'));
    expect(fig.data.slice(crashedAt).every((t) => (t.marker as { symbol: string[] }).symbol.includes('x'))).toBe(true);
  });

  it('uses log axes with units', () => {
    for (const a of [fig.layout.xaxis, fig.layout.yaxis, fig.layout.xaxis2!, fig.layout.yaxis2!]) expect(a.type).toBe('log');
    expect(fig.layout.xaxis.title!.text).toBe('guest memory (log scale)');
    expect(fig.layout.yaxis.title!.text).toBe('page-table pages (4 KiB each, log scale)');
    expect(fig.layout.yaxis2!.title!.text).toBe('hypercalls (count, log scale)');
  });

  it('refuses a non-positive memory size, naming the point', () => {
    expect(() => memorySweepFigure([{ memoryMiB: 0, run: knownRun() }])).toThrow(/points\[0\] needs a guest memory size: memoryMiB must be a positive number of MiB .*; got 0 \(number\)/);
    expect(() => memorySweepFigure([knownRun()])).toThrow(/points\[0\] needs a guest memory size/);
    expectLabError(() => memorySweepFigure([]), 'WRONG_TYPE');
  });
});
