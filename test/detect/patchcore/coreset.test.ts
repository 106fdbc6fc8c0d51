import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { coresetProjection, coresetSize, coresetStartIndices, greedyCoreset } from '../../../src/detect/patchcore/coreset.js';
import { pythonJson } from '../../helpers/python.js';
import { tempDir } from '../../helpers/tmp.js';
import { randomValues, writeRaw } from '../fixtures.js';
import { Random } from '../../../src/util/random.js';

// The official ApproximateGreedyCoresetSampler loop (patchcore-inspection sampler.py), restated,
// on features projected with the same matrix and started from the same points.
const REFERENCE = String.raw`
import sys, json
import numpy as np, torch
feat_path, proj_path, n, d, k, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
starts = json.loads(sys.argv[7])
features = torch.from_numpy(np.fromfile(feat_path, dtype=np.float32).reshape(n, d))
proj = torch.from_numpy(np.fromfile(proj_path, dtype=np.float32).reshape(d, k))
reduced = features @ proj
def pairwise(a, b):
    aa = a.unsqueeze(1).bmm(a.unsqueeze(2)).reshape(-1, 1)
    bb = b.unsqueeze(1).bmm(b.unsqueeze(2)).reshape(1, -1)
    return (-2 * a.mm(b.T) + aa + bb).clamp(0, None).sqrt()
dist = torch.mean(pairwise(reduced, reduced[starts]), axis=-1).reshape(-1, 1)
picked = []
for _ in range(count):
    i = torch.argmax(dist).item()
    picked.append(i)
    dist = torch.min(torch.cat([dist, pairwise(reduced, reduced[i:i + 1])], dim=-1), dim=1).values.reshape(-1, 1)
print(json.dumps(picked))
`;

test('lazy greedy coreset selects exactly what the official eager loop selects', () => {
  const [n, d, k] = [1500, 24, 8];
  const count = coresetSize(n, 0.1);
  const values = randomValues(11, n * d);
  const projection = coresetProjection(d, k, 3);
  const starts = coresetStartIndices(n, 10, 3);
  const dir = tempDir();
  const want = pythonJson<number[]>(REFERENCE, [
    writeRaw(dir, 'f.f32', values),
    writeRaw(dir, 'p.f32', projection.toFloat32()),
    ...[n, d, k, count].map(String),
    JSON.stringify(starts),
  ]);
  const before = T.liveTensorCount();
  const points = T.tidy(() => T.mm(T.tensor(values, [n, d]), projection));
  for (const blockRows of [97, 1024, 8192]) {
    const got = greedyCoreset(points, { count, startIndices: starts, blockRows });
    assert.deepEqual([...got], want, `block rows ${blockRows}`);
  }
  T.dispose(points);
  assert.equal(T.liveTensorCount(), before, 'no tensors left by the selection');
});

test('well-separated clusters: k-center keeps one point per cluster, the outlier first', () => {
  const r = new Random(5);
  const centres = [
    [0, 0, 0],
    [100, 0, 0],
    [0, 100, 0],
    [0, 0, 100],
    [100, 100, 100],
  ];
  const rows: number[] = [];
  const cluster: number[] = [];
  for (let i = 0; i < 200; i++) {
    const c = i % 5;
    cluster.push(c);
    for (const v of centres[c]!) rows.push(v + r.normal(0, 0.5));
  }
  // One far outlier, which every start point is far from: it must be the first pick.
  rows.push(1000, 1000, 1000);
  cluster.push(5);
  const points = T.tensor(rows, [201, 3]);
  const picks = greedyCoreset(points, { count: 6, startIndices: [0, 1, 2], blockRows: 16 });
  assert.equal(picks[0], 200, 'the farthest point is picked first');
  assert.deepEqual(new Set([...picks].map((i) => cluster[i])).size, 6, 'one pick in each cluster');
  points.dispose();
});

test('coreset arguments are checked', () => {
  const points = T.zeros([10, 2]);
  assert.throws(() => greedyCoreset(points, { count: 0, startIndices: [0] }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => greedyCoreset(points, { count: 11, startIndices: [0] }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => greedyCoreset(points, { count: 2, startIndices: [] }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => greedyCoreset(points, { count: 2, startIndices: [10] }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => greedyCoreset(T.zeros([10]), { count: 2, startIndices: [0] }), { code: 'ERR_SHAPE' });
  assert.throws(() => coresetSize(5, 0.1), { code: 'ERR_BAD_INPUT', message: /keeps no patch/ });
  points.dispose();
});

test('projection and start points are seeded and distinct', () => {
  assert.deepEqual(coresetProjection(6, 3, 1).toFloat32(), coresetProjection(6, 3, 1).toFloat32());
  assert.notDeepEqual(coresetProjection(6, 3, 1).toFloat32(), coresetProjection(6, 3, 2).toFloat32());
  const s = coresetStartIndices(50, 10, 4);
  assert.equal(new Set(s).size, 10);
  assert.deepEqual(s, coresetStartIndices(50, 10, 4));
  assert.equal(coresetStartIndices(3, 10, 4).length, 3);
});
