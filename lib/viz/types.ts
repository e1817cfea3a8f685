/**
 * What lib/viz reads. These are the small shapes the figure builders and views take, written so
 * that a TraceRecorder and (when lib/lab lands) a lab run result can be passed straight in:
 * structural types, no import of the model's internals.
 */
import type { Counters, TraceEvent } from '../trace';

/** Counters split by phase: the recorder's Map, or a plain object after serialisation. */
export type CountersByPhase = ReadonlyMap<string, Counters> | Readonly<Record<string, Counters>>;

/** A run's trace as the charts read it (a TraceRecorder fits). */
export interface TraceView {
  events: readonly TraceEvent[];
  counters: Counters;
  countersByPhase: CountersByPhase;
  /** the run's clock at the end (TraceRecorder.now); defaults to the last event's seq + 1 */
  now?: number;
}

/** One frame of the guest's call stack, as the kernel prints it: `[<address>] symbol+offset`. */
export interface StackFrameView {
  address: bigint | string | number;
  symbol: string;
  offset: number | string;
  /** the faulting RIP's frame (printed with a trailing "<--", as the seed does) */
  isRip?: boolean;
}

/** A page fault a run ended with. */
export interface FaultView {
  address: bigint | string;
  errorCode: number;
  /** who handled it (see FaultHandler), if known */
  handler?: string;
  rip?: bigint | string | null;
}

/** How a run ended: a word ('crashed', 'booted'), or an object with a kind and details. */
export type OutcomeView = string | { kind?: string; status?: string; reason?: string; summary?: string };

/**
 * One run of a kernel variant on a platform, as the views read it. The lab's RunResult fits: it
 * names the variant, platform and memory in `config`; a hand-made run may name them at the top.
 */
export interface RunView {
  /** a name for legends; defaults to "variant / platform" */
  label?: string;
  variant?: string;
  platform?: string;
  config?: { variant: string; platform: string; memoryBytes?: number };
  outcome: OutcomeView;
  trace: TraceView;
  xenConsole?: readonly string[];
  guestStack?: readonly StackFrameView[];
  fault?: FaultView | null;
}

/** A region of the address space: `start` to `end` inclusive (as Linux's mm.txt lists them). */
export interface RegionRange {
  name: string;
  start: bigint | string;
  end: bigint | string;
}

/**
 * Names the region a virtual address lies in (bits 47:0 as a number, as lib/linux's regionName
 * takes it), or null/undefined.
 */
export type RegionLookup = (va48: number) => string | null | undefined;

/** Names the Xen page type of a (machine) frame, or null/undefined when it has none worth showing. */
export type PageTypeLookup = (frame: number) => string | null | undefined;
