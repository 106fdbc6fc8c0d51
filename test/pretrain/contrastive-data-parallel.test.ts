import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributedBackends } from '../../src/distributed/index.js';
import { runRanks } from '../distributed/ranks.js';
import { COMPARED, CONTRASTIVE_BATCH, CONTRASTIVE_STEPS, runContrastive, type ContrastiveRun } from './contrastive-dp-case.js';

const skip = distributedBackends().includes('gloo') ? false : 'this build of the addon has no Gloo backend';

function maxDiff(a: readonly number[], b: readonly number[]): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

async function twoRanks(method: 'moco' | 'simclr'): Promise<ContrastiveRun[]> {
  const ranks = await runRanks('contrastive', 2, { env: { METHOD: method }, killAfterMs: 120_000 });
  for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
  return ranks.map((r) => r.result as ContrastiveRun);
}

// MoCo across 2 ranks (keys all-gathered into the queue, shuffled BN) against one process on
// the same global batch, on a network whose embeddings are per image (see the case). Every rank
// enqueues the same keys, so the queues must be identical across ranks (bit for bit); against
// one process they differ only by the float order of batched convolutions of 4 vs 8 images and
// of the gradient's mean (two means of 4 averaged vs one of 8), a few ulp that 10 SGD steps
// grow to well below 1e-5.
test('MoCo v2 on 2 ranks: the same queue on every rank, equal to one process on the global batch, and the same loss curve over 10 steps', { skip }, async (t) => {
  const one = runContrastive('moco', null);
  const [r0, r1] = await twoRanks('moco');
  assert.deepEqual(r1!.queue, r0!.queue, 'the ranks hold the same queue');
  assert.equal(r0!.queuePtr, (CONTRASTIVE_BATCH * CONTRASTIVE_STEPS) % 32);
  assert.equal(r0!.queuePtr, one.queuePtr);
  const queue = maxDiff(r0!.queue, one.queue);
  const losses = maxDiff(r0!.losses, one.losses);
  t.diagnostic(`queue ${queue}, losses ${losses}`);
  assert.ok(queue <= 1e-5, `queue differs from one process's by ${queue}`);
  assert.ok(losses <= 1e-5, `losses differ from one process's by ${losses}: ${r0!.losses} vs ${one.losses}`);
  assert.deepEqual(r1!.losses, r0!.losses);
  assert.ok(Math.abs(one.losses[0]! - one.losses.at(-1)!) > 1e-3, 'the loss must change over the run');
  for (const name of COMPARED) {
    const d = maxDiff(r0!.params[name]!, one.params[name]!);
    t.diagnostic(`${name} ${d}`);
    assert.ok(d <= 1e-5, `${name} differs from one process's by ${d}`);
  }
});

// SimCLR across 2 ranks: every rank's NT-Xent spans the global batch (the other rank's
// projections gathered without gradient, its own with the gradient scaled by the world size),
// so the averaged step equals one process's on the global batch; without the scale it would be
// half of it (global-batch.ts derives it), which the parameter check below catches.
test('SimCLR on 2 ranks equals one process on the global batch over 10 steps: losses and weights (1e-5)', { skip }, async (t) => {
  const one = runContrastive('simclr', null);
  const [r0, r1] = await twoRanks('simclr');
  const losses = maxDiff(r0!.losses, one.losses);
  t.diagnostic(`losses ${losses}`);
  assert.ok(losses <= 1e-5, `losses differ from one process's by ${losses}: ${r0!.losses} vs ${one.losses}`);
  assert.ok(Math.abs(one.losses[0]! - one.losses.at(-1)!) > 1e-3, 'the loss must change over the run');
  for (const name of COMPARED) {
    const d = maxDiff(r0!.params[name]!, one.params[name]!);
    t.diagnostic(`${name} ${d}`);
    assert.ok(d <= 1e-5, `${name} differs from one process's by ${d}`);
    assert.deepEqual(r1!.params[name], r0!.params[name], `${name}: the ranks hold the same weights`);
  }
});

test('shuffling BN across 2 ranks: every rank gets its slice of one permutation of the global batch, and unshuffling gives its rows back exactly', { skip }, async () => {
  const ranks = await runRanks('shuffle', 2);
  for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
  const [a, b] = ranks.map((r) => r.result as { x: number[]; rows: number[]; back: number[]; restore: number[] });
  assert.deepEqual(a!.back, a!.x);
  assert.deepEqual(b!.back, b!.x);
  assert.deepEqual(a!.restore, b!.restore, 'one permutation on every rank');
  const global = [...a!.x, ...b!.x];
  const shuffled = [...a!.rows, ...b!.rows];
  // shuffled row perm[i] is global row i's new place's inverse: shuffled[restore[i]] == global[i]
  a!.restore.forEach((to, i) => assert.deepEqual(shuffled.slice(2 * to, 2 * to + 2), global.slice(2 * i, 2 * i + 2)));
  assert.notDeepEqual(shuffled, global, 'the batch is permuted');
  assert.notDeepEqual([...a!.rows].sort(), [...a!.x].sort(), 'rank 0 encodes rows of the other rank too');
});
