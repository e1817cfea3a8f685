/**
 * A watch on one 8-byte entry of machine memory during a replay: a probe of the run's trace
 * recorder (probed-trace.ts) that, at every point where the model reports progress (routine entry
 * and exit, each event, each counted page-table write or MMUEXT operation), compares the entry with
 * the value it last saw and notes a change with the step, the routine and how the write was made.
 *
 * Only the watched replay sets the probe, so other moves pay one null check per report. In the
 * watched replay a check is one Map lookup until the frame exists, then two array reads and compares.
 *
 * What it sees: every change of the entry, attributed to the innermost modelled routine running
 * when it was made. What it cannot see: a store that writes the value already there, and two
 * changes with no report point between them (they show as one).
 */
import type { TraceEventBody } from '../../trace/events';
import type { Kernel } from '../../linux/kernel';
import type { PhysicalMemory } from '../../x86/physical-memory';

/** One change of the watched entry. */
export interface EntryWrite {
  /** routines entered when the write was made (the write shows in `run.at(step + 1)`) */
  step: number;
  /** the innermost modelled routine running, or the builder of the initial state */
  routine: string;
  /** the kernel's call chain, outermost first (empty for the initial state) */
  callChain: string[];
  /** how the entry was written: 'a direct store', 'mmu_update', 'update_va_mapping', 'ptwr emulation', ... */
  via: string;
  /** the entry's machine address, 16 hex digits */
  entryPa: string;
  before: string;
  after: string;
}

const hex16 = (lo: number, hi: number): string =>
  (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');

/** The accessed and dirty flags (bits 5 and 6): what the processor writes on its own. */
const PTE_A_D = 0x60;

type Where = 'enter' | 'leave' | 'here';

export class EntryWatch {
  readonly writes: EntryWrite[] = [];
  private memory: PhysicalMemory | null = null;
  private kernel: Kernel | null = null;
  private words: Uint32Array | undefined;
  private lo = 0;
  private hi = 0;
  private readonly frame: number;
  private readonly index: number;

  /** Watches the entry at machine address `entryPa` (8-byte aligned). */
  constructor(private readonly entryPa: number) {
    this.frame = Math.floor(entryPa / 4096);
    this.index = (entryPa % 4096) / 4;
  }

  /**
   * Starts watching once the platform is built: whatever the entry holds now was written by the
   * platform's builder (`builder` names it: the domain builder, the boot loader).
   */
  attach(memory: PhysicalMemory, kernel: Kernel, builder: { routine: string; via: string }): void {
    this.memory = memory;
    this.kernel = kernel;
    this.words = memory.frames.get(this.frame);
    const lo = this.words === undefined ? 0 : this.words[this.index];
    const hi = this.words === undefined ? 0 : this.words[this.index + 1];
    if (lo !== 0 || hi !== 0) this.note(lo, hi, 0, builder.routine, [], builder.via);
  }

  /** Called by the probed trace recorder at each report point, before it records. */
  check(where: Where, event: TraceEventBody | null): void {
    if (this.memory === null) return;
    let w = this.words;
    if (w === undefined) {
      w = this.memory.frames.get(this.frame);
      if (w === undefined) return;
      this.words = w;
    }
    const lo = w[this.index];
    const hi = w[this.index + 1];
    if (lo === this.lo && hi === this.hi) return;
    const k = this.kernel as Kernel;
    const chain = k.stack.callChain;
    // At a routine's entry the new frame is already pushed and counted: the write came before it.
    if (where === 'enter') chain.pop();
    const step = where === 'enter' ? k.steps - 1 : k.steps;
    this.note(lo, hi, step, chain.length === 0 ? '(none)' : chain[chain.length - 1], chain, this.via(lo, hi, chain, event));
  }

  private via(lo: number, hi: number, chain: string[], event: TraceEventBody | null): string {
    if (event !== null && event.type === 'hypercall') return event.name;
    if (event !== null && event.type === 'page-fault' && event.handler === 'fixup') return 'ptwr emulation';
    if (chain.includes('early_make_pgtable')) return 'early_make_pgtable';
    if (hi === this.hi && ((lo ^ this.lo) & ~PTE_A_D) === 0) return 'the processor (accessed/dirty flags)';
    return 'a direct store';
  }

  private note(lo: number, hi: number, step: number, routine: string, chain: string[], via: string): void {
    this.writes.push({
      step, routine, callChain: chain, via,
      entryPa: Math.floor(this.entryPa).toString(16).padStart(16, '0'),
      before: hex16(this.lo, this.hi),
      after: hex16(lo, hi),
    });
    this.lo = lo;
    this.hi = hi;
  }
}
