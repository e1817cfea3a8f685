import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../lib/trace';
import { hypercallsFigure } from '../../lib/viz';
import { bareMetalRun, knownRun } from './fixtures';

describe('hypercallsFigure', () => {
  const fig = hypercallsFigure(knownRun());

  it('draws one horizontal bar per hypercall name on top, counts beside the bars, phases in the hover', () => {
    const top = fig.data.filter((t) => t.xaxis === 'x');
    expect(top).toHaveLength(1);
    expect(top[0]).toMatchObject({ orientation: 'h', y: ['mmu_update', 'mmuext_op'], x: [1, 1], text: ['1', '1'], yaxis: 'y' });
    expect(top[0].hovertext).toEqual(['1 × mmu_update hypercall: 1 in boot', '1 × mmuext_op hypercall: 1 in map']);
  });

  it('draws the MMUEXT operations by command below', () => {
    const below = fig.data.filter((t) => t.xaxis === 'x2');
    expect(below).toHaveLength(1);
    expect(below[0]).toMatchObject({ y: ['MMUEXT_PIN_L1_TABLE'], x: [1], yaxis: 'y2' });
    expect(fig.layout.yaxis.domain![0]).toBeGreaterThan(fig.layout.yaxis2!.domain![1]);
    expect(fig.layout.showlegend).toBe(false); // the bars are named on their axis: no legend
  });

  it('titles the axes with what is counted', () => {
    expect(fig.layout.title.text).toBe('Hypercalls: 8170e6bed465 / xen');
    expect(fig.layout.xaxis.title!.text).toBe('hypercalls (count)');
    expect(fig.layout.xaxis2!.title!.text).toBe('MMUEXT operations (count)');
  });

  it('keeps two base-pointer loads visible next to a thousand pins: log scale, drawn in red', () => {
    const t = new TraceRecorder();
    t.enterPhase('init_mem_mapping');
    for (let i = 0; i < 1006; i++) t.countMmuextOp('MMUEXT_PIN_L1_TABLE');
    t.countMmuextOp('MMUEXT_NEW_BASEPTR');
    t.countMmuextOp('MMUEXT_NEW_BASEPTR');
    const f = hypercallsFigure({ variant: '8170e6bed465', platform: 'xen', outcome: 'crashed', trace: t });
    const ops = f.data.find((d) => d.xaxis === 'x2')!;
    expect(ops.y).toEqual(['MMUEXT_PIN_L1_TABLE', 'MMUEXT_NEW_BASEPTR']);
    expect((ops.marker as { color: string[] }).color[1]).toBe('#d62728');
    expect(f.layout.xaxis2!.type).toBe('log');
    expect((f.layout.xaxis2!.range as number[])[0]).toBeLessThan(Math.log10(2));
    expect(f.layout.xaxis2!.ticktext).toEqual(['1', '10', '100', '1k']);
    // no hypercall at all was counted: no empty top panel
    expect(f.data.filter((d) => d.xaxis === 'x')).toEqual([]);
  });

  it('says a bare-metal run made no hypercalls instead of drawing empty panels', () => {
    const bare = hypercallsFigure(bareMetalRun());
    expect(bare.data).toEqual([]);
    expect(bare.layout.annotations![0].text).toBe('no hypercalls in this run (platform: bare-metal)');
  });
});
