/**
 * One recorder per run. Structured events for what a person would look at (routines, page-table
 * pages, hypercalls, faults, console lines) and plain counters for what happens millions of times
 * (PTE writes), so a 64 GiB boot does not build millions of objects.
 */
import type { FaultHandler, PtLevel, TraceEvent, TraceEventBody } from './events';
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
  /** every event but routine entries and exits, which `routines` keeps compactly */
  readonly events: TraceEvent[] = [];
  /** routine entries and exits (routines.events() gives them as TraceEvents) */
  readonly routines = new RoutineLog();
  readonly counters: Counters = emptyCounters();
  /** counters split by phase, in the order phases began */
  readonly countersByPhase = new Map<string, Counters>();
  private phaseName = 'start';
  private phaseCounters: Counters;
  private seq = 0;

  constructor() {
    this.phaseCounters = emptyCounters();
    this.countersByPhase.set(this.phaseName, this.phaseCounters);
  }

  get phase(): string {
    return this.phaseName;
  }

  /** The number of events and counted operations so far: the run's clock. */
  get now(): number {
    return this.seq;
  }

  emit(body: TraceEventBody): void {
    const seq = this.seq++;
    const phase = this.phaseName;
    let event: TraceEvent;
    switch (body.type) {
      // The kinds a big boot emits millions of: one literal with every field, the same keys in the
      // same order as the body's (stamping seq and phase onto the body would give each event a
      // second, out-of-object property store: about 24 bytes more a event).
      case 'page-fault':
        event = { type: body.type, address: body.address, errorCode: body.errorCode, handler: body.handler, rip: body.rip, seq, phase };
        this.bump((c) => countFault(c, body.handler));
        break;
      case 'hypercall':
        event = { type: body.type, name: body.name, op: body.op, result: body.result, domid: body.domid, seq, phase };
        this.bump((c) => { c.hypercalls[body.name] = (c.hypercalls[body.name] ?? 0) + 1; });
        break;
      case 'pt-page-alloc':
        event = { type: body.type, level: body.level, pfn: body.pfn, by: body.by, seq, phase };
        this.bump((c) => { c.ptPages[LEVEL_KEYS[body.level] as 'l1'] += 1; });
        break;
      default:
        // The body is the caller's fresh literal: stamp it in place rather than copy it.
        event = body as TraceEvent;
        event.seq = seq;
        event.phase = phase;
        if (body.type === 'cr3-load') this.bump((c) => { c.cr3Loads += 1; });
        break;
    }
    this.events.push(event);
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
    this.bump((c) => { c.mmuextOps[cmd] = (c.mmuextOps[cmd] ?? 0) + 1; });
  }

  /** A deep copy (for snapshots). */
  clone(): TraceRecorder {
    const copy = new TraceRecorder();
    copy.events.push(...this.events);
    copy.routines.appendFrom(this.routines);
    copy.countersByPhase.clear();
    for (const [k, v] of this.countersByPhase) copy.countersByPhase.set(k, structuredClone(v));
    Object.assign(copy.counters, structuredClone(this.counters));
    copy.phaseName = this.phaseName;
    copy.phaseCounters = copy.countersByPhase.get(this.phaseName) as Counters;
    copy.seq = this.seq;
    return copy;
  }

  private bump(f: (c: Counters) => void): void {
    f(this.counters);
    f(this.phaseCounters);
  }
}

function countFault(c: Counters, handler: FaultHandler): void {
  c.pageFaults.byHandler[handler] += 1;
  if (handler === 'unhandled') c.pageFaults.unhandled += 1;
  else c.pageFaults.handled += 1;
}
