import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { distributedBackends, tensorBuckets } from '../../src/distributed/index.js';
import { GLOBAL_BATCH, STEPS, batchRows, buildCase, parameterValues, trainStep } from './sgd-case.js';
import { runRanks } from './ranks.js';

const skip = distributedBackends().includes('gloo') ? false : 'this build of the addon has no Gloo backend';

/** The same steps in one process on the whole global batch. */
function singleProcess(): number[][] {
  const { model, optimizer } = buildCase();
  for (let step = 0; step < STEPS; step++) {
    const { x, y } = batchRows(step, 0, GLOBAL_BATCH);
    trainStep(model, optimizer, x, y, () => {});
  }
  return parameterValues(model);
}

function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!)))));
  return m;
}

for (const [label, bucketBytes] of [['one 25 MB bucket', 25 * 1024 * 1024], ['200-byte buckets: one per parameter', 200]] as const) {
  test(`data-parallel SGD on 2 ranks equals one process on the whole batch (${label}), 1e-5`, { skip }, async () => {
    const reference = singleProcess();
    const ranks = await runRanks('sgd', 2, { env: { BUCKET_BYTES: String(bucketBytes) } });
    for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
    const [p0, p1] = ranks.map((r) => (r.result as { params: number[][] }).params);
    // every rank applies the same averaged gradient: identical parameters
    assert.deepEqual(p0, p1);
    const before = parameterValues(buildCase().model);
    assert.ok(maxDiff(before, reference) > 1e-3, 'the steps must move the parameters');
    const d = maxDiff(p0!, reference);
    assert.ok(d <= 1e-5, `max |difference| ${d}`);
  });
}

test('broadcastState: every rank ends with the root rank\'s parameters and buffers (int64 too)', { skip }, async () => {
  const ranks = await runRanks('broadcast-state', 2);
  for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
  type State = Record<string, string[]>;
  const [s0, s1] = ranks.map((r) => r.result as { before: State; after: State });
  assert.notDeepEqual(s0!.before['0.weight'], s1!.before['0.weight']);
  assert.deepEqual(Object.keys(s0!.after), ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
  assert.deepEqual(s0!.after, s1!.before);
  assert.deepEqual(s1!.after, s1!.before);
});

test('tensorBuckets: consecutive, at most the size, split by dtype; an oversized gradient alone', () => {
  const f = (n: number): T.Tensor => T.zeros([n]);
  const d = (n: number): T.Tensor => T.zeros([n], { dtype: 'float64' });
  const grads = [f(10), f(15), f(30), d(2), d(2), f(1)];
  const sizes = tensorBuckets(grads, 100).map((b) => b.map((t) => `${t.dtype === 'float64' ? 'd' : 'f'}${t.size}`));
  // 40 + 60 = 100 bytes fit; 120 bytes alone; float64 starts a bucket; float32 after it too
  assert.deepEqual(sizes, [['f10', 'f15'], ['f30'], ['d2', 'd2'], ['f1']]);
  assert.deepEqual(tensorBuckets([], 100), []);
});
