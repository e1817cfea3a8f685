/**
 * The kinds of event a big boot records hundreds of thousands of times (hypercalls, page faults,
 * page-table pages allocated), kept compactly in typed-array chunks like the routine log: an
 * object per event made the collector mark a heap that grows with the guest (every old-space
 * collection walked all of them: 2.5 M hypercall events at 480 GiB), so the cost per page-table
 * entry rose with memory. `events()` gives them back as typed TraceEvents, in order.
 *
 * A record is its kind, seq and phase plus four fields whose meaning depends on the kind:
 *   hypercall:     a = name, b = op (-1: null), c = result, d = domid
 *   page-fault:    a = handler, b = rip (-1: null), c = errorCode, and the address string apart
 *   pt-page-alloc: a = by, c = pfn, d = level
 * Strings (names, ops, handlers, rips, routines) are interned once.
 */
import type { FaultHandler, PtLevel, TraceEvent } from './events';

/** Records per chunk: chunks are added as the log grows, never copied. */
const CHUNK = 1 << 14;

const HYPERCALL = 0;
const PAGE_FAULT = 1;
const PT_PAGE_ALLOC = 2;

export class BulkEventLog {
  private kindChunks: Uint8Array[] = [];
  private seqChunks: Float64Array[] = [];
  private phaseChunks: Uint16Array[] = [];
  private aChunks: Int32Array[] = [];
  private bChunks: Int32Array[] = [];
  private cChunks: Float64Array[] = [];
  private dChunks: Int32Array[] = [];
  /** per chunk: the page-fault addresses, by record (other records leave a hole) */
  private addressChunks: string[][] = [];
  private kinds = new Uint8Array(0);
  private seqs = new Float64Array(0);
  private phases = new Uint16Array(0);
  private as = new Int32Array(0);
  private bs = new Int32Array(0);
  private cs = new Float64Array(0);
  private ds = new Int32Array(0);
  private addresses: string[] = [];
  /** records in the last chunk */
  private fill = 0;
  private count = 0;
  private readonly strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();
  /** the last string interned and its index (a run makes the same hypercall many times in a row) */
  private lastString = '';
  private lastIndex = -1;

  get length(): number {
    return this.count;
  }

  hypercall(seq: number, phase: number, name: string, op: string | null, result: number, domid: number): void {
    const i = this.slot(seq, phase, HYPERCALL);
    this.as[i] = this.intern(name);
    this.bs[i] = op === null ? -1 : this.intern(op);
    this.cs[i] = result;
    this.ds[i] = domid;
  }

  pageFault(seq: number, phase: number, address: string, errorCode: number, handler: FaultHandler, rip: string | null): void {
    const i = this.slot(seq, phase, PAGE_FAULT);
    this.as[i] = this.intern(handler);
    this.bs[i] = rip === null ? -1 : this.intern(rip);
    this.cs[i] = errorCode;
    this.ds[i] = 0;
    this.addresses[i] = address;
  }

  ptPageAlloc(seq: number, phase: number, level: PtLevel, pfn: number, by: string): void {
    const i = this.slot(seq, phase, PT_PAGE_ALLOC);
    this.as[i] = this.intern(by);
    this.bs[i] = -1;
    this.cs[i] = pfn;
    this.ds[i] = level;
  }

  /**
   * The records as trace events, in order; `phaseNames` maps the phase numbers the records carry.
   * With `only`, the records of that kind alone.
   */
  events(phaseNames: readonly string[], only?: 'hypercall' | 'page-fault' | 'pt-page-alloc'): TraceEvent[] {
    const want = only === undefined ? -1 : only === 'hypercall' ? HYPERCALL : only === 'page-fault' ? PAGE_FAULT : PT_PAGE_ALLOC;
    const out: TraceEvent[] = [];
    const s = this.strings;
    for (let c = 0; c < this.kindChunks.length; c++) {
      const kinds = this.kindChunks[c];
      const seqs = this.seqChunks[c];
      const phases = this.phaseChunks[c];
      const as = this.aChunks[c];
      const bs = this.bChunks[c];
      const cs = this.cChunks[c];
      const ds = this.dChunks[c];
      const n = c === this.kindChunks.length - 1 ? this.fill : CHUNK;
      for (let i = 0; i < n; i++) {
        if (want >= 0 && kinds[i] !== want) continue;
        const seq = seqs[i];
        const phase = phaseNames[phases[i]];
        const b = bs[i];
        switch (kinds[i]) {
          case HYPERCALL:
            out.push({ type: 'hypercall', name: s[as[i]], op: b < 0 ? null : s[b], result: cs[i], domid: ds[i], seq, phase });
            break;
          case PAGE_FAULT:
            out.push({ type: 'page-fault', address: this.addressChunks[c][i], errorCode: cs[i], handler: s[as[i]] as FaultHandler, rip: b < 0 ? null : s[b], seq, phase });
            break;
          default:
            out.push({ type: 'pt-page-alloc', level: ds[i] as PtLevel, pfn: cs[i], by: s[as[i]], seq, phase });
            break;
        }
      }
    }
    return out;
  }

  private slot(seq: number, phase: number, kind: number): number {
    if (this.fill === this.kinds.length) this.addChunk();
    const i = this.fill++;
    this.count++;
    this.kinds[i] = kind;
    this.seqs[i] = seq;
    this.phases[i] = phase;
    return i;
  }

  private intern(str: string): number {
    if (str === this.lastString && this.lastIndex >= 0) return this.lastIndex;
    let i = this.stringIndex.get(str);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(str);
      this.stringIndex.set(str, i);
    }
    this.lastString = str;
    this.lastIndex = i;
    return i;
  }

  private addChunk(): void {
    // the first chunk is small (most runs in tests are short); later ones CHUNK records each
    const n = this.kindChunks.length === 0 ? 256 : CHUNK;
    if (this.kindChunks.length === 1 && this.kinds.length < CHUNK) {
      // grow the small first chunk to a full one, once
      this.kinds = this.kindChunks[0] = grown(this.kinds, new Uint8Array(CHUNK));
      this.seqs = this.seqChunks[0] = grown(this.seqs, new Float64Array(CHUNK));
      this.phases = this.phaseChunks[0] = grown(this.phases, new Uint16Array(CHUNK));
      this.as = this.aChunks[0] = grown(this.as, new Int32Array(CHUNK));
      this.bs = this.bChunks[0] = grown(this.bs, new Int32Array(CHUNK));
      this.cs = this.cChunks[0] = grown(this.cs, new Float64Array(CHUNK));
      this.ds = this.dChunks[0] = grown(this.ds, new Int32Array(CHUNK));
      return;
    }
    this.kinds = new Uint8Array(n);
    this.seqs = new Float64Array(n);
    this.phases = new Uint16Array(n);
    this.as = new Int32Array(n);
    this.bs = new Int32Array(n);
    this.cs = new Float64Array(n);
    this.ds = new Int32Array(n);
    this.addresses = [];
    this.kindChunks.push(this.kinds);
    this.seqChunks.push(this.seqs);
    this.phaseChunks.push(this.phases);
    this.aChunks.push(this.as);
    this.bChunks.push(this.bs);
    this.cChunks.push(this.cs);
    this.dChunks.push(this.ds);
    this.addressChunks.push(this.addresses);
    this.fill = 0;
  }
}

function grown<T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}
