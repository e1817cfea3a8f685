/**
 * lib/viz: pure functions from traces, runs and page tables to plotly figures and HTML views,
 * and the display glue that shows them in a tslab notebook cell.
 */
export * from './types';
export { runLabel, runVariant, runPlatform, isRunLike, outcomeText, isCrashed, phaseSpans, crashPoint, type PhaseSpan, type CrashPoint } from './run-data';
export { isFigure, figureSummary, type PlotlyFigure, type PlotlyTrace, type PlotlyLayout, type PlotlyAxis, type PlotlyShape, type PlotlyAnnotation } from './figure';
export { regionLookupFromTable } from './regions';
export { ptPopulationFigure } from './figures/pt-population';
export { faultCountsFigure, FAULT_HANDLER_LABELS } from './figures/fault-counts';
export { hypercallsFigure } from './figures/hypercalls';
export { memorySweepFigure, type SweepPoint } from './figures/memory-sweep';
export { runTimelineFigure, type TimelineRun, type RunTimelineOptions } from './figures/run-timeline';
export { faultExplanationView } from './html/fault-explanation';
export { bootTimelineFigure } from './figures/boot-timeline';
export { escapeHtml } from './html/escape';
export { type HtmlView, isHtmlView } from './html/view';
export { pageWalkView, type PageWalkInput, type WalkResultView, type WalkStepView } from './html/page-walk';
export { buildPageTableTree, type PageTableTree, type PageTableTreeOptions, type PtNode } from './html/page-table-tree';
export { pageTableExplorer, pageTableTreeView } from './html/page-table-explorer';
export { terminalView, consoleView, matchSeedLines, formatStackFrame, type SeedLine, type SeedMatch, type TerminalSection } from './html/terminal';
export { runSummaryView, countersView } from './html/run-summary';
export { show, display, loadPlotly, displayRoute, type TslabLike, type ShowOptions } from './display/show';
export { mimeBundle, PLOTLY_MIME, type MimeBundle } from './display/mime-bundle';
export { plotlyChartHtml, plotlyLoaderHtml } from './display/plotly-html';
export { xsaStepsView } from './html/xsa-steps';
