import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { GradientReducer, ProcessGroup, distributedBackends } from '../../src/distributed/index.js';
import { runReducerCase, type ReducerCaseOptions, type ReducerCaseRun } from './reducer-case.js';
import { freePort, runRanks } from './ranks.js';

const skip = distributedBackends().includes('gloo') ? false : 'this build of the addon has no Gloo backend';

type CaseJson = Omit<ReducerCaseOptions, 'sideUsed'> & { sideUsed?: boolean[][] };

async function ranksOf(world: number, c: CaseJson): Promise<ReducerCaseRun[]> {
  const ranks = await runRanks('grad-reducer', world, { env: { REDUCER_CASE: JSON.stringify(c) } });
  for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
  return ranks.map((r) => r.result as ReducerCaseRun);
}

function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!)))));
  return m;
}

function assertMatchesBlocking(runs: ReducerCaseRun[], steps: number[]): void {
  for (const [rank, run] of runs.entries()) {
    for (const s of steps) assert.ok(run.vsBlocking[s] !== null && run.vsBlocking[s]! <= 1e-6, `rank ${rank} step ${s}: |reducer − averageGradients| ${run.vsBlocking[s]}`);
  }
}

// [ranks, bucket cap, first bucket cap, buckets]: with a first cap of 200 bytes the last
// parameters make a bucket of their own before the 25 MB cap takes the rest.
const cases: [world: number, bucketBytes: number, firstBucketBytes: number | undefined, buckets: number][] = [
  [2, 25 * 1024 * 1024, undefined, 1],
  [2, 25 * 1024 * 1024, 200, 2],
  [2, 200, undefined, 4],
  [3, 200, undefined, 4],
];
for (const [world, bucketBytes, firstBucketBytes, buckets] of cases) {
  const first = firstBucketBytes === undefined ? '' : `, first bucket ${firstBucketBytes} bytes`;
  test(`GradientReducer on ${world} ranks, ${buckets} bucket(s)${first}: the blocking averageGradients' gradients (1e-6) and one process's weights after 4 steps (1e-5); every bucket started during backward`, { skip }, async () => {
    const c = { steps: 4, bucketBytes, withoutGradient: 'zeros', ...(firstBucketBytes !== undefined ? { firstBucketBytes } : {}) } as const;
    const runs = await ranksOf(world, c);
    assertMatchesBlocking(runs, [0, 1, 2, 3]);
    for (const run of runs) {
      assert.deepEqual(run.params, runs[0]!.params);
      assert.equal(run.buckets, buckets);
      // the hooks survive the optimiser's steps: each step's all_reduces start before finish()
      assert.deepEqual(run.launchedBeforeFinish, [buckets, buckets, buckets, buckets]);
      assert.equal(run.finishAfterDispose, 'ERR_DISPOSED');
    }
    const reference = runReducerCase(null, c);
    const start = runReducerCase(null, { ...c, steps: 0 });
    assert.ok(maxDiff(start.params, reference.params) > 1e-3, 'the steps must move the parameters');
    const d = maxDiff(runs[0]!.params, reference.params);
    assert.ok(d <= 1e-5, `max |difference| from one process ${d}`);
  });
}

// Buckets (reverse order, 200 bytes): [side.bias, side.weight, 2.bias], [2.weight], [0.bias], [0.weight].
test("GradientReducer, 'zeros': a parameter unused on a rank takes part with zeros and gets the mean; its bucket, and every later one, waits for finish()", { skip }, async () => {
  const sideUsed = [[true, true], [true, false], [true, true], [false, false]];
  const runs = await ranksOf(2, { steps: 4, bucketBytes: 200, withoutGradient: 'zeros', sideUsed });
  assertMatchesBlocking(runs, [0, 1, 2, 3]);
  assert.deepEqual(runs[1]!.params, runs[0]!.params);
  for (const run of runs) assert.deepEqual(run.sideHasGrad, [true, true, true, true]);
  assert.deepEqual(runs[0]!.launchedBeforeFinish, [4, 4, 4, 0]);
  assert.deepEqual(runs[1]!.launchedBeforeFinish, [4, 0, 4, 0]);
});

test("GradientReducer, 'skip': a parameter no rank used keeps no gradient (as averageGradients)", { skip }, async () => {
  const sideUsed = [[true, true], [false, false], [true, true], [false, false]];
  const runs = await ranksOf(2, { steps: 4, bucketBytes: 200, withoutGradient: 'skip', sideUsed });
  assertMatchesBlocking(runs, [0, 1, 2, 3]);
  assert.deepEqual(runs[1]!.params, runs[0]!.params);
  for (const run of runs) assert.deepEqual(run.sideHasGrad, [true, false, true, false]);
});

test('GradientReducer: two backward passes before finish() make it throw ERR_BAD_INPUT on every rank; the next step is averaged again', { skip }, async () => {
  const runs = await ranksOf(2, { steps: 3, bucketBytes: 200, withoutGradient: 'zeros', backwardTwice: [1] });
  for (const run of runs) {
    assert.equal(run.errors.length, 1);
    assert.equal(run.errors[0]!.step, 1);
    assert.equal(run.errors[0]!.code, 'ERR_BAD_INPUT');
    assert.match(run.errors[0]!.message, /accumulated twice before the reducer's finish\(\)/);
  }
  assertMatchesBlocking(runs, [0, 2]);
  assert.deepEqual(runs[1]!.params, runs[0]!.params);
});

test('GradientReducer: a peer that left makes finish() throw ERR_NETWORK naming the ranks (the all_reduce was started during backward)', { skip }, async () => {
  const [r0] = await runRanks('grad-reducer-peer-exits', 2);
  assert.equal(r0!.code, 0, r0!.stderr);
  const got = r0!.result as { failed: boolean; code: string; message: string; launchedInBackward: number };
  assert.equal(got.failed, true);
  assert.equal(got.code, 'ERR_NETWORK');
  assert.match(got.message, /rank 0 of 2: all_reduce of gradients failed \(peer: rank 1\)/);
  assert.equal(got.launchedInBackward, 1);
});

test('GradientReducer: a group of one process leaves the gradients as they are; a bucket size must be positive', { skip }, async () => {
  const group = ProcessGroup.join({ host: '127.0.0.1', port: await freePort(), rank: 0, worldSize: 1, timeoutMs: 10_000 });
  try {
    const p = T.tensor([1, 2, 3], [3]);
    p.setGrad(T.tensor([0.5, -1, 2], [3]));
    const reducer = new GradientReducer(group, [p]);
    reducer.finish();
    assert.deepEqual(Array.from(p.grad!.toFloat32()), [0.5, -1, 2]);
    reducer.dispose();
    assert.throws(() => new GradientReducer(group, [p], { bucketBytes: 0 }), { code: 'ERR_BAD_INPUT' });
  } finally {
    group.destroy();
  }
});
