import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { coresetProjection, coresetSize, coresetStartIndices, defaultCoresetLoop, greedyCoreset } from '../../../src/detect/patchcore/coreset.js';
import { randomValues } from '../fixtures.js';

// The device-resident loop is what a GPU runs; on the CPU it must pick what the lazy blocks pick.
test("the device-resident coreset loop selects what the lazy blocks select (run on 'cpu')", () => {
  const [n, d, k] = [1500, 24, 8];
  const count = coresetSize(n, 0.1);
  const starts = coresetStartIndices(n, 10, 3);
  const before = T.liveTensorCount();
  const points = T.tidy(() => T.mm(T.tensor(randomValues(11, n * d), [n, d]), coresetProjection(d, k, 3)));
  const lazy = greedyCoreset(points, { count, startIndices: starts, loop: 'lazy-blocks', blockRows: 256 });
  const progress: number[] = [];
  const resident = greedyCoreset(points, { count, startIndices: starts, loop: 'resident', onProgress: (done) => progress.push(done) });
  assert.deepEqual([...resident], [...lazy]);
  assert.equal(progress.at(-1), count, 'progress reaches the count');
  T.dispose(points);
  assert.equal(T.liveTensorCount(), before, 'no tensors left by either loop');
});

test('each device gets its loop: lazy blocks on the CPU, the resident loop on CUDA', () => {
  assert.equal(defaultCoresetLoop('cpu'), 'lazy-blocks');
  assert.equal(defaultCoresetLoop('cuda'), 'resident');
  assert.equal(defaultCoresetLoop('cuda:1'), 'resident');
});
