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
    expect(left.map((t) => t.name)).toEqual(['8170e6bed465 / xen', '8170e6bed465 / bare-metal']);
    // the known run allocates 5 page-table pages (the freed one still counts as allocated)
    expect(left[0]).toMatchObject({ x: [1024, 4096], y: [5, 5] });
    expect(left[1]).toMatchObject({ x: [1024, 2048], y: [2, 2] });
  });

  it('draws hypercalls on the right, and names series without any instead of putting zeros on a log axis', () => {
    const right = fig.data.filter((t) => t.yaxis === 'y2');
    expect(right).toHaveLength(1);
    expect(right[0]).toMatchObject({ name: '8170e6bed465 / xen', x: [1024, 4096], y: [2, 2], showlegend: false });
    expect(fig.layout.annotations![0].text).toBe('no hypercalls (not drawn on a log axis): 8170e6bed465 / bare-metal');
  });

  it('marks a crashed run with a cross and says so on hover', () => {
    expect((fig.data[0].marker as { symbol: string[] }).symbol).toEqual(['circle', 'x']);
    expect(fig.data[0].text![1]).toBe('8170e6bed465 / xen, 4096 MiB guest: 5 page-table pages, crashed');
  });

  it("takes runs straight, reading the memory size from their config as lab results have it", () => {
    const sized = (mib: number) => ({ ...knownRun(), config: { variant: 'v3.8', platform: 'xen', memoryBytes: mib * 2 ** 20 }, variant: undefined, platform: undefined });
    const f = memorySweepFigure([sized(2048), sized(512)]);
    expect(f.data[0]).toMatchObject({ name: 'v3.8 / xen', x: [512, 2048] });
  });

  it('uses log axes with units', () => {
    for (const a of [fig.layout.xaxis, fig.layout.yaxis, fig.layout.xaxis2!, fig.layout.yaxis2!]) expect(a.type).toBe('log');
    expect(fig.layout.xaxis.title!.text).toBe('guest memory (MiB, log scale)');
    expect(fig.layout.yaxis.title!.text).toBe('page-table pages (4 KiB each, log scale)');
    expect(fig.layout.yaxis2!.title!.text).toBe('hypercalls (count, log scale)');
  });

  it('refuses a non-positive memory size, naming the point', () => {
    expect(() => memorySweepFigure([{ memoryMiB: 0, run: knownRun() }])).toThrow(/points\[0\] needs a guest memory size: memoryMiB must be a positive number of MiB .*; got 0 \(number\)/);
    expect(() => memorySweepFigure([knownRun()])).toThrow(/points\[0\] needs a guest memory size/);
    expectLabError(() => memorySweepFigure([]), 'WRONG_TYPE');
  });
});
