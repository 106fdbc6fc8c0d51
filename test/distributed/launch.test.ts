import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchWorkers, oneGpuPerWorker, workerDevice, workerEnv, workerPlaceFromEnv } from '../../src/distributed/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';

// A worker as a one-line script: prints its variables, then exits or sleeps as RANK says.
const script = `
const r = Number(process.env.RANK);
const plan = JSON.parse(process.env.PLAN)[r];
if (plan === 'sleep') setTimeout(() => {}, 60000);
else setTimeout(() => process.exit(plan), 100);`;

function launch(plan: (number | 'sleep')[], nproc = plan.length) {
  return launchWorkers({
    nproc,
    masterHost: '127.0.0.1',
    masterPort: 29999,
    command: process.execPath,
    args: ['-e', script],
    env: { ...process.env, PLAN: JSON.stringify(plan) },
    killGraceMs: 1000,
  });
}

test('every worker exits 0: the launch succeeds', async () => {
  assert.deepEqual(await launch([0, 0, 0]), { code: 0, failed: null });
});

test('a worker that fails: the others are stopped at once, the result names its rank', async () => {
  const t0 = performance.now();
  const r = await launch(['sleep', 3, 'sleep']);
  assert.equal(r.code, 1);
  assert.deepEqual(r.failed, { rank: 1, exitCode: 3, signal: null });
  assert.ok(performance.now() - t0 < 10_000, 'the sleeping workers were not left to run');
});

test('workers get the rank variables torchrun sets; a worker reads its place back', () => {
  const env = workerEnv({ nproc: 2, nnodes: 3, nodeRank: 2, masterHost: '10.0.0.1', masterPort: 1234, command: '', args: [], env: {} }, 1);
  assert.equal(env.RANK, '5');
  assert.equal(env.WORLD_SIZE, '6');
  assert.equal(env.LOCAL_RANK, '1');
  assert.equal(env.LOCAL_WORLD_SIZE, '2');
  assert.ok(Number(env.SPOTDIFF_THREADS) >= 1);
  assert.deepEqual(workerPlaceFromEnv(env), { rank: 5, worldSize: 6, localRank: 1, host: '10.0.0.1', port: 1234, interfaces: [] });
  assert.deepEqual(workerPlaceFromEnv({ ...env, GLOO_SOCKET_IFNAME: 'eth1, eth2' })?.interfaces, ['eth1', 'eth2']);
  assert.equal(workerEnv({ nproc: 2, masterHost: 'h', masterPort: 1, command: '', args: [], env: { OMP_NUM_THREADS: '3' } }, 0).SPOTDIFF_THREADS, undefined);
  assert.equal(workerPlaceFromEnv({}), null);
});

test('a worker asked for "cuda" takes its own GPU (local rank mod GPUs); cuda:N, cpu and GPU-less machines keep what was asked', () => {
  assert.deepEqual([0, 1, 2, 3].map((r) => workerDevice('cuda', r, 2)), ['cuda:0', 'cuda:1', 'cuda:0', 'cuda:1']);
  assert.equal(workerDevice('cuda:1', 0, 4), 'cuda:1');
  assert.equal(workerDevice('cpu', 3, 4), 'cpu');
  assert.equal(workerDevice('cuda', 1, 0), 'cuda');
  // NCCL takes one GPU a worker: more workers than GPUs, or several on one explicit GPU, are refused.
  assert.equal(oneGpuPerWorker('cuda', 2, 2), null);
  assert.equal(oneGpuPerWorker('cuda:1', 1, 4), null);
  assert.equal(oneGpuPerWorker('cpu', 8, 0), null);
  assert.match(oneGpuPerWorker('cuda', 3, 2) ?? '', /3 workers a machine need 3 GPUs for NCCL \(one each\), this machine has 2/);
  assert.match(oneGpuPerWorker('cuda:0', 2, 4) ?? '', /2 workers cannot share cuda:0/);
});

test('malformed rank variables and launch options are refused', async () => {
  const bad = (env: NodeJS.ProcessEnv, re: RegExp): void =>
    assert.throws(() => workerPlaceFromEnv(env), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && re.test(e.message));
  bad({ RANK: '0' }, /WORLD_SIZE must be an integer/);
  bad({ RANK: '2', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' }, /RANK 2 is not below WORLD_SIZE 2/);
  bad({ RANK: 'x', WORLD_SIZE: '2' }, /RANK must be an integer/);
  bad({ RANK: '0', WORLD_SIZE: '2', MASTER_PORT: '1' }, /MASTER_ADDR/);
  await assert.rejects(launch([], 0), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});
