import { SpotdiffError } from '../../util/errors.js';

/**
 * Thresholds come from held-out training data only (never test data): a high quantile of
 * held-out normal images' scores, or the F1-optimal point when labelled anomalous
 * validation images exist.
 */

export interface ThresholdChoice {
  /** Predicted anomalous when score >= value. */
  value: number;
  method: 'normal-quantile' | 'validation-f1';
  /** In words, for model.json and reports. */
  source: string;
}

/** Numpy's default (linear) quantile of `values`, q in [0, 1]. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'quantile of no values');
  if (!(q >= 0 && q <= 1)) throw new SpotdiffError('ERR_BAD_INPUT', `quantile must be in [0, 1], got ${q}`);
  const s = Float64Array.from(values).sort();
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return (s[lo] as number) + (pos - lo) * ((s[hi] as number) - (s[lo] as number));
}

/** The threshold (one of the scores) with the best F1 when predicting anomalous at score >= t; ties: the higher threshold. */
export function f1OptimalThreshold(labels: ArrayLike<number>, scores: ArrayLike<number>): { value: number; f1: number } {
  const n = scores.length;
  const positives = Array.from(labels).filter((l) => l === 1).length;
  if (positives === 0 || positives === n) throw new SpotdiffError('ERR_BAD_INPUT', 'an F1-optimal threshold needs both normal and anomalous validation images');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let tp = 0;
  let fp = 0;
  let best = { value: scores[order[0] as number] as number, f1: -1 };
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    if (labels[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue; // equal scores fall on the same side
    const f1 = (2 * tp) / (2 * tp + fp + (positives - tp));
    if (f1 > best.f1) best = { value: scores[i] as number, f1 };
  }
  return best;
}

/** Chooses the threshold from validation scores: F1-optimal with anomalies present, else the `q` quantile of the normals. */
export function chooseThreshold(labels: ArrayLike<number>, scores: ArrayLike<number>, q: number): ThresholdChoice {
  const normals = Array.from(scores).filter((_, i) => labels[i] !== 1);
  const anomalies = scores.length - normals.length;
  if (anomalies > 0 && normals.length > 0) {
    const { value, f1 } = f1OptimalThreshold(labels, scores);
    return { value, method: 'validation-f1', source: `F1-optimal point (F1 ${f1.toFixed(3)}) on ${normals.length} held-out normal and ${anomalies} labelled anomalous validation images` };
  }
  return { value: quantile(normals, q), method: 'normal-quantile', source: `${q} quantile of the scores of ${normals.length} normal training images held out from fitting` };
}
