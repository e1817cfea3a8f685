/**
 * bootTimelineFigure on synthetic traces built with the TraceRecorder: setup_arch's calls in order,
 * 'trap-table' events as the guest's set_trap_table reaches Xen, CR3 loads through the installed
 * write_cr3, the vmemmap's first page-table page and the crash. Every expected position below can be
 * read off the two traces.
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import { TraceRecorder } from '../../lib/trace';
import { bootTimelineFigure, type RunView } from '../../lib/viz';
import { mergeOrder } from '../../lib/viz/figures/boot-timeline';

const LOW_VECTORS = [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];

/** A Xen boot to the CR3 reload in init_mem_mapping; `fixed` adds the rest of setup_arch. */
function xenRun(variant: string, hook: 'xen_write_cr3' | 'xen_write_cr3_init'): RunView {
  const t = new TraceRecorder();
  const call = (name: string, depth: number, body: () => void = () => {}) => { t.routine(true, name, depth); body(); t.routine(false, name, depth); };
  t.emit({ type: 'cr3-load', value: '000000007f40c000', by: 'arch_set_info_guest' });
  call('xen_start_kernel', 1, () => call('setup_arch', 2, () => {
    call('xen_arch_setup', 3);
    call('early_trap_init', 3, () => t.emit({ type: 'trap-table', vectors: LOW_VECTORS, by: 'xen_load_idt' }));
    call('printk', 3);
    call('init_mem_mapping', 3, () => {
      t.countPteWrites(1, 512);
      call(hook, 4, () => {
        t.emit({ type: 'cr3-load', value: '1a0c000', by: '__xen_write_cr3(kernel)' });
        if (hook === 'xen_write_cr3') {
          t.emit({ type: 'page-fault', address: 'ffffea000005b2d0', errorCode: 0, handler: 'unhandled', rip: null });
          t.emit({ type: 'domain-crash', domid: 7, reason: 'unhandled page fault' });
        }
      });
    });
    if (hook === 'xen_write_cr3') return;
    call('early_trap_pf_init', 3, () => t.emit({ type: 'trap-table', vectors: [...LOW_VECTORS, 14], by: 'xen_write_idt_entry' }));
    call('xen_pagetable_init', 3, () => {
      call('paging_init', 4, () => call('sparse_init', 5, () => t.emit({ type: 'pt-page-alloc', level: 1, pfn: 0x99, by: 'vmemmap_alloc_block' })));
      call('xen_post_allocator_init', 4);
    });
  }));
  return { variant, platform: 'xen', outcome: hook === 'xen_write_cr3' ? 'crashed' : 'booted', trace: t as unknown as RunView['trace'] };
}

describe('bootTimelineFigure', () => {
  const crash = xenRun('8170e6bed465', 'xen_write_cr3');
  const fix = xenRun('5b5c1af104ab', 'xen_write_cr3_init');
  const fig = bootTimelineFigure([crash, fix]);
  const traces = (name: string) => fig.data.filter((d) => d.name === name);

  it("puts setup_arch's calls on the x axis in the order they ran, the story's nested routines included, printk left out", () => {
    expect(fig.layout.xaxis.ticktext).toEqual(['before setup_arch', 'xen_arch_setup', 'early_trap_init', 'init_mem_mapping',
      'early_trap_pf_init', 'xen_pagetable_init', 'paging_init', 'sparse_init', 'xen_post_allocator_init']);
    expect(fig.layout.xaxis.tickvals).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(fig.layout.xaxis.title!.text).toContain('boot routines');
  });

  it('names each row by kernel and outcome, crashed rows in red, first kernel on top', () => {
    const labels = fig.layout.annotations!.map((a) => [a.text, a.y, (a.font as { color: string }).color]);
    expect(labels).toEqual([['<b>8170e6bed465</b>: crashed', 1.44, '#b00'], ['<b>5b5c1af104ab</b>: booted', 0.44, '#222']]);
  });

  it('shows which write_cr3 is installed: xen_write_cr3 in the crashing kernel until the crash; the fix\'s early one until xen_post_allocator_init', () => {
    const late = traces('write_cr3 = xen_write_cr3');
    // init_mem_mapping (slot 3) holds the crashing row's CR3 load and its crash, which sits near the slot's right edge
    const crashX = 3 + 0.3;
    expect(traces('crash')[0].x).toEqual([crashX]);
    expect(late.map((d) => [d.x, d.y])).toEqual([[[-0.5, crashX], [0.72, 0.72]], [[7.5, 8.5], [-0.28, -0.28]]]);
    expect(traces('write_cr3 = xen_write_cr3_init').map((d) => [d.x, d.y])).toEqual([[[-0.5, 7.5], [-0.28, -0.28]]]);
  });

  it('marks every CR3 load in the routine that made it, saying which write_cr3 it went through', () => {
    const loads = traces('CR3 load');
    expect(loads).toHaveLength(2);
    // the domain builder's load before setup_arch, and the reload in init_mem_mapping
    expect(loads[1].x.map((x) => Math.floor((x as number) + 0.5))).toEqual([0, 3]);
    expect(loads[1].text![1]).toBe('5b5c1af104ab: booted, in init_mem_mapping: CR3 load: 1a0c000 by __xen_write_cr3(kernel) (through xen_write_cr3_init)');
  });

  it('marks the crash inside init_mem_mapping, and no vmemmap or #PF state on the crashing row', () => {
    const [c] = traces('crash');
    expect(c.y).toEqual([1]);
    expect(Math.floor((c.x[0] as number) + 0.5)).toBe(3);
    expect(c.text![0]).toContain('domain 7 crashed: unhandled page fault at ffffea000005b2d0');
    expect(traces('vmemmap mapped').map((d) => d.y[0])).toEqual([0.3]);
    expect(traces('#PF entry held by Xen').map((d) => d.y[0])).toEqual([0.18]);
  });

  it("draws #PF held by Xen from the trap table that first carries vector 14, and the vmemmap from sparse_init's first page", () => {
    expect(traces('#PF entry held by Xen')[0].x).toEqual([3.5, 8.5]);
    expect(traces('#PF entry held by Xen')[0].text![0]).toContain('set by xen_write_idt_entry');
    expect(traces('vmemmap mapped')[0].x).toEqual([6.5, 8.5]);
    const sent = traces('trap table sent to Xen');
    expect(sent.flatMap((d) => d.text)).toEqual([
      '8170e6bed465: crashed, in early_trap_init: trap table sent to Xen by xen_load_idt: 13 vectors, no #PF (14)',
      '5b5c1af104ab: booted, in early_trap_init: trap table sent to Xen by xen_load_idt: 13 vectors, no #PF (14)',
      '5b5c1af104ab: booted, in early_trap_pf_init: trap table sent to Xen by xen_write_idt_entry: 14 vectors, #PF (14) among them',
    ]);
  });

  it('has one legend entry per kind of mark, and only for what is drawn', () => {
    const legend = fig.data.filter((d) => d.showlegend !== false).map((d) => d.name);
    expect(new Set(legend).size).toBe(legend.length);
    expect(legend.sort()).toEqual(['#PF entry held by Xen', 'CR3 load', 'crash', 'trap table sent to Xen', 'vmemmap mapped',
      'write_cr3 = xen_write_cr3', 'write_cr3 = xen_write_cr3_init']);
    const booted = bootTimelineFigure([fix]);
    expect(booted.data.some((d) => d.name === 'crash')).toBe(false);
  });

  it('merges routine orders on their common routines', () => {
    expect(mergeOrder([['a', 'b', 'd'], ['a', 'c', 'd', 'e']])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(mergeOrder([['s', 'early_trap_init', 'init_memory_mapping', 'initmem_init'], ['s', 'init_mem_mapping', 'early_trap_pf_init', 'initmem_init']]))
      .toEqual(['s', 'early_trap_init', 'init_memory_mapping', 'init_mem_mapping', 'early_trap_pf_init', 'initmem_init']);
  });

  it('is plain JSON and refuses what is not a list of runs', () => {
    expect(JSON.parse(JSON.stringify(fig))).toEqual(fig);
    expect(() => bootTimelineFigure([])).toThrow(LabError);
    expect(() => bootTimelineFigure('runs' as never)).toThrow(/results must be an array of runs/);
    expect(() => bootTimelineFigure([crash, {} as never])).toThrow(/results\[1\] must be a run/);
  });
});
