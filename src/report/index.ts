/**
 * Reports a person can read, on plain typed arrays and sharp (no tensor engine): heatmap
 * overlays and masks for `spotdiff predict`, SVG charts, and the self-contained HTML page of
 * `spotdiff eval --report` and `spotdiff benchmark --report`.
 */
export { COLORMAP_NAMES, colormapLut, lutIndex, type ColormapName, type ValueRange } from './colormap.js';
export {
  sharedRange,
  heatmapRgb,
  overlayRgb,
  overlayPng,
  thresholdMask,
  maskPng,
  maskContour,
  encodePng,
  type AnomalyMap,
  type OverlayOptions,
} from './overlay.js';
export { contactSheetPng, type SheetTile, type ContactSheetOptions } from './contact-sheet.js';
export { rocSvg, prSvg, histogramSvg, histogramBins, colorbarSvg, type RocSeries, type PrSeries, type HistogramBins, type HistogramOptions } from './plots.js';
export { escapeHtml } from './escape.js';
export { selectExamples } from './examples.js';
export { validateReport } from './validate.js';
export { renderReportHtml, writeReport, checkReportFolder, REPORT_FILE } from './html.js';
export { formatScore } from './format.js';
export {
  REPORT_METRIC_KEYS,
  type Report,
  type RunInfo,
  type ObjectReport,
  type LevelMetrics,
  type ScoredImage,
  type ExampleOverlay,
  type ThresholdInfo,
  type PaperFigures,
  type ReportMetricKey,
} from './types.js';
