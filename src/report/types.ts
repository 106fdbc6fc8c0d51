import type { PrCurve, RocCurve } from '../metrics/curve-accumulator.js';
import type { ColormapName, ValueRange } from './colormap.js';

/**
 * What `spotdiff eval` and `spotdiff benchmark` hand to writeReport. Metric values are
 * fractions in [0, 1] (the page shows percent, as the paper); scores are the detector's own
 * units. binaryMetrics() and pixelMetrics() results fit LevelMetrics as they are.
 */
export interface Report {
  /** The page's heading, e.g. "PatchCore on VisA (1cls)". */
  title: string;
  run: RunInfo;
  /** One entry per object (eval: one; benchmark: every object run), in table order. */
  objects: ObjectReport[];
  /** Published figures to show beside ours (benchmark on VisA: paper_results.json / 100). */
  paper?: PaperFigures | null;
  /** Decimals of the percentages in the table (default 1, as the paper). */
  digits?: number;
}

export interface RunInfo {
  method: string;
  backbone: string;
  dataset: string;
  /** When the run happened (ISO 8601). Passed in, so the same inputs make the same page. */
  date: string;
  /** The model's configuration as saved with it; shown as JSON. */
  config: Readonly<Record<string, unknown>>;
  /** Further lines worth showing (seed, weights file, spotdiff version, command line, timings). */
  extra?: Readonly<Record<string, string>>;
}

/** Threshold-free metrics of one level (image or pixel) with the curves to plot. */
export interface LevelMetrics {
  aupr: number;
  auroc: number;
  maxF1: number;
  /** Pixel level: AUPRO (null or absent when not computed). */
  aupro?: number | null;
  /** Curves to plot; absent or empty: no curve for this level. */
  roc?: RocCurve;
  pr?: PrCurve;
  /** Positive and negative counts (images or pixels): the PR chart shows the chance level. */
  positives?: number;
  negatives?: number;
}

/** One test image's score and its ground truth (1 = anomalous). */
export interface ScoredImage {
  name: string;
  label: 0 | 1;
  score: number;
}

/** A rendered example for the failure-case grid (see selectExamples). */
export interface ExampleOverlay extends ScoredImage {
  /** The heatmap overlay, PNG bytes (overlayPng with the object's heatmapScale). */
  overlayPng: Uint8Array;
  /** The predicted mask at the pixel threshold, PNG bytes (maskPng); optional. */
  maskPng?: Uint8Array | null;
}

/** The image-score threshold in use: predicted anomalous when score >= value. */
export interface ThresholdInfo {
  value: number;
  /** How it was chosen, in words, e.g. "0.99 quantile of 20 held-out normal training images". */
  source: string;
  /** The anomaly-map threshold for predicted masks, when it differs from `value`. */
  pixelValue?: number | null;
}

export interface ObjectReport {
  /** The object (VisA: candle, pcb1, ...); also the table row's name. */
  name: string;
  image: LevelMetrics;
  /** Null when the test set has no masks. */
  pixel: LevelMetrics | null;
  /** Every test image's score: the histograms. */
  scores: ScoredImage[];
  threshold: ThresholdInfo | null;
  /** Overlays of the highest-scoring normal and lowest-scoring anomalous images (any order). */
  examples: ExampleOverlay[];
  /** The colour scale every overlay of this object was rendered with (for the colour bar). */
  heatmapScale: (ValueRange & { colormap: ColormapName }) | null;
}

/** Table columns, as `<level>.<metric>`. */
export type ReportMetricKey = 'image.aupr' | 'image.auroc' | 'image.maxF1' | 'pixel.aupr' | 'pixel.auroc' | 'pixel.maxF1' | 'pixel.aupro';

export const REPORT_METRIC_KEYS: readonly ReportMetricKey[] = [
  'image.aupr',
  'image.auroc',
  'image.maxF1',
  'pixel.aupr',
  'pixel.auroc',
  'pixel.maxF1',
  'pixel.aupro',
];

export interface PaperFigures {
  /** Where the numbers come from, e.g. "Zou et al., ECCV 2022, Table 6 (PatchCore, supervised)". */
  source: string;
  /** Per table row ('mean' or an object name): metric -> fraction in [0, 1]. */
  rows: Readonly<Record<string, Partial<Record<ReportMetricKey, number>>>>;
}
