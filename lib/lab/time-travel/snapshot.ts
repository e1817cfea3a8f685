/**
 * Snapshots of a run and the checks restore makes. A snapshot names its point (the step, the
 * routine entered there, how the run stood) and the run it belongs to (a fingerprint of the
 * normalized configuration), so `restore` can refuse one from another run, one beyond the run,
 * or something that is not a snapshot, before it changes anything.
 */
import { LabError, describeValue } from '../../errors';
import type { NormalizedConfig } from '../config';
import type { Outcome } from './replay';

/** The brand every snapshot carries. */
export const SNAPSHOT_KIND = 'pvops-lab/run-snapshot';

/** A point in a run to come back to: the number of routines entered, and how the run stood. */
export interface RunSnapshot {
  readonly kind: typeof SNAPSHOT_KIND;
  step: number;
  routine: string | null;
  outcome: Outcome;
  /** the run's configuration, as `configFingerprint` writes it */
  config: string;
}

/** The configuration as a string with sorted keys: two runs with equal fingerprints are the same run. */
export function configFingerprint(config: NormalizedConfig): string {
  const c = config as unknown as Record<string, unknown>;
  return JSON.stringify(Object.keys(c).sort().map((k) => [k, c[k]]));
}

/** What the run knows of itself: how far it has been, how it ended (if it has), and the routine at each step so far. */
export interface RunExtent {
  fingerprint: string;
  /** the furthest step any move of the run has reached */
  furthest: number;
  /** the outcome at the furthest point when the boot ended there, else null */
  ended: 'booted' | 'crashed' | null;
  /** the routine entered at a step from 1 to `furthest` */
  routineAt(step: number): string;
}

const OUTCOMES: readonly string[] = ['not-started', 'paused', 'booted', 'crashed'];

/** Throws BAD_SNAPSHOT unless `s` is a snapshot of this run at a point it has reached. */
export function checkSnapshot(s: unknown, run: RunExtent): RunSnapshot {
  const notSnapshot = (why: string): LabError =>
    new LabError('BAD_SNAPSHOT', `restore takes a snapshot from run.snapshot(); ${why}`);
  if (typeof s !== 'object' || s === null) throw notSnapshot(`got ${describeValue(s)}`);
  const o = s as Record<string, unknown>;
  if (o.kind !== SNAPSHOT_KIND) throw notSnapshot(`got an object without the snapshot kind ${JSON.stringify(SNAPSHOT_KIND)}`);
  if (typeof o.step !== 'number' || !Number.isInteger(o.step) || o.step < 0) throw notSnapshot(`its step must be an integer >= 0; got ${describeValue(o.step)}`);
  if (typeof o.outcome !== 'string' || !OUTCOMES.includes(o.outcome)) throw notSnapshot(`its outcome must be one of ${OUTCOMES.join(', ')}; got ${describeValue(o.outcome)}`);
  if (o.routine !== null && typeof o.routine !== 'string') throw notSnapshot(`its routine must be a string or null; got ${describeValue(o.routine)}`);
  if (typeof o.config !== 'string') throw notSnapshot(`its config fingerprint must be a string; got ${describeValue(o.config)}`);
  const snap = s as RunSnapshot;
  if (snap.config !== run.fingerprint) {
    throw new LabError('BAD_SNAPSHOT', `the snapshot is from another run (config ${snap.config}); this run is ${run.fingerprint}`);
  }
  if (snap.step > run.furthest) {
    throw new LabError('BAD_SNAPSHOT', `the snapshot is at step ${snap.step}, beyond this run, which has reached step ${run.furthest}${run.ended === null ? '' : ` and ${run.ended} there`}`);
  }
  const consistent = (): string | null => {
    if (snap.step === 0) return snap.outcome === 'not-started' && snap.routine === null ? null : 'step 0 is the run before its first routine (outcome not-started, routine null)';
    if (snap.outcome === 'not-started') return 'a not-started snapshot is at step 0';
    if (snap.outcome === 'booted' || snap.outcome === 'crashed') {
      if (run.ended !== null) {
        return snap.step === run.furthest && snap.outcome === run.ended ? null : `this run ${run.ended} at step ${run.furthest}`;
      }
      // The boot has not been seen to end: an end before the furthest step did not happen.
      return snap.step === run.furthest ? null : `this run went on past step ${snap.step}`;
    }
    const at = run.routineAt(snap.step);
    return snap.routine === at ? null : `this run entered ${at} at step ${snap.step}`;
  };
  const why = consistent();
  if (why !== null) {
    throw new LabError('BAD_SNAPSHOT', `the snapshot (step ${snap.step}, ${snap.outcome}${snap.routine === null ? '' : ` at ${snap.routine}`}) is not a point of this run: ${why}`);
  }
  return snap;
}
