/** Boot phases as shaded bands behind a chart whose x axis is the trace's seq, each one named. */
import type { PlotlyAnnotation, PlotlyShape } from '../figure';
import type { PhaseSpan } from '../run-data';

const BANDS = ['rgba(99, 110, 250, 0.08)', 'rgba(0, 204, 150, 0.08)'];

export function phaseShapes(spans: readonly PhaseSpan[]): PlotlyShape[] {
  return spans.map((s, i) => ({
    type: 'rect', xref: 'x', yref: 'paper', x0: s.start, x1: s.end, y0: 0, y1: 1,
    fillcolor: BANDS[i % 2], line: { width: 0 }, layer: 'below',
  }));
}

export function phaseAnnotations(spans: readonly PhaseSpan[]): PlotlyAnnotation[] {
  return spans.map((s) => ({
    text: s.name, x: (s.start + s.end) / 2, y: 1, xref: 'x', yref: 'paper', showarrow: false,
    yanchor: 'bottom', textangle: -20, font: { size: 10, color: '#445' },
    hovertext: `phase ${s.name}: steps ${s.start} to ${s.end - 1}`,
  }));
}
