/**
 * One recorder per run. Structured events for what a person would look at (routines, page-table
 * pages, hypercalls, faults, console lines) and plain counters for what happens millions of times
 * (PTE writes), so a 64 GiB boot does not build millions of objects.
 */
import type { FaultHandler, PtLevel, TraceEvent, TraceEventBody } from './events';
import { BulkEventLog } from './bulk-event-log';
import { RoutineLog } from './routine-log';

export interface Counters {
  /** page faults by who handled them */
  pageFaults: { handled: number; unhandled: number; byHandler: Record<FaultHandler, number> };
  /** page-table pages allocated, by level */
  ptPages: { l4: number; l3: number; l2: number; l1: number };
  /** page-table entries written, by level */
  pteWrites: { l4: number; l3: number; l2: number; l1: number };
  /** hypercalls by name (a multicall counts once, and each call it carries counts under its own name) */
  hypercalls: Record<string, number>;
  /** MMUEXT operations by command name */
  mmuextOps: Record<string, number>;
  /** CR3 loads */
  cr3Loads: number;
}

export function emptyCounters(): Counters {
  return {
    pageFaults: { handled: 0, unhandled: 0, byHandler: { 'early-pf': 0, kernel: 0, bounced: 0, fixup: 0, unhandled: 0 } },
    ptPages: { l4: 0, l3: 0, l2: 0, l1: 0 },
    pteWrites: { l4: 0, l3: 0, l2: 0, l1: 0 },
    hypercalls: {},
    mmuextOps: {},
    cr3Loads: 0,
  };
}

const LEVEL_KEYS = ['', 'l1', 'l2', 'l3', 'l4'] as const;

export class TraceRecorder {
  /** routine entries and exits (routines.events() gives them as TraceEvents) */
  readonly routines = new RoutineLog();
  readonly counters: Counters = emptyCounters();
  /** counters split by phase, in the order phases began */
  readonly countersByPhase = new Map<string, Counters>();
  /** the events but routine entries and exits and the bulk kinds, as objects */
  private readonly rare: TraceEvent[] = [];
  /** hypercalls, page faults and page-table pages allocated, compactly */
  private readonly bulk = new BulkEventLog();
  /** the phases in the order they began (the bulk log's records carry their index) */
  private readonly phaseList: string[] = [];
  private phaseName = 'start';
  private phaseNumber = 0;
  private phaseCounters: Counters;
  private seq = 0;

  /**
   * Every event but routine entries and exits, in order (allEvents() adds those). Built from the
   * compact logs when first asked for after a change, then kept until the next event. An own
   * enumerable property, so that a copy made with `{ ...trace }` has it too.
   */
  declare readonly events: TraceEvent[];

  constructor() {
    Object.defineProperty(this, 'events', { get: () => this.mergedEvents(), enumerable: true });
    this.phaseCounters = emptyCounters();
    this.countersByPhase.set(this.phaseName, this.phaseCounters);
    this.phaseList.push(this.phaseName);
  }

  get phase(): string {
    return this.phaseName;
  }

  /** The number of events and counted operations so far: the run's clock. */
  get now(): number {
    return this.seq;
  }

  private mergedEvents(): TraceEvent[] {
    if (this.bulk.length === 0) return this.rare;
    const cached = mergedViews.get(this);
    // the same counts and the same last object: nothing was recorded since (a run moved back to an
    // earlier checkpoint and forward again has the same counts but new event objects)
    const lastRare = this.rare.length === 0 ? null : this.rare[this.rare.length - 1];
    if (cached !== undefined && cached.seq === this.seq && cached.lastRare === lastRare && cached.bulk === this.bulk.length) return cached.events;
    const events = mergeBySeq(this.rare, this.bulk.events(this.phaseList));
    mergedViews.set(this, { seq: this.seq, lastRare, bulk: this.bulk.length, events });
    return events;
  }

  /** The events of one kind, in order (without building the others). */
  eventsOfType<T extends TraceEvent['type']>(type: T): (TraceEvent & { type: T })[] {
    const t: TraceEvent['type'] = type;
    const bulkKind = t === 'hypercall' || t === 'page-fault' || t === 'pt-page-alloc' ? t : undefined;
    const from = bulkKind !== undefined ? this.bulk.events(this.phaseList, bulkKind) : this.rare;
    return from.filter((e): e is TraceEvent & { type: T } => e.type === type);
  }

  /** Records a hypercall (what emit({ type: 'hypercall', ... }) does, without the body object). */
  hypercall(name: string, op: string | null, result: number, domid: number): void {
    this.addHypercall(name, op, result, domid);
  }

  private addHypercall(name: string, op: string | null, result: number, domid: number): void {
    this.bulk.hypercall(this.seq++, this.phaseNumber, name, op, result, domid);
    countHypercall(this.counters, name);
    countHypercall(this.phaseCounters, name);
  }

  emit(body: TraceEventBody): void {
    switch (body.type) {
      case 'hypercall':
        this.addHypercall(body.name, body.op, body.result, body.domid); // not hypercall(): a subclass watching both would see it twice
        return;
      case 'page-fault':
        this.bulk.pageFault(this.seq++, this.phaseNumber, body.address, body.errorCode, body.handler, body.rip);
        countFault(this.counters, body.handler);
        countFault(this.phaseCounters, body.handler);
        return;
      case 'pt-page-alloc': {
        this.bulk.ptPageAlloc(this.seq++, this.phaseNumber, body.level, body.pfn, body.by);
        const key = LEVEL_KEYS[body.level] as 'l1';
        this.counters.ptPages[key] += 1;
        this.phaseCounters.ptPages[key] += 1;
        return;
      }
      default: {
        // The body is the caller's fresh literal: stamp it in place rather than copy it.
        const event = body as TraceEvent;
        event.seq = this.seq++;
        event.phase = this.phaseName;
        if (body.type === 'cr3-load') { this.counters.cr3Loads += 1; this.phaseCounters.cr3Loads += 1; }
        this.rare.push(event);
      }
    }
  }

  /** Records a routine's entry or exit (compactly: see RoutineLog). */
  routine(enter: boolean, name: string, depth: number): void {
    this.routines.add(this.seq++, enter, name, depth, this.phaseName);
  }

  /** All events, routine entries and exits included, in order. */
  allEvents(): TraceEvent[] {
    const merged = [...this.events, ...this.routines.events()];
    merged.sort((a, b) => a.seq - b.seq);
    return merged;
  }

  /** Enters a boot phase: later events and counts belong to it. */
  enterPhase(name: string): void {
    this.phaseName = name;
    let c = this.countersByPhase.get(name);
    if (c === undefined) {
      c = emptyCounters();
      this.countersByPhase.set(name, c);
    }
    const n = this.phaseList.indexOf(name);
    this.phaseNumber = n >= 0 ? n : this.phaseList.push(name) - 1;
    this.phaseCounters = c;
    this.emit({ type: 'phase', name });
  }

  /** Counts one PTE write at a level (no event object: this is the hot path). */
  countPteWrite(level: PtLevel): void {
    const key = LEVEL_KEYS[level] as 'l1';
    this.counters.pteWrites[key] += 1;
    this.phaseCounters.pteWrites[key] += 1;
    this.seq++;
  }

  /** Counts `n` PTE writes at a level at once (a whole table filled). */
  countPteWrites(level: PtLevel, n: number): void {
    const key = LEVEL_KEYS[level] as 'l1';
    this.counters.pteWrites[key] += n;
    this.phaseCounters.pteWrites[key] += n;
    this.seq += n;
  }

  /** Counts one MMUEXT operation by its command name. */
  countMmuextOp(cmd: string): void {
    this.counters.mmuextOps[cmd] = (this.counters.mmuextOps[cmd] ?? 0) + 1;
    this.phaseCounters.mmuextOps[cmd] = (this.phaseCounters.mmuextOps[cmd] ?? 0) + 1;
  }

  /** A deep copy (for snapshots). */
  clone(): TraceRecorder {
    const copy = new TraceRecorder();
    for (const e of this.events) copy.put(e);
    copy.routines.appendFrom(this.routines);
    copy.countersByPhase.clear();
    for (const [k, v] of this.countersByPhase) copy.countersByPhase.set(k, structuredClone(v));
    Object.assign(copy.counters, structuredClone(this.counters));
    copy.phaseName = this.phaseName;
    copy.phaseCounters = copy.countersByPhase.get(this.phaseName) as Counters;
    copy.seq = this.seq;
    return copy;
  }

  /** What JSON.stringify gives: the events in order, the counters, the counters by phase (as an object) and the clock. */
  toJSON(): { events: TraceEvent[]; counters: Counters; countersByPhase: Record<string, Counters>; now: number } {
    const byPhase: Record<string, Counters> = {};
    for (const [k, v] of this.countersByPhase) byPhase[k] = v;
    return { events: this.events, counters: this.counters, countersByPhase: byPhase, now: this.seq };
  }

  /** Appends an event as recorded elsewhere (its seq and phase kept; counters untouched): for clone. */
  private put(e: TraceEvent): void {
    let n = this.phaseList.indexOf(e.phase);
    if (n < 0) n = this.phaseList.push(e.phase) - 1;
    switch (e.type) {
      case 'hypercall': this.bulk.hypercall(e.seq, n, e.name, e.op, e.result, e.domid); break;
      case 'page-fault': this.bulk.pageFault(e.seq, n, e.address, e.errorCode, e.handler, e.rip); break;
      case 'pt-page-alloc': this.bulk.ptPageAlloc(e.seq, n, e.level, e.pfn, e.by); break;
      default: this.rare.push({ ...e });
    }
  }
}

/** The merged view of a recorder's events, while its counts are still those it was built for. */
const mergedViews = new WeakMap<TraceRecorder, { seq: number; lastRare: TraceEvent | null; bulk: number; events: TraceEvent[] }>();

/** Merges two lists each in seq order. */
function mergeBySeq(a: readonly TraceEvent[], b: readonly TraceEvent[]): TraceEvent[] {
  const out: TraceEvent[] = new Array<TraceEvent>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i].seq <= b[j].seq ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

function countHypercall(c: Counters, name: string): void {
  c.hypercalls[name] = (c.hypercalls[name] ?? 0) + 1;
}

function countFault(c: Counters, handler: FaultHandler): void {
  c.pageFaults.byHandler[handler] += 1;
  if (handler === 'unhandled') c.pageFaults.unhandled += 1;
  else c.pageFaults.handled += 1;
}
