import { describe, expect, it } from 'vitest';
import { hypercallsFigure } from '../../lib/viz';
import { bareMetalRun, knownRun } from './fixtures';

describe('hypercallsFigure', () => {
  const fig = hypercallsFigure(knownRun());

  it('stacks one bar trace per hypercall name per phase on the left', () => {
    expect(fig.layout.barmode).toBe('stack');
    const left = fig.data.filter((t) => t.xaxis === 'x');
    expect(left.map((t) => t.name)).toEqual(['mmu_update', 'mmuext_op']);
    expect(left[0]).toMatchObject({ x: ['boot', 'map'], y: [1, 0] });
    expect(left[1]).toMatchObject({ x: ['boot', 'map'], y: [0, 1] });
    expect(left[1].text![1]).toBe('1 mmuext_op hypercall in phase map');
  });

  it('stacks the MMUEXT operations by command on the right', () => {
    const right = fig.data.filter((t) => t.xaxis === 'x2');
    expect(right).toHaveLength(1);
    expect(right[0]).toMatchObject({ name: 'MMUEXT_PIN_L1_TABLE', x: ['boot', 'map'], y: [0, 1], yaxis: 'y2' });
    expect(right[0].text![1]).toBe('1 MMUEXT op MMUEXT_PIN_L1_TABLE in phase map');
  });

  it('titles the axes with what is counted', () => {
    expect(fig.layout.title.text).toBe('Hypercalls per boot phase: 8170e6bed465 / xen');
    expect(fig.layout.yaxis.title!.text).toBe('hypercalls (count, by name)');
    expect(fig.layout.yaxis2!.title!.text).toBe('MMUEXT operations (count, by command)');
  });

  it('says a bare-metal run made no hypercalls instead of drawing empty panels', () => {
    const bare = hypercallsFigure(bareMetalRun());
    expect(bare.data).toEqual([]);
    expect(bare.layout.annotations![0].text).toBe('no hypercalls in this run (platform: bare-metal)');
  });
});
