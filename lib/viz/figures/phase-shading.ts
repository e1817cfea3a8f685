/** Boot phases as shaded bands behind a chart whose x axis is the trace's seq, each one named. */
import type { PlotlyAnnotation, PlotlyShape } from '../figure';
import type { PhaseSpan } from '../run-data';

const BANDS = ['rgba(99, 110, 250, 0.08)', 'rgba(0, 204, 150, 0.08)'];
/** Rough label geometry: a plot about 900 px wide, 6.5 px per character, 14 px per lane. */
const PLOT_PX = 900;
const CHAR_PX = 6.5;
export const LANE_PX = 14;

export function phaseShapes(spans: readonly PhaseSpan[]): PlotlyShape[] {
  return spans.map((s, i) => ({
    type: 'rect', xref: 'x', yref: 'paper', x0: s.start, x1: s.end, y0: 0, y1: 1,
    fillcolor: BANDS[i % 2], line: { width: 0 }, layer: 'below',
  }));
}

/** Phases narrower than this share of the axis are named together, in one label. */
const NARROW = 0.03;

/** Consecutive narrow phases grouped into one labelled stretch, "a › b › c". */
function labelGroups(spans: readonly PhaseSpan[], width: number): PhaseSpan[] {
  const groups: PhaseSpan[] = [];
  let open: PhaseSpan | null = null;
  for (const s of spans) {
    const narrow = (s.end - s.start) < NARROW * width;
    if (narrow && open !== null) {
      open.end = s.end;
      open.name += ` › ${s.name}`;
      continue;
    }
    const g = { ...s };
    groups.push(g);
    open = narrow ? g : null;
  }
  return groups;
}

/**
 * A name above each phase's band. Short phases crowd at the start of a boot (most steps are
 * the page-table fills of one phase): consecutive narrow ones share a label, and labels that
 * would still overlap go up into further lanes. Returns the annotations and the number of lanes
 * used (for the top margin).
 */
export function phaseAnnotations(spans: readonly PhaseSpan[]): { annotations: PlotlyAnnotation[]; lanes: number } {
  const first = spans.length === 0 ? 0 : spans[0].start;
  const last = spans.length === 0 ? 1 : spans[spans.length - 1].end;
  const width = (last - first) || 1;
  const perChar = width * CHAR_PX / PLOT_PX;
  const laneEnds: number[] = [];
  const annotations = labelGroups(spans, width).map((s) => {
    const half = (s.name.length + 2) * perChar / 2;
    // centred on its band, but kept inside the axis: pinned to an end when it would spill over
    let x = (s.start + s.end) / 2;
    let xanchor = 'center';
    if (x - half < first) { x = Math.max(first, s.start); xanchor = 'left'; }
    else if (x + half > last) { x = Math.min(last, s.end); xanchor = 'right'; }
    const from = xanchor === 'left' ? x : xanchor === 'right' ? x - 2 * half : x - half;
    let lane = laneEnds.findIndex((end) => end <= from);
    if (lane < 0) { lane = laneEnds.length; laneEnds.push(0); }
    laneEnds[lane] = from + 2 * half;
    return {
      text: s.name, x, y: 1, xref: 'x', yref: 'paper', showarrow: false, xanchor,
      yanchor: 'bottom', yshift: lane * LANE_PX, font: { size: 10, color: '#445' },
      hovertext: `${s.name.includes(' › ') ? 'phases' : 'phase'} ${s.name}: steps ${s.start} to ${s.end - 1}`,
    };
  });
  return { annotations, lanes: laneEnds.length };
}
