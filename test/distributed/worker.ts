// One rank of a test/distributed scenario, started by ./ranks.ts with RANK, WORLD_SIZE,
// MASTER_ADDR and MASTER_PORT set; prints one JSON line with what it saw.
import * as T from '../../src/tensor/index.js';
import { GradientReducer, ProcessGroup, averageGradients, broadcastState, workerPlaceFromEnv } from '../../src/distributed/index.js';
import { BatchNorm1d, Linear, Sequential } from '../../src/nn/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { Random } from '../../src/util/random.js';
import { trainPretrain } from '../../src/pretrain/trainer.js';
import { linearMethod } from '../pretrain/linear-method.js';
import { smallHeads, tinyRunOptions } from '../pretrain/tiny-run.js';
import { runContrastive } from '../pretrain/contrastive-dp-case.js';
import { fixedViews } from '../pretrain/fixed-views-method.js';
import { shuffleRows, unshuffleRows } from '../../src/distributed/index.js';
import { allGatherObjects } from '../../src/distributed/objects.js';
import { shareUnits } from '../../src/distributed/work-queue.js';
import { runTwoClassCase } from '../detect/twoclass/dp-case.js';
import { GLOBAL_BATCH, STEPS, batchRows, buildCase, parameterValues, trainStep } from './sgd-case.js';
import { syncRun, type BnKind } from './sync-bn-case.js';
import { runReducerCase, type ReducerCaseOptions } from './reducer-case.js';

const rank = Number(process.env.RANK);
const world = Number(process.env.WORLD_SIZE);
const timeoutMs = Number(process.env.DIST_TIMEOUT_MS ?? 20_000);

function join(): ProcessGroup {
  const interfaces = workerPlaceFromEnv()?.interfaces ?? [];
  return ProcessGroup.join({ host: process.env.MASTER_ADDR ?? '', port: Number(process.env.MASTER_PORT), rank, worldSize: world, timeoutMs, interfaces });
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

function collectives(): void {
  const g = join();
  const sum = T.tensor([1 + rank, 2 * (rank + 1), -3], [3]);
  g.allReduce([sum]);
  const max = T.tensor([rank * 0.5, -rank, 0.25], [3], { dtype: 'float64' });
  g.allReduce([max], 'max');
  const ints = T.tensor(BigInt64Array.of(BigInt(rank + 1), 2n ** 40n));
  g.allReduce([ints]);
  const bcast = T.tensor([rank * 100 + 1, rank * 100 + 2], [2]);
  g.broadcast([bcast], 1);
  const gathered = g.allGather(T.tensor([rank, rank * 10], [1, 2]));
  g.barrier();
  g.destroy();
  print({
    sum: Array.from(sum.toFloat32()),
    max: Array.from(max.data() as Float64Array),
    ints: Array.from(ints.data() as BigInt64Array, String),
    bcast: Array.from(bcast.toFloat32()),
    gathered: gathered.map((t) => ({ shape: t.shape, values: Array.from(t.toFloat32()) })),
  });
}

function sgd(): void {
  const g = join();
  const bucketBytes = Number(process.env.BUCKET_BYTES ?? 25 * 1024 * 1024);
  const { model, optimizer } = buildCase();
  const share = GLOBAL_BATCH / world;
  for (let step = 0; step < STEPS; step++) {
    const { x, y } = batchRows(step, rank * share, (rank + 1) * share);
    trainStep(model, optimizer, x, y, () => averageGradients(g, model, { bucketBytes }));
  }
  g.destroy();
  print({ params: parameterValues(model) });
}

// Each rank starts from its own weights and BatchNorm statistics; afterwards all hold rank 1's.
function broadcastModel(): void {
  const g = join();
  T.manualSeed(100 + rank);
  const model = new Sequential(new Linear(3, 4), new BatchNorm1d(4));
  T.tidy(() => model.forward(T.randn([5, 3])));
  const state = (): Record<string, string[]> =>
    Object.fromEntries([...model.stateDict()].map(([k, t]) => [k, Array.from(t.data() as ArrayLike<number | bigint>, String)]));
  const before = state();
  broadcastState(g, model, 1, { bucketBytes: 40 });
  g.destroy();
  print({ before, after: state() });
}

// A tiny pre-training run of ../pretrain/linear-method.ts (METHOD=moco: MoCo v2 with small heads)
// as one rank (DATA, OUT, EPOCHS set by the test; STOP_AFTER_EPOCH=1: asked to stop after it).
// METHOD=simsiam-bn | simclr-bn: ../pretrain/fixed-views-method.ts; SYNC_BN=on|off overrides the recipe's;
// BATCH_SIZE and SIZE override the tiny run's.
async function pretrain(): Promise<void> {
  const g = join();
  const moco = process.env.METHOD === 'moco';
  const options = tinyRunOptions(process.env.DATA ?? '', process.env.OUT ?? '', {
    epochs: Number(process.env.EPOCHS ?? 2),
    resume: process.env.RESUME === '1',
    ...(moco ? { method: 'moco' as const } : {}),
    ...(process.env.METHOD === 'simclr-bn' ? { method: 'simclr' as const } : {}),
    ...(process.env.LR !== undefined ? { lr: Number(process.env.LR) } : {}),
    ...(process.env.SYNC_BN !== undefined ? { syncBn: process.env.SYNC_BN === 'on' } : {}),
    ...(process.env.BATCH_SIZE !== undefined ? { batchSize: Number(process.env.BATCH_SIZE), size: Number(process.env.SIZE) } : {}),
  });
  const bn = process.env.METHOD === 'simsiam-bn' || process.env.METHOD === 'simclr-bn' ? fixedViews(process.env.METHOD === 'simsiam-bn' ? 'simsiam' : 'simclr') : null;
  const createMethod = bn ?? (moco ? smallHeads : linearMethod);
  const stop = new AbortController();
  const onProgress = process.env.STOP_AFTER_EPOCH === '1' ? (e: { type: string }): void => { if (e.type === 'epoch') stop.abort(); } : undefined;
  const result = await trainPretrain(options, { createMethod, group: g, signal: stop.signal, ...(onProgress ? { onProgress } : {}) });
  g.destroy();
  print({ steps: result.steps, completed: result.completed, lastEpochLoss: result.lastEpochLoss });
}

// A 2-class run of ../detect/twoclass/dp-case.ts as one rank (SAMPLES, OUT set by the test; BN=1:
// the network with BatchNorm, SYNC_BN=on: SyncBatchNorm).
async function twoclass(): Promise<void> {
  const g = join();
  const stop = Number(process.env.STOP_RANK ?? -1) === rank ? { stopAfter: Number(process.env.STOP_AFTER) } : {};
  const bn = { bn: process.env.BN === '1', syncBatchNorm: process.env.SYNC_BN === 'on' };
  const run = await runTwoClassCase(process.env.SAMPLES ?? '', process.env.OUT ?? '', g, { resume: process.env.RESUME === '1', ...stop, ...bn });
  g.destroy();
  print(run);
}

// MoCo / SimCLR steps on this rank's rows of ../pretrain/contrastive-dp-case.ts (METHOD set by the test).
function contrastive(): void {
  const g = join();
  const run = runContrastive(process.env.METHOD === 'simclr' ? 'simclr' : 'moco', g);
  g.destroy();
  print(run);
}

// Rows 10·rank + i of a global batch of 4 per rank, shuffled across ranks and back.
function shuffle(): void {
  const g = join();
  const x = T.add(T.reshape(T.arange(0, 8, 1, { dtype: 'float32' }), [4, 2]), 10 * rank);
  // Only rank 0's stream is drawn from: the others' differ and must not matter.
  const { rows, restore } = shuffleRows(g, x, new Random(5 + 100 * rank));
  const back = unshuffleRows(g, rows, restore);
  g.destroy();
  const values = (t: T.Tensor): number[] => Array.from(t.toFloat32());
  print({ x: values(x), rows: values(rows), back: values(back), restore: Array.from(restore.data() as BigInt64Array, Number) });
}

// Each rank's JSON value gathered (of different lengths, non-ASCII), then units 10..16 shared
// twice through the store's counter (rank 0's units slow, so the others take more of them).
async function objectsAndUnits(): Promise<void> {
  const g = join();
  const values = allGatherObjects(g, { rank, text: 'é'.repeat(rank * 50), list: [rank, null] });
  const units = [10, 11, 12, 13, 14, 15, 16];
  const rounds = [];
  for (let round = 0; round < 2; round++) {
    const ran: number[] = [];
    const results = await shareUnits(g, units, async (u) => {
      ran.push(u);
      if (rank === 0) await new Promise((r) => setTimeout(r, 150));
      return { unit: u, by: rank, round };
    });
    rounds.push({ ran, results: [...results].sort((a, b) => a[0] - b[0]) });
  }
  g.destroy();
  print({ values, rounds });
}

// ./reducer-case.ts on this rank; REDUCER_CASE (JSON): steps, bucketBytes, withoutGradient,
// sideUsed ([step][rank] booleans) and backwardTwice.
function gradReducer(): void {
  const g = join();
  const c = JSON.parse(process.env.REDUCER_CASE ?? '{}') as Omit<ReducerCaseOptions, 'sideUsed'> & { sideUsed?: boolean[][] };
  const { sideUsed: used, ...rest } = c;
  const run = runReducerCase(g, used === undefined ? rest : { ...rest, sideUsed: (step, r) => used[step]![r]! });
  g.destroy();
  print(run);
}

// Rank 1 leaves; rank 0's reducer starts its all_reduce during backward, and finish() must fail.
function gradReducerPeerGone(): void {
  const g = join();
  if (rank === 1) process.exit(0);
  const model = new Linear(3, 2);
  const reducer = new GradientReducer(g, model);
  T.sum(model.forward(T.ones([2, 3]))).backward();
  try {
    reducer.finish();
    print({ failed: false });
  } catch (e) {
    print({ failed: true, code: (e as { code?: string }).code, message: (e as Error).message, launchedInBackward: reducer.stats().launchedInBackward });
  }
  process.exit(0);
}

// This rank's rows of ./sync-bn-case.ts through SyncBatchNorm (BN_KIND 2d | 1d | 1d-no-affine; SIZES: rows per rank).
function syncBatchNorm(): void {
  const g = join();
  const run = syncRun((process.env.BN_KIND ?? '2d') as BnKind, g, (process.env.SIZES ?? '').split(',').map(Number));
  g.destroy();
  print(run);
}

// Rank 1 leaves (exits, or sleeps without taking part); rank 0's all_reduce must fail in time.
function peerGone(silent: boolean): void {
  const g = join();
  if (rank === 1) {
    if (silent) setTimeout(() => process.exit(0), timeoutMs * 3);
    else process.exit(0);
    return;
  }
  const t0 = performance.now();
  try {
    g.allReduce([T.ones([4])]);
    print({ failed: false });
  } catch (e) {
    const ms = performance.now() - t0;
    print({ failed: true, spotdiff: isSpotdiffError(e), code: (e as { code?: string }).code, message: (e as Error).message, ms });
  }
  process.exit(0);
}

// Joining is expected to fail (e.g. an interface that does not exist): prints the error.
function joinFails(): void {
  try {
    join().destroy();
    print({ code: null, message: 'joined' });
  } catch (e) {
    print({ code: (e as { code?: string }).code, message: (e as Error).message });
  }
}

const scenario = process.argv[2];
if (scenario === 'collectives') collectives();
else if (scenario === 'sgd') sgd();
else if (scenario === 'broadcast-state') broadcastModel();
else if (scenario === 'pretrain') await pretrain();
else if (scenario === 'contrastive') contrastive();
else if (scenario === 'twoclass') await twoclass();
else if (scenario === 'shuffle') shuffle();
else if (scenario === 'grad-reducer') gradReducer();
else if (scenario === 'grad-reducer-peer-exits') gradReducerPeerGone();
else if (scenario === 'objects') await objectsAndUnits();
else if (scenario === 'sync-bn') syncBatchNorm();
else if (scenario === 'peer-exits') peerGone(false);
else if (scenario === 'peer-silent') peerGone(true);
else if (scenario === 'join-fails') joinFails();
else throw new Error(`unknown scenario ${scenario}`);
