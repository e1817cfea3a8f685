/**
 * lib/viz: pure functions from traces, runs and page tables to plotly figures and HTML views,
 * and the display glue that shows them in a tslab notebook cell.
 */
export * from './types';
export { runLabel, outcomeText, isCrashed, phaseSpans, crashPoint, type PhaseSpan, type CrashPoint } from './run-data';
export { isFigure, figureSummary, type PlotlyFigure, type PlotlyTrace, type PlotlyLayout, type PlotlyAxis, type PlotlyShape, type PlotlyAnnotation } from './figure';
export { ptPopulationFigure } from './figures/pt-population';
export { faultCountsFigure, FAULT_HANDLER_LABELS } from './figures/fault-counts';
export { hypercallsFigure } from './figures/hypercalls';
export { memorySweepFigure, type SweepPoint } from './figures/memory-sweep';
