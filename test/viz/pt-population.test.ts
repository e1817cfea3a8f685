import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../lib/trace';
import { ptPopulationFigure } from '../../lib/viz';
import { bareMetalRun, knownRun } from './fixtures';
import { expectLabError } from '../support/lab-error';

describe('ptPopulationFigure', () => {
  const fig = ptPopulationFigure(knownRun());
  const byName = (name: string) => fig.data.find((t) => t.name === name)!;

  it('draws one cumulative step line per level, against the trace seq', () => {
    expect(fig.data.slice(0, 4).map((t) => t.name)).toEqual(['L4 (PML4)', 'L3 (PDPT)', 'L2 (PD)', 'L1 (PT)']);
    expect(byName('L4 (PML4)')).toMatchObject({ x: [0, 1, 19], y: [0, 1, 1] });
    expect(byName('L2 (PD)')).toMatchObject({ x: [0, 7, 19], y: [0, 1, 1] });
    // two L1 pages allocated, one freed at seq 15
    expect(byName('L1 (PT)')).toMatchObject({ x: [0, 8, 9, 15, 19], y: [0, 1, 2, 1, 1], line: { shape: 'hv', width: 2 } });
  });

  it('says in the hover text what each point is', () => {
    expect(byName('L1 (PT)').text![3]).toBe('L1 (PT): 1 page-table page after step 15 (freed pfn 0x14 by free_low_page, phase map)');
    expect(byName('L1 (PT)').hovertemplate).toBe('%{text}<extra></extra>');
  });

  it('puts the entries written per phase on a second axis, cumulative at each phase end', () => {
    const entries = byName('entries written (cumulative, at phase ends)');
    expect(entries).toMatchObject({ x: [6, 16], y: [2, 5], yaxis: 'y2' });
    expect(entries.text![1]).toContain('5 page-table entries written by the end of phase map (3 in it: L4 0, L3 0, L2 0, L1 3)');
  });

  it('shades each phase and names it, and marks the crash with a line and a note', () => {
    const rects = fig.layout.shapes!.filter((s) => s.type === 'rect');
    expect(rects.map((s) => [s.x0, s.x1])).toEqual([[0, 6], [6, 16], [16, 19]]);
    expect(rects.every((s) => s.yref === 'paper' && s.layer === 'below')).toBe(true);
    const crashLine = fig.layout.shapes!.find((s) => s.type === 'line')!;
    expect(crashLine).toMatchObject({ x0: 18, x1: 18, xref: 'x' });
    const notes = fig.layout.annotations!.map((a) => a.text);
    expect(notes).toEqual(['boot', 'map', 'crash', 'crash: domain 7 crashed: unhandled page fault at ffffea000005b2d0 (ec=0000)']);
  });

  it('names consecutive narrow phases in one label', () => {
    const t = new TraceRecorder();
    for (const name of ['startup_64', 'x86_64_start_kernel', 'setup_arch']) t.enterPhase(name);
    t.enterPhase('init_mem_mapping');
    for (let i = 0; i < 1000; i++) t.countPteWrite(1);
    const crowded = ptPopulationFigure({ variant: 'v3.8', platform: 'bare-metal', outcome: 'booted', trace: t });
    expect(crowded.layout.annotations!.map((a) => [a.text, a.yshift])).toEqual([
      ['startup_64 › x86_64_start_kernel › setup_arch', 0], ['init_mem_mapping', 0],
    ]);
    // the group's label would spill left of the axis: it starts at the axis instead
    expect(crowded.layout.annotations!.map((a) => [a.x, a.xanchor])).toEqual([[0, 'left'], [503.5, 'center']]);
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
    expect(crowded.layout.annotations!.map((a) => [a.text, a.yshift])).toEqual([
      ['first_long_phase_name', 0], ['second_long_phase_name', 14], ['init_mem_mapping', 0],
    ]);
    expect((crowded.layout.margin as { t: number }).t).toBe(60 + 2 * 14);
  });

  it('titles the figure and both axes with their units', () => {
    expect(fig.layout.title.text).toBe('Page-table pages over the boot: 8170e6bed465 / xen');
    expect(fig.layout.xaxis.title!.text).toContain('boot step (trace sequence number');
    expect(fig.layout.yaxis.title!.text).toBe('page-table pages (4 KiB each)');
    expect(fig.layout.yaxis2!.title!.text).toBe('page-table entries written');
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
