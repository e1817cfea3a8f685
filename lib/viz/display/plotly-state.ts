/**
 * Whether this kernel process has already sent plotly.js to the notebook. Per process (kept on
 * globalThis, so two copies of the library in one kernel agree): a kernel restart starts over.
 *
 * The pitfall: this state survives "Clear All Outputs" and re-running single cells, but the
 * notebook does not keep the copy that way. If the output that carried plotly.js is cleared or
 * replaced, later saves and HTML exports have charts without plotly.js (they show a note saying
 * so). Restart & Run All, or a loadPlotly(tslab) cell near the top (it always inlines), fixes it.
 */
const KEY = Symbol.for('pvops-lab.viz.plotlyInlined');

type Holder = { [KEY]?: boolean };

export function plotlyInlined(): boolean {
  return (globalThis as Holder)[KEY] === true;
}

export function markPlotlyInlined(value = true): void {
  (globalThis as Holder)[KEY] = value;
}
