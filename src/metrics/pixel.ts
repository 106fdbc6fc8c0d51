import { requireBothClasses } from './binary.js';
import type { Connectivity } from './components.js';
import { CurveAccumulator, type CurveMetrics, type PrCurve, type RocCurve } from './curve-accumulator.js';
import { OfficialThresholdCollector, countAboveThresholds, officialCurve, type OfficialPixelMetrics } from './official-pixel.js';
import { countPixelBuckets, sweepPixelBuckets } from './pixel-sweep.js';
import { ProAccumulator } from './pro.js';
import type { MapSource } from './score-map.js';
import type { ThresholdSink } from './threshold-sink.js';

export interface PixelMetricsOptions {
  /** AUPRO: false to skip; otherwise its FPR limit (default 0.3) and region connectivity (default 8, as MVTec's code). */
  aupro?: false | { fprLimit?: number; connectivity?: Connectivity };
  /** Also compute the official 200-threshold approximation (one more read of the maps). */
  official?: boolean;
  /** Curve points kept per axis for plotting (default 1000; 0 keeps none). */
  curvePoints?: number;
  /** Bytes for the exact counting structure (default 256 MiB). */
  memoryBudgetBytes?: number;
  /** Progress: called before each read of the maps (`passes` is 0 while not yet known). */
  onPass?: (pass: number, passes: number) => void;
}

export interface PixelMetrics extends CurveMetrics {
  /** AUPRO up to `auproFprLimit`, divided by it; null when not asked for. */
  aupro: number | null;
  auproFprLimit: number | null;
  maps: number;
  pixels: number;
  regions: number | null;
  /** Reads of the maps the exact computation needed. */
  passes: number;
  roc: RocCurve;
  pr: PrCurve;
  pro: { fpr: Float64Array; pro: Float64Array } | null;
  official: OfficialPixelMetrics | null;
}

/** Fans one sweep out to several sinks. */
function fanOut(sinks: ThresholdSink[]): ThresholdSink {
  return {
    add(t, p, n, w) {
      for (const s of sinks) s.add(t, p, n, w);
    },
  };
}

/**
 * Pixel-level metrics over every pixel of a set of maps, exact (each distinct float32 score is
 * its own threshold, as scikit-learn on the flattened pixels) and in bounded memory (see
 * pixel-sweep.ts): AU-ROC, AU-PR (trapezoid), average precision, max-F1, and AUPRO; optionally
 * the official 200-threshold approximation alongside.
 */
export async function pixelMetrics(source: MapSource, options: PixelMetricsOptions = {}): Promise<PixelMetrics> {
  const auproOptions = options.aupro === false ? null : { fprLimit: options.aupro?.fprLimit ?? 0.3, connectivity: options.aupro?.connectivity ?? 8 };
  const curvePoints = options.curvePoints ?? 1000;
  const counts = await countPixelBuckets(source, { regions: auproOptions?.connectivity ?? null, memoryBudgetBytes: options.memoryBudgetBytes, onPass: options.onPass });
  const totals = counts.totals;
  requireBothClasses(totals.positives, totals.negatives, 'the ground truth (all masks)');
  const curve = new CurveAccumulator(totals.positives, totals.negatives, { curve: curvePoints > 0 ? curvePoints : 'none' });
  const pro = auproOptions ? new ProAccumulator(totals.negatives, totals.regions, auproOptions.fprLimit, curvePoints) : null;
  const collector = options.official ? new OfficialThresholdCollector(totals.positives) : null;
  const sinks: ThresholdSink[] = [curve];
  if (pro) sinks.push(pro);
  if (collector) sinks.push(collector);
  let passes = await sweepPixelBuckets(counts, fanOut(sinks));

  let official: OfficialPixelMetrics | null = null;
  if (collector !== null) {
    const thresholds = collector.thresholds();
    options.onPass?.(++passes, passes);
    const above = await countAboveThresholds(source, thresholds);
    official = officialCurve(thresholds, above.above, above.aboveNeg, totals.positives, totals.negatives);
  }
  return {
    ...curve.metrics(),
    ...curve.curves(),
    aupro: pro?.value() ?? null,
    auproFprLimit: auproOptions?.fprLimit ?? null,
    maps: totals.maps,
    pixels: totals.pixels,
    regions: auproOptions ? totals.regions : null,
    passes,
    pro: pro && curvePoints > 0 ? pro.curve() : null,
    official,
  };
}
