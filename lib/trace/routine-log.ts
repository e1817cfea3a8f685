/**
 * Routine entries and exits, kept compactly: a boot enters hundreds of thousands of routines, and
 * an object per event would weigh more than the page tables being built. `events()` gives them
 * back as typed TraceEvents, in order.
 */
import type { TraceEvent } from './events';

export class RoutineLog {
  private seqs = new Float64Array(4096);
  /** name index + 1, negative for a leave */
  private codes = new Int32Array(4096);
  private depths = new Uint16Array(4096);
  private phases = new Uint16Array(4096);
  private count = 0;
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  private readonly phaseNames: string[] = [];
  private readonly phaseIndex = new Map<string, number>();

  get length(): number {
    return this.count;
  }

  /** Records an entry (enter = true) or exit of routine `name` at a stack depth. */
  add(seq: number, enter: boolean, name: string, depth: number, phase: string): void {
    if (this.count === this.seqs.length) this.grow();
    const i = this.count++;
    const code = intern(this.names, this.nameIndex, name) + 1;
    this.seqs[i] = seq;
    this.codes[i] = enter ? code : -code;
    this.depths[i] = depth;
    this.phases[i] = intern(this.phaseNames, this.phaseIndex, phase);
  }

  /** The recorded entries and exits as trace events. */
  events(): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (let i = 0; i < this.count; i++) {
      const code = this.codes[i];
      out.push({
        type: code > 0 ? 'routine-enter' : 'routine-leave',
        name: this.names[Math.abs(code) - 1],
        depth: this.depths[i],
        seq: this.seqs[i],
        phase: this.phaseNames[this.phases[i]],
      });
    }
    return out;
  }

  /** Appends every record of `other` (for TraceRecorder.clone). */
  appendFrom(other: RoutineLog): void {
    for (const e of other.events()) {
      if (e.type === 'routine-enter' || e.type === 'routine-leave') this.add(e.seq, e.type === 'routine-enter', e.name, e.depth, e.phase);
    }
  }

  private grow(): void {
    const n = this.seqs.length * 2;
    const grow = <T extends Float64Array | Int32Array | Uint16Array>(a: T, make: (n: number) => T): T => { const b = make(n); b.set(a); return b; };
    this.seqs = grow(this.seqs, (k) => new Float64Array(k));
    this.codes = grow(this.codes, (k) => new Int32Array(k));
    this.depths = grow(this.depths, (k) => new Uint16Array(k));
    this.phases = grow(this.phases, (k) => new Uint16Array(k));
  }
}

function intern(list: string[], index: Map<string, number>, s: string): number {
  let i = index.get(s);
  if (i === undefined) {
    i = list.length;
    list.push(s);
    index.set(s, i);
  }
  return i;
}
