import { CompensatedSum } from './sum.js';
import type { ThresholdSink } from './threshold-sink.js';

/** ROC curve, ordered by decreasing threshold; the first point (0, 0) has threshold +Infinity. */
export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  thresholds: Float64Array;
}

/**
 * Precision-recall curve, ordered by decreasing threshold (scikit-learn orders it the other way);
 * the first point is the (recall 0, precision 1) anchor that scikit-learn appends, at threshold
 * +Infinity.
 */
export interface PrCurve {
  precision: Float64Array;
  recall: Float64Array;
  thresholds: Float64Array;
}

/** Threshold-free summaries of a binary ranking. Predicted anomalous means score >= threshold. */
export interface CurveMetrics {
  /** Area under the ROC curve; ties are diagonal segments (scikit-learn's roc_auc_score). */
  auroc: number;
  /**
   * Area under the precision-recall curve by the trapezoid rule over every distinct score plus the
   * (recall 0, precision 1) anchor: sklearn.metrics.auc(recall, precision) of
   * precision_recall_curve, which is what the VisA metrics.py reports as AU-PR.
   */
  aupr: number;
  /** Step-wise area: the sum of (R_i - R_{i-1}) P_i (scikit-learn's average_precision_score). */
  averagePrecision: number;
  /** Best F1 over all thresholds, and the lowest threshold that reaches it. */
  maxF1: number;
  maxF1Threshold: number;
  positives: number;
  negatives: number;
  /** How many distinct scores the data holds. */
  distinctScores: number;
}

export interface CurveOptions {
  /**
   * 'full' keeps every distinct threshold; a number keeps about that many points per axis
   * (a point is kept when FPR or TPR moved by at least 1/n since the last one kept, and the last
   * point always); 'none' keeps no curve.
   */
  curve?: 'full' | 'none' | number;
}

/**
 * Turns the distinct-score stream into AU-ROC, AU-PR, average precision and max-F1 in one
 * pass with O(1) memory (plus the curve points asked for). Counts stay integers until the end,
 * and areas are accumulated in counts with compensated sums, so the result does not depend on
 * how many thresholds there are.
 */
export class CurveAccumulator implements ThresholdSink {
  private tp = 0;
  private fp = 0;
  private prevPrecision = 1;
  private distinct = 0;
  private readonly rocArea = new CompensatedSum(); // in units of positive-negative pairs
  private readonly prArea = new CompensatedSum(); // in units of positives
  private readonly apSum = new CompensatedSum(); // in units of positives
  private bestF1 = 0;
  private bestThreshold = Infinity;
  private readonly keepAll: boolean;
  private readonly step: number;
  private readonly curveThresholds: number[] = [];
  private readonly curveTp: number[] = [];
  private readonly curveFp: number[] = [];
  private lastKeptTp = 0;
  private lastKeptFp = 0;
  private pendingLast = false;
  private lastThreshold = Infinity;

  constructor(
    readonly positives: number,
    readonly negatives: number,
    options: CurveOptions = {},
  ) {
    const curve = options.curve ?? 'full';
    this.keepAll = curve === 'full';
    this.step = typeof curve === 'number' ? 1 / Math.max(1, curve) : curve === 'none' ? Infinity : 0;
    this.keep(Infinity);
  }

  add(threshold: number, positives: number, negatives: number): void {
    const P = this.positives;
    // ROC: a tie block adds its negatives times the positives above it plus half its own.
    this.rocArea.add(negatives * (this.tp + positives / 2));
    this.tp += positives;
    this.fp += negatives;
    this.distinct++;
    const precision = this.tp / (this.tp + this.fp);
    if (positives > 0) {
      this.prArea.add((positives * (precision + this.prevPrecision)) / 2);
      this.apSum.add(positives * precision);
    }
    this.prevPrecision = precision;
    // F1 = 2TP / (2TP + FP + FN) = 2TP / (TP + FP + P): exact rationals, so ties compare equal.
    const f1 = (2 * this.tp) / (this.tp + this.fp + P);
    if (f1 >= this.bestF1 && this.tp > 0) {
      this.bestF1 = f1;
      this.bestThreshold = threshold;
    }
    this.lastThreshold = threshold;
    if (this.keepAll) this.keep(threshold);
    else if (this.step !== Infinity) {
      if (this.tp - this.lastKeptTp >= this.step * P || this.fp - this.lastKeptFp >= this.step * this.negatives) {
        this.keep(threshold);
        this.pendingLast = false;
      } else this.pendingLast = true;
    }
  }

  private keep(threshold: number): void {
    this.curveThresholds.push(threshold);
    this.curveTp.push(this.tp);
    this.curveFp.push(this.fp);
    this.lastKeptTp = this.tp;
    this.lastKeptFp = this.fp;
  }

  metrics(): CurveMetrics {
    const P = this.positives;
    const N = this.negatives;
    return {
      auroc: this.rocArea.value / P / N,
      aupr: this.prArea.value / P,
      averagePrecision: this.apSum.value / P,
      maxF1: this.bestF1,
      maxF1Threshold: this.bestThreshold,
      positives: P,
      negatives: N,
      distinctScores: this.distinct,
    };
  }

  /** The curves kept (see CurveOptions); empty arrays with curve 'none'. */
  curves(): { roc: RocCurve; pr: PrCurve } {
    if (this.pendingLast) {
      this.keep(this.lastThreshold);
      this.pendingLast = false;
    }
    const n = this.step === Infinity ? 0 : this.curveThresholds.length;
    const P = this.positives;
    const N = this.negatives;
    const roc: RocCurve = { fpr: new Float64Array(n), tpr: new Float64Array(n), thresholds: new Float64Array(n) };
    const pr: PrCurve = { precision: new Float64Array(n), recall: new Float64Array(n), thresholds: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      const tp = this.curveTp[i] as number;
      const fp = this.curveFp[i] as number;
      const t = this.curveThresholds[i] as number;
      roc.fpr[i] = fp / N;
      roc.tpr[i] = tp / P;
      roc.thresholds[i] = t;
      pr.recall[i] = tp / P;
      pr.precision[i] = i === 0 ? 1 : tp / (tp + fp);
      pr.thresholds[i] = t;
    }
    return { roc, pr };
  }
}
