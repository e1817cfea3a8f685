/**
 * Tick marks a reader can read: on a log axis, labels only where the data are or at whole powers
 * of ten (never plotly's minor "2 3 4 5" labels); counts and sizes written short (1k, 16 G).
 */

/** A count written short: 950, 7.2k, 1.5M. */
export function shortCount(n: number): string {
  if (n >= 1e6) return `${trim(n / 1e6)}M`;
  if (n >= 1e3) return `${trim(n / 1e3)}k`;
  return String(n);
}
const trim = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(1).replace(/\.0$/, ''));

/** A size in MiB written as a reader says it: 256 M, 1 G, 16 G. */
export function mibLabel(mib: number): string {
  return mib >= 1024 && mib % 1024 === 0 ? `${mib / 1024} G` : mib >= 1024 ? `${(mib / 1024).toFixed(1)} G` : `${mib} M`;
}

/**
 * Tick values for a log axis covering [min, max] (min > 0): every power of ten in range, and
 * 2 and 5 times them when the range spans less than two decades. Returns the values and labels.
 */
export function logTicks(min: number, max: number): { tickvals: number[]; ticktext: string[] } {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const steps = hi - lo <= 2 ? [1, 2, 5] : [1];
  const tickvals: number[] = [];
  for (let d = lo; d <= hi; d++) for (const s of steps) {
    const v = s * 10 ** d;
    if (v >= min / 1.5 && v <= max * 1.5) tickvals.push(v);
  }
  return { tickvals, ticktext: tickvals.map(shortCount) };
}

/**
 * The log-axis fields for values in [min, max]: a range with some room and the ticks above. With
 * `fromOne` (bar charts of counts) the axis starts below 1, so a bar of 1 has a visible height.
 */
export function logAxisFields(min: number, max: number, fromOne = true): Record<string, unknown> {
  const lo = fromOne ? Math.min(min, 1) * 0.6 : min / 1.6;
  return { type: 'log', range: [Math.log10(lo), Math.log10(max * 1.8)], ...logTicks(fromOne ? 1 : min, max) };
}
