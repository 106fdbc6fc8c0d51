import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryMetrics } from '../../src/metrics/binary.js';
import { Random } from '../../src/util/random.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pythonJson } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

// Reference: scikit-learn 1.2 (Debian's python3-sklearn) on the same data.
const REFERENCE = `
import json, sys, warnings
import numpy as np
from sklearn.metrics import roc_auc_score, precision_recall_curve, auc, average_precision_score, roc_curve
warnings.simplefilter('ignore')
out = []
for case in json.load(open(sys.argv[1])):
    y = np.array(case['y']); s = np.array(case['s'], dtype=np.float64)
    p, r, t = precision_recall_curve(y, s)
    f1 = 2 * p * r / (p + r)
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    out.append(dict(auroc=roc_auc_score(y, s), aupr=auc(r, p), ap=average_precision_score(y, s),
                    maxf1=float(np.max(f1[np.isfinite(f1)])), p=p.tolist(), r=r.tolist(), t=t.tolist(),
                    fpr=fpr.tolist(), tpr=tpr.tolist()))
print(json.dumps(out))
`;

interface Ref {
  auroc: number;
  aupr: number;
  ap: number;
  maxf1: number;
  p: number[];
  r: number[];
  t: number[];
  fpr: number[];
  tpr: number[];
}

function makeCases(): { name: string; y: number[]; s: number[] }[] {
  const rng = new Random(20240601);
  const cases: { name: string; y: number[]; s: number[] }[] = [];
  for (let k = 0; k < 6; k++) {
    const n = 5 + rng.int(400);
    const y = Array.from({ length: n }, () => (rng.chance(0.3) ? 1 : 0));
    y[0] = 1;
    y[1] = 0;
    cases.push({ name: `continuous ${k}`, y, s: y.map((l) => rng.normal(l * 0.8, 1)) });
    // Heavy ties: scores from a handful of levels.
    const levels = 1 + rng.int(6);
    cases.push({ name: `tied ${k} (${levels} levels)`, y, s: y.map((l) => Math.min(levels - 1, rng.int(levels) + (l && rng.chance(0.4) ? 1 : 0)) / 4) });
  }
  cases.push({ name: 'all scores equal', y: [1, 0, 0, 1, 0], s: [0.3, 0.3, 0.3, 0.3, 0.3] });
  cases.push({ name: 'perfect', y: [0, 0, 1, 1], s: [0.1, 0.2, 0.8, 0.9] });
  cases.push({ name: 'inverted', y: [1, 1, 0, 0], s: [0.1, 0.2, 0.8, 0.9] });
  cases.push({ name: 'signed zeros tie', y: [1, 0, 1, 0], s: [0, -0, 1, -1] });
  return cases;
}

const dir = tempDir();
let fileCount = 0;
function sklearn(data: { y: number[]; s: number[] }[]): Ref[] {
  const file = join(dir, `cases-${fileCount++}.json`);
  writeFileSync(file, JSON.stringify(data));
  return pythonJson<Ref[]>(REFERENCE, [file]);
}

const cases = makeCases();
const refs = sklearn(cases);

test('AU-ROC, AU-PR (trapezoid), AP and max-F1 match scikit-learn to 1e-12 on random and tied data', () => {
  cases.forEach((c, i) => {
    const ref = refs[i] as Ref;
    const m = binaryMetrics(c.y, c.s);
    const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12, `${c.name}: ${what} ${a} vs sklearn ${b}`);
    close(m.auroc, ref.auroc, 'AU-ROC');
    close(m.aupr, ref.aupr, 'AU-PR');
    close(m.averagePrecision, ref.ap, 'AP');
    close(m.maxF1, ref.maxf1, 'max-F1');
    // The F1 at the reported threshold (predict anomaly when score >= it) is the maximum.
    let tp = 0;
    let fp = 0;
    c.s.forEach((s, j) => {
      if (s >= m.maxF1Threshold) c.y[j] ? tp++ : fp++;
    });
    close((2 * tp) / (tp + fp + m.positives), ref.maxf1, 'F1 at the reported threshold');
  });
});

test('curves equal precision_recall_curve and roc_curve point by point', () => {
  cases.forEach((c, i) => {
    const ref = refs[i] as Ref;
    const m = binaryMetrics(c.y, c.s);
    // Ours is ordered by decreasing threshold; sklearn's PR arrays by increasing threshold.
    const n = ref.p.length;
    assert.equal(m.pr.precision.length, n, c.name);
    for (let k = 0; k < n; k++) {
      assert.ok(Math.abs((m.pr.precision[k] as number) - (ref.p[n - 1 - k] as number)) <= 1e-15, `${c.name} precision ${k}`);
      assert.ok(Math.abs((m.pr.recall[k] as number) - (ref.r[n - 1 - k] as number)) <= 1e-15, `${c.name} recall ${k}`);
      if (k > 0) assert.equal(m.pr.thresholds[k], ref.t[n - 1 - k]);
    }
    assert.equal(m.pr.thresholds[0], Infinity);
    assert.deepEqual(Array.from(m.roc.fpr), ref.fpr, c.name);
    assert.deepEqual(Array.from(m.roc.tpr), ref.tpr, c.name);
  });
});

test('a larger random set with many ties agrees with scikit-learn', () => {
  const rng = new Random(7);
  const n = 20000;
  const y = Array.from({ length: n }, () => (rng.chance(0.1) ? 1 : 0));
  const s = y.map((l) => Math.round((rng.normal(l, 1) + 4) * 20) / 20); // ~160 levels, ~125 samples each
  const [ref] = sklearn([{ y, s }]);
  const m = binaryMetrics(y, s, { curve: 'none' });
  assert.ok(Math.abs(m.auroc - ref!.auroc) <= 1e-12);
  assert.ok(Math.abs(m.aupr - ref!.aupr) <= 1e-12);
  assert.ok(Math.abs(m.averagePrecision - ref!.ap) <= 1e-12);
  assert.ok(Math.abs(m.maxF1 - ref!.maxf1) <= 1e-12);
  assert.equal(m.roc.fpr.length, 0, "curve: 'none' keeps no points");
});

test('hand-computed case: ties are diagonal segments', () => {
  // Scores: a(1)=0.9, b(0)=0.8 tied with c(1)=0.8, d(0)=0.1. Pairs: a>b, a>d, c=b (1/2), c>d -> 3.5 / 4.
  const m = binaryMetrics([1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1]);
  assert.equal(m.auroc, 0.875);
  // PR points: (0,1) anchor, (0.5,1), (1, 2/3), (1, 1/2): trapezoid = 0.5*1 + 0.5*(1+2/3)/2.
  assert.ok(Math.abs(m.aupr - (0.5 + (0.5 * (1 + 2 / 3)) / 2)) < 1e-15);
  assert.ok(Math.abs(m.averagePrecision - (0.5 * 1 + 0.5 * (2 / 3))) < 1e-15);
  assert.ok(Math.abs(m.maxF1 - 0.8) < 1e-15); // at 0.8: tp 2, fp 1 -> 4 / (4 + 1)
  assert.equal(m.maxF1Threshold, 0.8);
});

test('degenerate input: one class, NaN, infinite, length mismatch, empty, bad labels', () => {
  const code = (f: () => unknown, c: string, re: RegExp): void =>
    assert.throws(f, (e: unknown) => isSpotdiffError(e) && e.code === c && re.test(e.message));
  code(() => binaryMetrics([1, 1, 1], [0.1, 0.2, 0.3]), 'ERR_BAD_INPUT', /only anomalous/);
  code(() => binaryMetrics([0, 0], [0.1, 0.2]), 'ERR_BAD_INPUT', /only normal/);
  code(() => binaryMetrics([0, 1], [0.1, NaN]), 'ERR_BAD_INPUT', /score 1 is NaN/);
  code(() => binaryMetrics([0, 1], [Infinity, 0.2]), 'ERR_BAD_INPUT', /finite/);
  code(() => binaryMetrics([0, 1, 1], [0.1, 0.2]), 'ERR_SHAPE', /3 labels but 2 scores/);
  code(() => binaryMetrics([], []), 'ERR_BAD_INPUT', /no scores/);
  code(() => binaryMetrics([0, 2], [0.1, 0.2]), 'ERR_BAD_INPUT', /label 1 is 2/);
});
