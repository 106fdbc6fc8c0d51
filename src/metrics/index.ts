/**
 * The paper's metrics on plain typed arrays (no tensor engine): image-level AU-ROC, AU-PR,
 * average precision and max-F1 with curves; exact pixel-level metrics and AUPRO in bounded
 * memory; the official 200-threshold approximation; result tables.
 */
export { binaryMetrics, type BinaryMetrics } from './binary.js';
export type { CurveMetrics, CurveOptions, RocCurve, PrCurve } from './curve-accumulator.js';
export { pixelMetrics, type PixelMetrics, type PixelMetricsOptions } from './pixel.js';
export type { OfficialPixelMetrics } from './official-pixel.js';
export { mapsInMemory, type ScoreMap, type MapSource } from './score-map.js';
export { labelComponents, type Components, type Connectivity } from './components.js';
export { pairMapFiles, mapFileSource, readScoreFile, type MapFilePair } from './map-files.js';
export { buildTable, renderText, renderMarkdown, tableJson, metricLabel, type MetricRecord, type MetricTable, type TableCell } from './table.js';
