import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pixelMetrics, type PixelMetrics } from '../../src/metrics/pixel.js';
import { binaryMetrics } from '../../src/metrics/binary.js';
import { mapsInMemory, type MapSource, type ScoreMap } from '../../src/metrics/score-map.js';
import { writeNpy } from '../../src/data/npy.js';
import { Random } from '../../src/util/random.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { pythonJson } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * References, all on the flattened pixels of the same maps (read back from .npy files):
 * - exact metrics: scikit-learn 1.2's roc_auc_score, auc(recall, precision) of
 *   precision_recall_curve, average_precision_score, max F1 over that curve;
 * - the official 200-threshold approximation: a NumPy re-implementation written here from the
 *   description of VisA's metrics.py (compute_localization_metrics): thresholds are 100
 *   percentiles of the defect pixels' scores, 100 evenly spaced values between the defect
 *   pixels' max and min, and the global min - 1e-8 and max + 1e-8, sorted high to low; a pixel
 *   counts when score > threshold; precision is 1 when nothing counts; sklearn's auc over
 *   (FPR, TPR) and (TPR, precision);
 * - AUPRO: a NumPy/scipy version of the MVTec AD evaluation's PRO curve: regions from
 *   scipy.ndimage.label (structure np.ones((3, 3)) for 8-connectivity, scipy's default cross
 *   for 4), each defect pixel adds 1/(region size)/(regions), FPR over defect-free pixels, one
 *   point per distinct score (the last of each tie), trapezoid cut at the FPR limit with an
 *   interpolated end, divided by the limit.
 */
const REFERENCE = `
import json, sys, warnings
import numpy as np
from scipy.ndimage import label
from sklearn.metrics import roc_auc_score, precision_recall_curve, auc, average_precision_score
warnings.simplefilter('ignore')
folder, count = sys.argv[1], int(sys.argv[2])
preds = [np.load(f'{folder}/pred{i}.npy') for i in range(count)]
gts = [np.load(f'{folder}/gt{i}.npy') for i in range(count)]
pred = np.concatenate([p.ravel() for p in preds]); gt = np.concatenate([g.ravel() for g in gts])
y = (gt != 0).astype(np.uint8)
p, r, _ = precision_recall_curve(y, pred)
f1 = 2 * p * r / (p + r)
out = dict(auroc=roc_auc_score(y, pred), aupr=auc(r, p), ap=average_precision_score(y, pred),
           maxf1=float(np.max(f1[np.isfinite(f1)])), distinct=int(np.unique(pred).size))

def official(pred, y):
    pos = y == 1
    neg = ~pos
    lo, hi = pred.min() - 1e-8, pred.max() + 1e-8
    scores_pos = pred[pos]
    cuts = np.concatenate([np.percentile(scores_pos, np.linspace(100, 0, num=100)),
                           np.linspace(scores_pos.max(), scores_pos.min(), num=100), [lo, hi]])
    cuts = np.sort(cuts)[::-1]
    fpr, tpr, prec, f1s = [], [], [], []
    for c in cuts:
        above = pred > c
        tp = int((above & pos).sum()); fp = int((above & neg).sum())
        fpr.append(fp / neg.sum()); tpr.append(tp / pos.sum())
        pr = tp / (tp + fp) if tp + fp > 0 else 1.0
        prec.append(pr)
        f1s.append(2 * pr * tpr[-1] / (pr + tpr[-1]) if pr > 0 and tpr[-1] > 0 else 0.0)
    return dict(auroc=auc(fpr, tpr), aupr=auc(tpr, prec), maxf1=max(f1s), thresholds=[float(c) for c in cuts], tp=[t * pos.sum() for t in tpr])
out['official'] = official(pred, y)

def aupro(limit, structure):
    fp_w, pro_w, regions = [], [], 0
    for g in gts:
        lab, n = label(g != 0, structure=structure)
        regions += n
        sizes = np.bincount(lab.ravel()).astype(np.float64)
        fp_w.append((lab == 0).ravel().astype(np.float64))
        pro_w.append(np.where(lab > 0, 1.0 / sizes[lab], 0.0).ravel())
    fp_w = np.concatenate(fp_w); pro_w = np.concatenate(pro_w)
    order = np.argsort(-pred, kind='stable')
    s = pred[order]
    fpr = np.cumsum(fp_w[order]) / fp_w.sum(); pro = np.cumsum(pro_w[order]) / regions
    last_of_tie = np.append(s[1:] != s[:-1], True)
    x = np.concatenate([[0.0], fpr[last_of_tie]]); yv = np.concatenate([[0.0], pro[last_of_tie]])
    area = 0.0
    for i in range(1, len(x)):
        if x[i] <= limit:
            area += (x[i] - x[i - 1]) * (yv[i] + yv[i - 1]) / 2
        else:
            y_cut = yv[i - 1] + (yv[i] - yv[i - 1]) * (limit - x[i - 1]) / (x[i] - x[i - 1])
            area += (limit - x[i - 1]) * (y_cut + yv[i - 1]) / 2
            break
    return dict(value=area / limit, regions=regions)
out['aupro8'] = aupro(0.3, np.ones((3, 3), dtype=int))
out['aupro4'] = aupro(0.3, None)
out['aupro8_full'] = aupro(1.0, np.ones((3, 3), dtype=int))
print(json.dumps(out))
`;

interface Reference {
  auroc: number;
  aupr: number;
  ap: number;
  maxf1: number;
  distinct: number;
  official: { auroc: number; aupr: number; maxf1: number; thresholds: number[]; tp: number[] };
  aupro8: { value: number; regions: number };
  aupro4: { value: number; regions: number };
  aupro8_full: { value: number; regions: number };
}

function blobMask(rng: Random, width: number, height: number, blobs: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let b = 0; b < blobs; b++) {
    const cx = rng.int(width);
    const cy = rng.int(height);
    const rx = 1 + rng.int(Math.max(1, width >> 3));
    const ry = 1 + rng.int(Math.max(1, height >> 3));
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) mask[y * width + x] = 1;
  }
  // A few lone pixels, some diagonal neighbours: 4- and 8-connectivity then differ.
  for (let k = 0; k < 4; k++) {
    const x = 1 + rng.int(width - 2);
    const y = 1 + rng.int(height - 2);
    mask[y * width + x] = 1;
    mask[(y + 1) * width + x + 1] = 1;
  }
  return mask;
}

/** Maps that exercise the sweep: spread scores, ties, a map with no mask, signed zeros, and one crowded bucket. */
function makeMaps(): ScoreMap[] {
  const rng = new Random(99);
  const maps: ScoreMap[] = [];
  const add = (width: number, height: number, score: (defect: boolean) => number, blobs: number | null): void => {
    const mask = blobs === null ? null : blobMask(rng, width, height, blobs);
    const scores = new Float32Array(width * height);
    for (let i = 0; i < scores.length; i++) scores[i] = score(mask !== null && mask[i] !== 0);
    maps.push({ scores, mask, width, height, name: `map ${maps.length}` });
  };
  add(40, 30, (d) => rng.normal(d ? 1 : 0, 1), 3);
  add(33, 17, (d) => Math.round(rng.normal(d ? 1.5 : 0, 1) * 4) / 4, 2); // heavy ties
  add(25, 25, () => rng.normal(0, 1), null); // defect-free image
  add(20, 10, (d) => [0, -0, -1e-30, 1e-30, -2, 3][rng.int(6)]! + (d ? 1 : 0), 1); // zeros of both signs, tiny values
  // Two buckets of 10,000 and 6,400 pixels: counted in 65,536 bins rather than sorted.
  add(100, 100, (d) => 0.75 + (rng.int(30000) + (d ? 500 : 0)) * 2 ** -24, 3);
  add(80, 80, (d) => 0.875 + (rng.int(40000) + (d ? 900 : 0)) * 2 ** -24, 2);
  // 313,600 pixels inside one high-16-bit bucket (0.5 .. 0.5 + 60000 ulp), with ties, a quarter of
  // them defects: too many for sorted entries, so this bucket gets dense counters.
  add(560, 560, (d) => 0.5 + (rng.int(60000) + (d ? 3000 : 0)) * 2 ** -24, 6);
  const crowded = maps[maps.length - 1]!;
  for (let i = 0; i < crowded.mask!.length; i++) if (i % 560 < 140) crowded.mask![i] = 1;
  for (let i = 0; i < crowded.scores.length; i++) if (crowded.mask![i]) crowded.scores[i] = 0.5 + (rng.int(60000) + 3000) * 2 ** -24;
  return maps;
}

const maps = makeMaps();
const dir = tempDir();
for (const [i, m] of maps.entries()) {
  await writeNpy(join(dir, `pred${i}.npy`), m.scores, [m.height, m.width]);
  await writeNpy(join(dir, `gt${i}.npy`), m.mask ?? new Uint8Array(m.width * m.height), [m.height, m.width]);
}
const ref = pythonJson<Reference>(REFERENCE, [dir, String(maps.length)]);

const close = (a: number, b: number, what: string, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs reference ${b} (|diff| ${Math.abs(a - b)})`);

// AUPRO to 1e-10: the reference's np.cumsum over ~400,000 float weights drifts by ~1e-12.
const PRO_TOL = 1e-10;

function checkExact(m: PixelMetrics, label: string): void {
  close(m.auroc, ref.auroc, `${label} AU-ROC`);
  close(m.aupr, ref.aupr, `${label} AU-PR`);
  close(m.averagePrecision, ref.ap, `${label} AP`);
  close(m.maxF1, ref.maxf1, `${label} max-F1`);
  assert.equal(m.distinctScores, ref.distinct, `${label}: every distinct float32 value is its own threshold`);
}

test('exact pixel metrics equal scikit-learn on the flattened pixels (1e-12)', async () => {
  const m = await pixelMetrics(mapsInMemory(maps));
  checkExact(m, 'default budget');
  assert.equal(m.passes, 2, 'one counting pass and one fine pass fit the default budget');
  assert.equal(m.pixels, maps.reduce((a, x) => a + x.width * x.height, 0));
  // The same numbers as the image-level code on the pixels as one list.
  const labels: number[] = [];
  const scores: number[] = [];
  for (const x of maps) x.scores.forEach((s, i) => (labels.push(x.mask?.[i] ? 1 : 0), scores.push(s)));
  const flat = binaryMetrics(labels, scores, { curve: 'none' });
  close(m.auroc, flat.auroc, 'vs binaryMetrics AU-ROC', 1e-13);
  close(m.aupr, flat.aupr, 'vs binaryMetrics AU-PR', 1e-13);
  assert.equal(m.maxF1Threshold, flat.maxF1Threshold);
});

test('a small budget splits the buckets into several passes and gives the same result', async () => {
  let passesSeen = 0;
  const m = await pixelMetrics(mapsInMemory(maps), { memoryBudgetBytes: 64 * 1024, onPass: (p) => (passesSeen = Math.max(passesSeen, p)) });
  checkExact(m, '64 KiB budget');
  close(m.aupro as number, ref.aupro8.value, 'AUPRO with a 64 KiB budget', PRO_TOL);
  assert.ok(m.passes >= 4, `expected several fine passes, got ${m.passes} reads`);
  assert.equal(passesSeen, m.passes);
  const plain = await pixelMetrics(mapsInMemory(maps), { memoryBudgetBytes: 64 * 1024, aupro: false });
  checkExact(plain, '64 KiB budget without AUPRO');
});

test('AUPRO (FPR 0.3, normalised) equals the NumPy/scipy PRO reference, 8- and 4-connected', async () => {
  const m8 = await pixelMetrics(mapsInMemory(maps));
  close(m8.aupro as number, ref.aupro8.value, 'AUPRO 8-connected', PRO_TOL);
  assert.equal(m8.regions, ref.aupro8.regions);
  const m4 = await pixelMetrics(mapsInMemory(maps), { aupro: { connectivity: 4 } });
  close(m4.aupro as number, ref.aupro4.value, 'AUPRO 4-connected', PRO_TOL);
  assert.equal(m4.regions, ref.aupro4.regions);
  assert.ok((m4.regions as number) > (m8.regions as number), 'the diagonal pixel pairs make 4-connectivity count more regions');
  const full = await pixelMetrics(mapsInMemory(maps), { aupro: { fprLimit: 1 } });
  close(full.aupro as number, ref.aupro8_full.value, 'AUPRO to FPR 1', PRO_TOL);
  assert.ok((m8.aupro as number) <= 1 && (m8.aupro as number) >= 0);
  assert.ok(m8.pro !== null && m8.pro.fpr[m8.pro.fpr.length - 1] === 0.3, 'the PRO curve ends at the limit');
});

test('the official 200-threshold approximation equals a NumPy re-implementation of metrics.py', async () => {
  const m = await pixelMetrics(mapsInMemory(maps), { official: true, aupro: false });
  const o = m.official!;
  assert.equal(o.thresholds.length, 202);
  o.thresholds.forEach((t, i) => close(t, ref.official.thresholds[i] as number, `threshold ${i}`, 0));
  o.tpr.forEach((t, i) => close(t * m.positives, ref.official.tp[i] as number, `TP at threshold ${i}`, 1e-6));
  close(o.auroc, ref.official.auroc, 'official AU-ROC');
  close(o.aupr, ref.official.aupr, 'official AU-PR');
  close(o.maxF1, ref.official.maxf1, 'official max-F1');
  checkExact(m, 'exact alongside official');
  // It is an approximation: it differs from the exact value.
  assert.notEqual(o.aupr, m.aupr);
});

test('hand-computed AUPRO: two regions on one row', async () => {
  // Row of 8 pixels: region A = pixels 0-1 (size 2), region B = pixel 7; five normal pixels.
  const mask = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 1]);
  const scores = Float32Array.from([0.9, 0.3, 0.85, 0.5, 0.2, 0.1, 0.05, 0.8]);
  // Descending: 0.9 A -> (0, 0.25); 0.85 n -> (0.2, 0.25); 0.8 B -> (0.2, 0.75); 0.5 n -> (0.4, 0.75) ...
  // To FPR 0.3: 0.2 * 0.25 + 0.1 * 0.75 = 0.125 -> / 0.3.
  const src = mapsInMemory([{ scores, mask, width: 8, height: 1 }]);
  const m = await pixelMetrics(src);
  close(m.aupro as number, 0.125 / 0.3, 'AUPRO to 0.3', 1e-15);
  // To FPR 1: 0.05 + 0.2 * 0.75 + 0.6 * 1 = 0.8 (pixel 1 at 0.3 completes A at FPR 0.4).
  close((await pixelMetrics(src, { aupro: { fprLimit: 1 } })).aupro as number, 0.8, 'AUPRO to 1', 1e-15);
  assert.equal(m.regions, 2);
});

test('curves are thinned to about the requested number of points and end at (1, 1)', async () => {
  const m = await pixelMetrics(mapsInMemory(maps), { curvePoints: 50 });
  assert.ok(m.roc.fpr.length <= 2 * 50 + 3, `${m.roc.fpr.length} ROC points`);
  assert.equal(m.roc.fpr[0], 0);
  assert.equal(m.roc.fpr[m.roc.fpr.length - 1], 1);
  assert.equal(m.roc.tpr[m.roc.tpr.length - 1], 1);
  assert.equal(m.pr.recall[0], 0);
  assert.equal(m.pr.precision[0], 1);
  const none = await pixelMetrics(mapsInMemory(maps), { curvePoints: 0 });
  assert.equal(none.roc.fpr.length, 0);
  assert.equal(none.pro, null);
});

test('degenerate pixel input: one class, NaN, infinity, size mismatch, no maps, a changing source', async () => {
  const rejects = (p: Promise<unknown>, code: string, re: RegExp): Promise<void> =>
    assert.rejects(p, (e: unknown) => isSpotdiffError(e) && e.code === code && re.test(e.message));
  const map = (scores: number[], mask: number[] | null, width = scores.length): ScoreMap => ({
    scores: Float32Array.from(scores),
    mask: mask === null ? null : Uint8Array.from(mask),
    width,
    height: scores.length / width,
  });
  await rejects(pixelMetrics(mapsInMemory([map([0.1, 0.2], [0, 0]), map([0.3], null)])), 'ERR_BAD_INPUT', /only normal/);
  await rejects(pixelMetrics(mapsInMemory([map([0.1, 0.2], [1, 1])])), 'ERR_BAD_INPUT', /only anomalous/);
  await rejects(pixelMetrics(mapsInMemory([map([0.1, NaN, 0.3, 0.4], [0, 1, 0, 1], 2)])), 'ERR_BAD_INPUT', /x 1, y 0\) is NaN/);
  await rejects(pixelMetrics(mapsInMemory([map([0.1, -Infinity], [0, 1])])), 'ERR_BAD_INPUT', /-Infinity/);
  await rejects(pixelMetrics(mapsInMemory([map([0.1, 0.2, 0.3], [0, 1])])), 'ERR_SHAPE', /mask has 2 pixels/);
  await rejects(pixelMetrics(mapsInMemory([{ ...map([0.1, 0.2], [0, 1]), width: 3 }])), 'ERR_SHAPE', /2 scores for a 3×1 map/);
  await rejects(pixelMetrics(mapsInMemory([])), 'ERR_BAD_INPUT', /no maps/);
  let calls = 0;
  const changing: MapSource = () => (calls++ === 0 ? [map([0.1, 0.2], [0, 1])] : [map([0.1, 0.2, 0.3], [0, 1, 0])]);
  await rejects(pixelMetrics(changing), 'ERR_BAD_INPUT', /different maps on a later pass/);
});
