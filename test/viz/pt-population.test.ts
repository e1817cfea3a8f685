import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../lib/trace';
import { ptPopulationFigure } from '../../lib/viz';
import { bareMetalRun, knownRun } from './fixtures';
import { expectLabError } from '../support/lab-error';

describe('ptPopulationFigure', () => {
  const fig = ptPopulationFigure(knownRun());
  const byName = (name: string) => fig.data.find((t) => t.name === name)!;

  it('draws one cumulative step line per level against the entries written so far (not trace seq)', () => {
    // the known trace writes 2 entries at seq 3-4 and 3 at seq 12-14; every other step is an event
    expect(fig.data.map((t) => t.name)).toEqual(['L4 (PML4)', 'L3 (PDPT)', 'L2 (PD)', 'L1 (PT)']);
    expect(byName('L4 (PML4)')).toMatchObject({ x: [0, 0, 5], y: [null, 1, 1] });
    expect(byName('L2 (PD)')).toMatchObject({ x: [0, 2, 5], y: [null, 1, 1] });
    // two L1 pages allocated after 2 entries, one freed after all 5
    expect(byName('L1 (PT)')).toMatchObject({ x: [0, 2, 2, 5, 5], y: [null, 1, 2, 1, 1], line: { shape: 'hv', width: 2 } });
    expect(fig.layout.xaxis.title!.text).toBe('page-table entries written so far');
  });

  it('says in the hover text what each point is', () => {
    expect(byName('L1 (PT)').text![3]).toBe('L1 (PT): 1 page-table page after 5 entries written (freed pfn 0x14 by free_low_page, phase map)');
    expect(byName('L1 (PT)').hovertemplate).toBe('%{text}<extra></extra>');
  });

  it('puts pages on a log scale with ticks at powers of ten, and names levels with no page instead of drawing zeros', () => {
    expect(fig.layout.yaxis.type).toBe('log');
    expect(fig.layout.yaxis.title!.text).toBe('page-table pages (4 KiB each, log scale)');
    const bare = ptPopulationFigure(bareMetalRun());
    expect(bare.data.map((t) => t.name)).toEqual(['L4 (PML4)', 'L2 (PD)']);
    expect(bare.layout.xaxis.title!.text).toContain('no L3 (PDPT), L1 (PT) page allocated by this run');
  });

  it('shades each phase over the entries written in it, and marks the crash with a line and a note', () => {
    const rects = fig.layout.shapes!.filter((s) => s.type === 'rect');
    // boot wrote 2 entries, map 3, crash none (a phase with no entries written has no width)
    expect(rects.map((s) => [s.x0, s.x1])).toEqual([[0, 2], [2, 5]]);
    expect(rects.every((s) => s.yref === 'paper' && s.layer === 'below')).toBe(true);
    const crashLine = fig.layout.shapes!.find((s) => s.type === 'line')!;
    expect(crashLine).toMatchObject({ x0: 5, x1: 5, xref: 'x' });
    const notes = fig.layout.annotations!.map((a) => a.text);
    expect(notes).toEqual(['boot', 'map', 'crash:<br>domain 7 crashed:<br>unhandled page fault at ffffea000005b2d0 (ec=0000)']);
  });

  it('leaves out phases that wrote no entry', () => {
    const t = new TraceRecorder();
    for (const name of ['startup_64', 'x86_64_start_kernel', 'setup_arch']) t.enterPhase(name);
    t.enterPhase('init_mem_mapping');
    for (let i = 0; i < 1000; i++) t.countPteWrite(1);
    const crowded = ptPopulationFigure({ variant: 'v3.8', platform: 'bare-metal', outcome: 'booted', trace: t });
    // phases that wrote no entry take no room on the entries axis: only init_mem_mapping is named
    expect(crowded.layout.annotations!.filter((a) => a.y === 1).map((a) => [a.text, a.yshift])).toEqual([['init_mem_mapping', 0]]);
    expect(crowded.layout.annotations!.filter((a) => a.y === 1).map((a) => [a.x, a.xanchor])).toEqual([[500, 'center']]);
    expect((crowded.layout.margin as { t: number }).t).toBe(60 + 14);
  });

  it('lifts phase names that would still overlap into further lanes', () => {
    const t = new TraceRecorder();
    t.enterPhase('first_long_phase_name');
    for (let i = 0; i < 40; i++) t.countPteWrite(1);
    t.enterPhase('second_long_phase_name');
    for (let i = 0; i < 40; i++) t.countPteWrite(1);
    t.enterPhase('init_mem_mapping');
    for (let i = 0; i < 920; i++) t.countPteWrite(1);
    const crowded = ptPopulationFigure({ variant: 'v3.8', platform: 'bare-metal', outcome: 'booted', trace: t });
    expect(crowded.layout.annotations!.filter((a) => a.y === 1).map((a) => [a.text, a.yshift])).toEqual([
      ['first_long_phase_name', 0], ['second_long_phase_name', 14], ['init_mem_mapping', 0],
    ]);
    expect((crowded.layout.margin as { t: number }).t).toBe(60 + 2 * 14);
  });

  it('marks no crash for a run that booted, and is plain JSON', () => {
    const booted = ptPopulationFigure(bareMetalRun());
    expect(booted.layout.shapes!.some((s) => s.type === 'line')).toBe(false);
    expect(JSON.parse(JSON.stringify(booted))).toEqual(booted);
  });

  it('refuses what is not a run', () => {
    expectLabError(() => ptPopulationFigure({ variant: 'x' } as never), 'WRONG_TYPE');
  });
});
