/**
 * Routine entries and exits, kept compactly: a boot enters hundreds of thousands of routines, and
 * an object per event would weigh more than the page tables being built. `events()` gives them
 * back as typed TraceEvents, in order.
 */
import type { TraceEvent } from './events';

/** Records per chunk: chunks are added as the log grows, never copied (a 1 TiB boot logs tens of millions). */
const CHUNK = 1 << 16;

export class RoutineLog {
  /** per chunk: the event's seq, less the chunk's base seq (a chunk spans less than 2^32) */
  private seqChunks: Uint32Array[] = [];
  /** per chunk: the seq its offsets count from */
  private seqBases: number[] = [];
  /** per chunk but the last: its records (the last has `fill`) */
  private chunkFills: number[] = [];
  /** per chunk: name index + 1, negative for a leave */
  private codeChunks: Int32Array[] = [];
  private depthChunks: Uint16Array[] = [];
  private phaseChunks: Uint16Array[] = [];
  private seqs = new Uint32Array(0);
  private seqBase = 0;
  private codes = new Int32Array(0);
  private depths = new Uint16Array(0);
  private phases = new Uint16Array(0);
  /** records in the last chunk */
  private fill = 0;
  private count = 0;
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  private readonly phaseNames: string[] = [];
  private readonly phaseIndex = new Map<string, number>();
  /** the last name interned and its code (a routine's leave follows its body's entries: one lookup saved often) */
  private lastName = '';
  private lastCode = 0;

  get length(): number {
    return this.count;
  }

  /** Records an entry (enter = true) or exit of routine `name` at a stack depth. */
  add(seq: number, enter: boolean, name: string, depth: number, phase: string): void {
    if (this.fill === this.seqs.length || seq - this.seqBase >= 4294967296 || seq < this.seqBase) this.addChunk(seq);
    const i = this.fill++;
    this.count++;
    let code: number;
    if (name === this.lastName && this.lastCode !== 0) code = this.lastCode;
    else { code = intern(this.names, this.nameIndex, name) + 1; this.lastName = name; this.lastCode = code; }
    this.seqs[i] = seq - this.seqBase;
    this.codes[i] = enter ? code : -code;
    this.depths[i] = depth;
    this.phases[i] = intern(this.phaseNames, this.phaseIndex, phase);
  }

  /** The recorded entries and exits as trace events. */
  events(): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (let c = 0; c < this.seqChunks.length; c++) {
      const seqs = this.seqChunks[c];
      const base = this.seqBases[c];
      const codes = this.codeChunks[c];
      const depths = this.depthChunks[c];
      const phases = this.phaseChunks[c];
      const n = c === this.seqChunks.length - 1 ? this.fill : this.chunkFills[c];
      for (let i = 0; i < n; i++) {
        const code = codes[i];
        out.push({
          type: code > 0 ? 'routine-enter' : 'routine-leave',
          name: this.names[Math.abs(code) - 1],
          depth: depths[i],
          seq: base + seqs[i],
          phase: this.phaseNames[phases[i]],
        });
      }
    }
    return out;
  }

  /** Appends every record of `other` (for TraceRecorder.clone). */
  appendFrom(other: RoutineLog): void {
    for (const e of other.events()) {
      if (e.type === 'routine-enter' || e.type === 'routine-leave') this.add(e.seq, e.type === 'routine-enter', e.name, e.depth, e.phase);
    }
  }

  private addChunk(seq: number): void {
    // The first chunk starts small (most runs in tests are short) and grows once to CHUNK
    // records; later chunks are CHUNK records each.
    const n = this.seqChunks.length === 0 ? 4096 : CHUNK;
    if (this.seqChunks.length === 1 && this.seqs.length < CHUNK && this.fill === this.seqs.length && seq - this.seqBase < 4294967296 && seq >= this.seqBase) {
      // grow the small first chunk to a full one, once
      const grow = <T extends Uint32Array | Int32Array | Uint16Array>(a: T, b: T): T => { b.set(a); return b; };
      this.seqs = this.seqChunks[0] = grow(this.seqs, new Uint32Array(CHUNK));
      this.codes = this.codeChunks[0] = grow(this.codes, new Int32Array(CHUNK));
      this.depths = this.depthChunks[0] = grow(this.depths, new Uint16Array(CHUNK));
      this.phases = this.phaseChunks[0] = grow(this.phases, new Uint16Array(CHUNK));
      return;
    }
    if (this.seqChunks.length > 0) this.chunkFills.push(this.fill);
    this.seqs = new Uint32Array(n);
    this.seqBase = seq;
    this.seqBases.push(seq);
    this.codes = new Int32Array(n);
    this.depths = new Uint16Array(n);
    this.phases = new Uint16Array(n);
    this.seqChunks.push(this.seqs);
    this.codeChunks.push(this.codes);
    this.depthChunks.push(this.depths);
    this.phaseChunks.push(this.phases);
    this.fill = 0;
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
