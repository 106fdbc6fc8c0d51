import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { disposeGaussian, fitShrunkGaussian, mahalanobis } from '../../src/finetune/gaussian.js';
import { knnScores } from '../../src/finetune/knn.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { pythonJson } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';
import { randomValues, writeRaw } from '../detect/fixtures.js';

// Gaussian scoring against scikit-learn's LedoitWolf (shrinkage, covariance) and numpy's
// Mahalanobis distance; kNN scoring against numpy. Fewer samples than dimensions (the few-shot
// case: the sample covariance is singular) and more. One Python run.

const CASES = [
  { name: 'few', n: 12, p: 40, queries: 7 },
  { name: 'many', n: 60, p: 6, queries: 5 },
];

const PYTHON = String.raw`
import json, sys
import numpy as np
from sklearn.covariance import LedoitWolf
cases = json.loads(sys.argv[1])
out = {}
for c in cases:
    x = np.fromfile(c['fit'], dtype=np.float32).reshape(c['n'], c['p']).astype(np.float64)
    q = np.fromfile(c['query'], dtype=np.float32).reshape(c['queries'], c['p']).astype(np.float64)
    lw = LedoitWolf().fit(x)
    d = q - lw.location_
    maha = np.sqrt(np.einsum('ij,jk,ik->i', d, np.linalg.inv(lw.covariance_), d))
    dist = np.sqrt(((q[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    knn = np.sort(dist, axis=1)[:, :3].mean(1)
    out[c['name']] = {'shrinkage': float(lw.shrinkage_), 'mean': lw.location_.tolist(), 'precision': np.linalg.inv(lw.covariance_).ravel().tolist(), 'mahalanobis': maha.tolist(), 'knn3': knn.tolist()}
print(json.dumps(out))
`;

function maxRel(a: ArrayLike<number>, b: readonly number[]): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - b[i]!) / Math.max(1e-12, Math.abs(b[i]!)));
  return worst;
}

test('shrunk Gaussian and Mahalanobis distance match scikit-learn LedoitWolf + numpy; kNN matches numpy', (t) => {
  const dir = tempDir('spotdiff-fewshot-gauss-');
  const data = CASES.map((c, i) => {
    // correlated features with different scales, so that the shrinkage is neither 0 nor 1
    const base = randomValues(100 + i, c.n * c.p);
    const fit = Float32Array.from(base, (v, j) => v * (1 + (j % c.p) * 0.3) + (j % c.p > 0 ? 0.5 * (base[j - 1] as number) : 0));
    const query = randomValues(200 + i, c.queries * c.p, 0.2, 1.5);
    return { ...c, fitValues: fit, queryValues: query, fit: writeRaw(dir, `${c.name}-fit.f32`, fit), query: writeRaw(dir, `${c.name}-query.f32`, query) };
  });
  const ref = pythonJson<Record<string, { shrinkage: number; mean: number[]; precision: number[]; mahalanobis: number[]; knn3: number[] }>>(PYTHON, [
    JSON.stringify(data.map(({ name, n, p, queries, fit, query }) => ({ name, n, p, queries, fit, query }))),
  ]);
  for (const c of data) {
    const r = ref[c.name]!;
    T.tidy(() => {
      const x = T.tensor(c.fitValues, [c.n, c.p]);
      const q = T.tensor(c.queryValues, [c.queries, c.p]);
      const g = fitShrunkGaussian(x);
      try {
        const errs = {
          shrinkage: Math.abs(g.shrinkage - r.shrinkage),
          mean: maxRel(g.mean.data() as Float64Array, r.mean),
          precision: maxRel(g.precision.data() as Float64Array, r.precision),
          mahalanobis: maxRel(mahalanobis(g, q), r.mahalanobis),
          knn: maxRel(knnScores(x, q, 3), r.knn3),
        };
        t.diagnostic(`${c.name} (n ${c.n}, p ${c.p}): shrinkage ${g.shrinkage.toFixed(6)} (sklearn ${r.shrinkage.toFixed(6)}); errors ${JSON.stringify(errs, (_, v: unknown) => (typeof v === 'number' ? Number(v.toExponential(2)) : v))}`);
        assert.ok(g.shrinkage > 0 && g.shrinkage < 1);
        assert.ok(errs.shrinkage <= 1e-10, `shrinkage ${g.shrinkage} vs ${r.shrinkage}`);
        for (const k of ['mean', 'precision', 'mahalanobis', 'knn'] as const) assert.ok(errs[k] <= 1e-8, `${k}: relative error ${errs[k]}`);
      } finally {
        disposeGaussian(g);
      }
    });
  }
});

test('Gaussian of identical embeddings is a clear error; kNN with more neighbours than embeddings uses all', () => {
  T.tidy(() => {
    const same = T.tensor(Float32Array.from({ length: 12 }, (_, i) => i % 4), [3, 4]);
    assert.throws(() => fitShrunkGaussian(same), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /identical/.test(e.message));
    const normal = T.tensor(Float32Array.of(0, 0, 3, 4), [2, 2]);
    const d = knnScores(normal, T.tensor(Float32Array.of(0, 0), [1, 2]), 10);
    assert.ok(Math.abs(d[0]! - 2.5) < 1e-12, `mean of 0 and 5 is ${d[0]}`);
  });
});

test('scoring inputs of the wrong width are shape errors', () => {
  T.tidy(() => {
    const g = fitShrunkGaussian(T.tensor(randomValues(1, 20), [5, 4]));
    try {
      assert.throws(() => mahalanobis(g, T.zeros([2, 3])), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    } finally {
      disposeGaussian(g);
    }
    assert.throws(() => knnScores(T.zeros([2, 3]), T.zeros([2, 4]), 1), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
  });
});

