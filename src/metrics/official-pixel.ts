import { SpotdiffError } from '../util/errors.js';
import { checkMapShape, type MapSource } from './score-map.js';
import type { ThresholdSink } from './threshold-sink.js';

/**
 * The pixel-level approximation of the VisA repository's metrics.py
 * (compute_localization_metrics), kept for comparing with the paper's tables. It evaluates the
 * curves at 202 thresholds instead of every distinct score:
 * - 100 percentiles of the defect pixels' scores (np.percentile, linear interpolation, at
 *   percents linspace(100, 0, 100)),
 * - 100 evenly spaced values from the highest to the lowest defect-pixel score,
 * - the lowest score of all pixels minus 1e-8 and the highest plus 1e-8;
 * sorted from high to low. At each threshold a pixel is predicted defective when its score is
 * strictly greater; precision is 1 when nothing is predicted. AU-ROC is the trapezoid over
 * (FPR, TPR), AU-PR the trapezoid over (TPR, precision). The original rounds both to 4 decimals;
 * here they are returned unrounded.
 *
 * NumPy details reproduced, since they decide which pixels pass a threshold: the percentile's
 * difference of neighbours is taken in float32 (the maps' dtype), the thresholds are float64,
 * and comparing a float32 array with a float64 scalar under NumPy 1.x rounds the scalar to
 * float32 first (so "min - 1e-8" usually equals min, and the lowest pixels never count).
 */

export interface OfficialPixelMetrics {
  auroc: number;
  aupr: number;
  maxF1: number;
  /** The 202 thresholds (float64, high to low) and the curve at each. */
  thresholds: Float64Array;
  fpr: Float64Array;
  tpr: Float64Array;
  precision: Float64Array;
}

const HALF = 100; // num // 2 in the original, num = 200

/** np.linspace(start, stop, num) as NumPy 1.x computes it. */
export function numpyLinspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) out[i] = step === 0 ? (i / div) * delta + start : i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** The ascending order-statistic positions np.percentile(x, q, method='linear') reads, with its weight. */
function percentilePlan(n: number, percent: number): { prev: number; next: number; gamma: number } {
  const vi = (n - 1) * (percent / 100);
  if (vi >= n - 1) return { prev: n - 1, next: n - 1, gamma: vi - Math.floor(vi) };
  const prev = Math.floor(vi);
  return { prev, next: prev + 1, gamma: vi - prev };
}

/** NumPy's _lerp on float32 neighbours: the difference is a float32, the rest float64. */
function numpyLerp(a: number, b: number, t: number): number {
  const diff = Math.fround(b - a);
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * Collects, during the exact sweep, what the official thresholds need: the extreme scores and
 * the defect pixels' order statistics that the 100 percentiles read.
 */
export class OfficialThresholdCollector implements ThresholdSink {
  max = NaN;
  min = NaN;
  positiveMax = NaN;
  positiveMin = NaN;
  private seenPositives = 0;
  private readonly percents = numpyLinspace(100, 0, HALF);
  private readonly wanted: number[]; // ascending ranks, sorted high to low
  private readonly values = new Map<number, number>();
  private nextWanted = 0;

  constructor(private readonly positives: number) {
    const ranks = new Set<number>();
    for (const p of this.percents) {
      const plan = percentilePlan(positives, p);
      ranks.add(plan.prev);
      ranks.add(plan.next);
    }
    this.wanted = [...ranks].sort((a, b) => b - a);
  }

  add(threshold: number, positives: number): void {
    if (Number.isNaN(this.max)) this.max = threshold;
    this.min = threshold;
    if (positives === 0) return;
    if (Number.isNaN(this.positiveMax)) this.positiveMax = threshold;
    this.positiveMin = threshold;
    // These positives hold descending positions [seen, seen + positives), i.e. ascending ranks
    // P-1-seen down to P-seen-positives.
    const lowestRank = this.positives - this.seenPositives - positives;
    while (this.nextWanted < this.wanted.length && (this.wanted[this.nextWanted] as number) >= lowestRank) {
      this.values.set(this.wanted[this.nextWanted] as number, threshold);
      this.nextWanted++;
    }
    this.seenPositives += positives;
  }

  /** The 202 float64 thresholds, high to low. */
  thresholds(): Float64Array {
    const rank = (r: number): number => this.values.get(r) as number;
    const out: number[] = [];
    for (const p of this.percents) {
      const plan = percentilePlan(this.positives, p);
      out.push(numpyLerp(rank(plan.prev), rank(plan.next), plan.gamma));
    }
    out.push(...numpyLinspace(this.positiveMax, this.positiveMin, HALF));
    out.push(this.min - 1e-8, this.max + 1e-8);
    return Float64Array.from(out).sort().reverse();
  }
}

/** One more read of the maps: how many defect and normal pixels score above each threshold (as float32). */
export async function countAboveThresholds(source: MapSource, thresholds: Float64Array): Promise<{ above: Float64Array; aboveNeg: Float64Array }> {
  const cuts = Float32Array.from(new Set(Array.from(thresholds, (t) => Math.fround(t)))).sort();
  const m = cuts.length;
  const binPos = new Float64Array(m + 1);
  const binNeg = new Float64Array(m + 1);
  let index = 0;
  for await (const map of source()) {
    checkMapShape(map, index++);
    const { scores, mask } = map;
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i] as number;
      // Number of cuts strictly below s: the pixel is above exactly those.
      let lo = 0;
      let hi = m;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((cuts[mid] as number) < s) lo = mid + 1;
        else hi = mid;
      }
      if (mask !== null && mask[i] !== 0) binPos[lo] = (binPos[lo] as number) + 1;
      else binNeg[lo] = (binNeg[lo] as number) + 1;
    }
  }
  // Pixels above cut k are those in bins k+1..m.
  const abovePosCut = new Float64Array(m);
  const aboveNegCut = new Float64Array(m);
  let p = 0;
  let q = 0;
  for (let k = m - 1; k >= 0; k--) {
    p += binPos[k + 1] as number;
    q += binNeg[k + 1] as number;
    abovePosCut[k] = p;
    aboveNegCut[k] = q;
  }
  const above = new Float64Array(thresholds.length);
  const aboveNeg = new Float64Array(thresholds.length);
  thresholds.forEach((t, i) => {
    const k = cuts.indexOf(Math.fround(t));
    above[i] = abovePosCut[k] as number;
    aboveNeg[i] = aboveNegCut[k] as number;
  });
  return { above, aboveNeg };
}

/** sklearn.metrics.auc: the trapezoid rule, for x that never decreases. */
function trapezoid(x: Float64Array, y: Float64Array): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] as number) - (x[i - 1] as number)) * (((y[i] as number) + (y[i - 1] as number)) / 2);
  return area;
}

/** The official metrics from the counts at each threshold. */
export function officialCurve(thresholds: Float64Array, tp: Float64Array, fp: Float64Array, positives: number, negatives: number): OfficialPixelMetrics {
  if (positives === 0 || negatives === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'the official pixel metrics need at least one normal and one defect pixel');
  const n = thresholds.length;
  const fpr = new Float64Array(n);
  const tpr = new Float64Array(n);
  const precision = new Float64Array(n);
  let maxF1 = 0;
  for (let i = 0; i < n; i++) {
    const t = tp[i] as number;
    const f = fp[i] as number;
    fpr[i] = f / negatives;
    tpr[i] = t / positives;
    precision[i] = t + f > 0 ? t / (t + f) : 1;
    const pr = precision[i] as number;
    const rc = tpr[i] as number;
    const f1 = pr > 0 && rc > 0 ? (2 * pr * rc) / (pr + rc) : 0;
    if (f1 > maxF1) maxF1 = f1;
  }
  return { auroc: trapezoid(fpr, tpr), aupr: trapezoid(tpr, precision), maxF1, thresholds, fpr, tpr, precision };
}
