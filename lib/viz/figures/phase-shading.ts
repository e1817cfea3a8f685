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

/**
 * A name above each phase's band. Short phases crowd at the start of a boot (most steps are
 * the page-table fills of one phase), so labels that would overlap go up into further lanes.
 * Returns the annotations and the number of lanes used (for the top margin).
 */
export function phaseAnnotations(spans: readonly PhaseSpan[]): { annotations: PlotlyAnnotation[]; lanes: number } {
  const first = spans.length === 0 ? 0 : spans[0].start;
  const last = spans.length === 0 ? 1 : spans[spans.length - 1].end;
  const perChar = ((last - first) || 1) * CHAR_PX / PLOT_PX;
  const laneEnds: number[] = [];
  const annotations = spans.map((s) => {
    const centre = (s.start + s.end) / 2;
    const half = (s.name.length + 2) * perChar / 2;
    let lane = laneEnds.findIndex((end) => end <= centre - half);
    if (lane < 0) { lane = laneEnds.length; laneEnds.push(0); }
    laneEnds[lane] = centre + half;
    return {
      text: s.name, x: centre, y: 1, xref: 'x', yref: 'paper', showarrow: false,
      yanchor: 'bottom', yshift: lane * LANE_PX, font: { size: 10, color: '#445' },
      hovertext: `phase ${s.name}: steps ${s.start} to ${s.end - 1}`,
    };
  });
  return { annotations, lanes: laneEnds.length };
}
