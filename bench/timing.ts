/** Timing helpers shared by the benchmarks: best-of-N wall time in nanoseconds per operation. */

/** Runs `body` `reps` times per sample and returns the best ns per repetition over `samples`. */
export function bestNsPerOp(body: () => void, reps: number, samples = 7): number {
  let best = Infinity;
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) body();
    const ns = Number(process.hrtime.bigint() - t0) / reps;
    if (ns < best) best = ns;
  }
  return best;
}
