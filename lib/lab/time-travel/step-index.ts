/**
 * Steps and routines: step n of a run is the n-th routine entry. These read a run's compact
 * routine log (lib/trace/routine-log.ts) by step.
 */
import type { RoutineLog } from '../../trace/routine-log';

/** The routine entered at each step: index n holds step n's routine (index 0 is unused). */
export function routinesByStep(trace: { readonly routines: RoutineLog }): string[] {
  const names: string[] = [''];
  for (const e of trace.routines.events()) if (e.type === 'routine-enter') names.push(e.name);
  return names;
}

/** The latest step up to `last` (inclusive) at which `symbol` was entered, or 0 when there is none. */
export function lastEntryOf(names: readonly string[], symbol: string, last: number): number {
  for (let s = Math.min(last, names.length - 1); s >= 1; s--) if (names[s] === symbol) return s;
  return 0;
}

/** The step each trace event happened in: the number of routine entries before its seq. */
export function stepOfSeq(trace: { readonly routines: RoutineLog }): (seq: number) => number {
  const enterSeqs: number[] = [];
  for (const e of trace.routines.events()) if (e.type === 'routine-enter') enterSeqs.push(e.seq);
  return (seq) => {
    let lo = 0;
    let hi = enterSeqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (enterSeqs[mid] < seq) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
}
