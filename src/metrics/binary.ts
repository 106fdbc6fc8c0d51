import { SpotdiffError } from '../util/errors.js';
import { CurveAccumulator, type CurveMetrics, type CurveOptions, type PrCurve, type RocCurve } from './curve-accumulator.js';

/** Image-level (or any binary) metrics with their curves. */
export interface BinaryMetrics extends CurveMetrics {
  roc: RocCurve;
  pr: PrCurve;
}

/** Accepts 0/1 numbers or booleans; anything else is an error naming the index. */
function labelAt(labels: ArrayLike<number | boolean>, i: number): 0 | 1 {
  const v = labels[i];
  if (v === 1 || v === true) return 1;
  if (v === 0 || v === false) return 0;
  throw new SpotdiffError('ERR_BAD_INPUT', `label ${i} is ${String(v)}; labels must be 0 (normal) or 1 (anomaly)`);
}

/** Throws the error for data that has no positives or no negatives. */
export function requireBothClasses(positives: number, negatives: number, what: string): void {
  if (positives === 0 || negatives === 0) {
    const only = positives === 0 ? 'normal' : 'anomalous';
    throw new SpotdiffError(
      'ERR_BAD_INPUT',
      `${what} holds only ${only} samples (${positives} anomalous, ${negatives} normal); AU-ROC, AU-PR and F1 need both classes`,
    );
  }
}

/**
 * AU-ROC, AU-PR (trapezoid, as VisA's metrics.py), average precision and max-F1 of scores
 * against binary labels (1 = anomaly, higher score = more anomalous), with their curves. Scores
 * are compared as the float64 values given; equal scores are ties whatever their sign of zero.
 */
export function binaryMetrics(labels: ArrayLike<number | boolean>, scores: ArrayLike<number>, options: CurveOptions = {}): BinaryMetrics {
  const n = scores.length;
  if (labels.length !== n) throw new SpotdiffError('ERR_SHAPE', `${labels.length} labels but ${n} scores`);
  if (n === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no scores given: metrics need at least one normal and one anomalous sample');
  const y = new Uint8Array(n);
  const s = new Float64Array(n);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const v = scores[i] as number;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new SpotdiffError('ERR_BAD_INPUT', `score ${i} is ${String(v)}; scores must be finite numbers`);
    }
    s[i] = v;
    y[i] = labelAt(labels, i);
    positives += y[i] as number;
  }
  requireBothClasses(positives, n - positives, 'the data');

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => (s[b] as number) - (s[a] as number));

  const acc = new CurveAccumulator(positives, n - positives, { curve: options.curve ?? 'full' });
  let i = 0;
  while (i < n) {
    const value = s[order[i] as number] as number;
    let pos = 0;
    let neg = 0;
    for (; i < n && s[order[i] as number] === value; i++) {
      if (y[order[i] as number] === 1) pos++;
      else neg++;
    }
    acc.add(value, pos, neg);
  }
  return { ...acc.metrics(), ...acc.curves() };
}
