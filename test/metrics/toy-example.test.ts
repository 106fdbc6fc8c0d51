import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { binaryMetrics, type BinaryMetrics } from '../../src/metrics/binary.js';
import { paperResultsFile } from '../../src/data/visa/facts.js';

/**
 * The supplementary's toy example for AU-PR against AU-ROC (paper_results.json,
 * toy_example_supplementary_B): 100 positives, 100,000 negatives.
 * - Model A: "each additional TP costs 10 FPs ((1,10),(2,20),...,(100,1000))". As the issue and
 *   the JSON's note say, the pairs behave as (TP, predicted positives): at the k-th positive
 *   10k samples are predicted positive, k of them true, so precision is 10% at every positive.
 *   Built as 100 blocks of 9 negatives ranked just above one positive, then 99,100 negatives
 *   below every positive.
 * - Model B: "first 90 TPs at 0 FP, then 3000 FPs per TP ((91,3000),...,(100,30000))": the 90
 *   top-ranked samples are positives, then each further positive has 3000 more negatives above
 *   it (FP = 3000, 6000, ..., 30000), then the remaining 70,000 negatives.
 * Every sample gets its own score (no ties), so the metrics here are those of a real ranking.
 *
 * Two readings of the PR (and ROC) curve:
 * - STEP-WISE (scikit-learn, what this project reports): every distinct score is a point of
 *   precision_recall_curve, so the negatives ranked between two positives pull precision down
 *   before the next positive lifts recall; AU-PR is about 9.8 (A) and 90.1 (B).
 * - PAPER: the curve taken only at the positives' thresholds (plus the (recall 0, precision 1)
 *   start), joined by straight lines; this gives the printed 10.5 (A) and 90.6 (B), and for
 *   model B the printed AU-ROC 98.5 (step-wise: 98.35). It equals the step-wise metric of a
 *   ranking in which each block of negatives is tied with the positive below it.
 */

interface Toy {
  auroc: number;
  aupr: number;
  max_f1: number;
}
const printed = JSON.parse(readFileSync(paperResultsFile, 'utf8')).toy_example_supplementary_B as {
  model_A: Toy;
  model_B: Toy;
  setup: string;
};

const POSITIVES = 100;
const NEGATIVES = 100_000;

/**
 * A ranking: negativesAbove[k] negatives directly above positive k (k = 0..99), the rest of the
 * negatives below every positive. With `tieBlocks`, each block shares its positive's score.
 */
function ranking(negativesAbove: number[], tieBlocks = false): { labels: Uint8Array; scores: Float64Array } {
  const labels = new Uint8Array(POSITIVES + NEGATIVES);
  const scores = new Float64Array(POSITIVES + NEGATIVES);
  let i = 0;
  let score = 1e6;
  for (const block of negativesAbove) {
    const blockScore = score;
    for (let j = 0; j < block; j++) scores[i++] = tieBlocks ? blockScore : score--;
    labels[i] = 1;
    scores[i++] = tieBlocks ? blockScore : score--;
    score--;
  }
  while (i < labels.length) scores[i++] = score--;
  return { labels, scores };
}

const modelA = Array.from({ length: POSITIVES }, () => 9); // 10k predicted, k true at the k-th positive
const modelB = Array.from({ length: POSITIVES }, (_, k) => (k < 90 ? 0 : 3000)); // FP 3000(k-89) at positive k+1

/** The paper's reading: the curves only at the positives' thresholds, joined by straight lines. */
function atPositivesOnly(m: BinaryMetrics, scores: Float64Array, labels: Uint8Array): { aupr: number; auroc: number } {
  const positiveScores = new Set<number>();
  labels.forEach((l, i) => l && positiveScores.add(scores[i] as number));
  const keep = (t: number): boolean => t === Infinity || positiveScores.has(t);
  const trapezoid = (xs: number[], ys: number[]): number => xs.slice(1).reduce((a, x, i) => a + (x - (xs[i] as number)) * ((ys[i + 1] as number) + (ys[i] as number)) / 2, 0);
  const pr = { r: [] as number[], p: [] as number[] };
  const roc = { f: [] as number[], t: [] as number[] };
  m.pr.thresholds.forEach((t, i) => {
    if (!keep(t)) return;
    pr.r.push(m.pr.recall[i] as number);
    pr.p.push(m.pr.precision[i] as number);
    roc.f.push(m.roc.fpr[i] as number);
    roc.t.push(m.roc.tpr[i] as number);
  });
  roc.f.push(1);
  roc.t.push(1); // the ROC curve ends at (1, 1) once every negative is predicted positive
  return { aupr: trapezoid(pr.r, pr.p), auroc: trapezoid(roc.f, roc.t) };
}

/** True when `v` (a fraction) prints as `percent` at one decimal, rounding halves up as the paper does (10.45 -> 10.5). */
const printsAs = (v: number, percent: number): boolean => Math.abs(v * 100 - percent) <= 0.05 + 1e-9;

test('the toy example is the one paper_results.json describes', () => {
  assert.match(printed.setup, /100 positives, 100000 negatives/);
  assert.match(printed.setup, /\(1,10\),\(2,20\),\.\.\.,\(100,1000\)/);
  assert.match(printed.setup, /\(91,3000\),\.\.\.,\(100,30000\)/);
});

test('model A: AU-ROC 99.5 and max-F1 18.2 as printed; AU-PR 9.8 step-wise, 10.5 in the paper reading', () => {
  const { labels, scores } = ranking(modelA);
  const m = binaryMetrics(labels, scores);
  // Exact values: AU-ROC = 1 - 9 * mean(k) / N; max-F1 = 2 * 0.1 * 1 / 1.1 at full recall.
  assert.ok(Math.abs(m.auroc - (1 - (9 * 50.5) / NEGATIVES)) < 1e-12);
  assert.ok(printsAs(m.auroc, printed.model_A.auroc), `${m.auroc} does not print as ${printed.model_A.auroc}`);
  assert.ok(Math.abs(m.maxF1 - 0.2 / 1.1) < 1e-12);
  assert.ok(printsAs(m.maxF1, printed.model_A.max_f1), `${m.maxF1} does not print as ${printed.model_A.max_f1}`);
  // STEP-WISE (scikit-learn's precision_recall_curve + auc; this project's AU-PR): about 9.8.
  assert.ok(printsAs(m.aupr, 9.8), `${m.aupr} does not print as 9.8`);
  assert.ok(Math.abs(m.aupr - 0.09758615801920068) < 1e-12, `sklearn gives 0.09758615801920068, got ${m.aupr}`);
  assert.ok(Math.abs(m.averagePrecision - 0.1) < 1e-12, 'precision is 10% at every positive');
  // PAPER reading: curve at the positives only -> (0,1), (0.01,0.1), ..., (1,0.1): 0.0055 + 0.099.
  const paper = atPositivesOnly(m, scores, labels);
  assert.ok(Math.abs(paper.aupr - 0.1045) < 1e-12);
  assert.ok(printsAs(paper.aupr, printed.model_A.aupr), `${paper.aupr} does not print as ${printed.model_A.aupr}`);
  // The same number is the step-wise AU-PR of the ranking with each block tied to its positive.
  const tied = ranking(modelA, true);
  assert.ok(Math.abs(binaryMetrics(tied.labels, tied.scores, { curve: 'none' }).aupr - 0.1045) < 1e-12);
});

test('model B: max-F1 94.7 as printed; AU-PR 90.1 step-wise, 90.6 (and AU-ROC 98.5) in the paper reading', () => {
  const { labels, scores } = ranking(modelB);
  const m = binaryMetrics(labels, scores);
  assert.ok(Math.abs(m.maxF1 - 1.8 / 1.9) < 1e-12); // recall 0.9 at precision 1
  assert.ok(printsAs(m.maxF1, printed.model_B.max_f1), `${m.maxF1} does not print as ${printed.model_B.max_f1}`);
  // STEP-WISE: about 90.1 (scikit-learn: 0.900893078090817); AU-ROC 1 - 3000*55/(100*N) = 98.35.
  assert.ok(printsAs(m.aupr, 90.1), `${m.aupr} does not print as 90.1`);
  assert.ok(Math.abs(m.aupr - 0.900893078090817) < 1e-12);
  assert.ok(Math.abs(m.auroc - 0.9835) < 1e-12);
  // PAPER reading: 90.6, and the printed AU-ROC 98.5 comes from the same positives-only curve.
  const paper = atPositivesOnly(m, scores, labels);
  assert.ok(printsAs(paper.aupr, printed.model_B.aupr), `${paper.aupr} does not print as ${printed.model_B.aupr}`);
  assert.ok(Math.abs(paper.auroc - 0.985) < 1e-12);
  assert.ok(printsAs(paper.auroc, printed.model_B.auroc), `${paper.auroc} does not print as ${printed.model_B.auroc}`);
  const tied = ranking(modelB, true);
  assert.ok(Math.abs(binaryMetrics(tied.labels, tied.scores, { curve: 'none' }).aupr - paper.aupr) < 1e-12);
});
