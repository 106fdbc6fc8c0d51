import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { BatchNorm1d, BatchNorm2d, Conv2d, Module, Sequential } from '../../src/nn/index.js';
import { ProcessGroup, SyncBatchNorm, convertSyncBatchNorm, distributedBackends } from '../../src/distributed/index.js';
import { resnet18 } from '../../src/models/resnet.js';
import { freePort, runRanks } from './ranks.js';
import { referenceRun, type BnKind, type BnRun } from './sync-bn-case.js';

const skip = distributedBackends().includes('gloo') ? false : 'this build of the addon has no Gloo backend';
const TOLERANCE = 1e-5;

function assertClose(got: readonly number[], want: readonly number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= TOLERANCE, `${what}[${i}]: ${v} vs ${want[i]}`));
}

/** Every rank's SyncBatchNorm run against one process's BatchNorm on the concatenated batch. */
async function compareWithOneProcess(kind: BnKind, sizes: number[]): Promise<void> {
  const total = sizes.reduce((a, b) => a + b, 0);
  const ref = referenceRun(kind, total, sizes.length);
  const perRow = ref.y.length / total;
  const ranks = await runRanks('sync-bn', sizes.length, { env: { BN_KIND: kind, SIZES: sizes.join(',') } });
  let from = 0;
  for (const r of ranks) {
    assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
    const got = r.result as BnRun & { converted: boolean };
    assert.equal(got.converted, true);
    const rows = (v: number[]): number[] => v.slice(from * perRow, (from + sizes[r.rank]!) * perRow);
    assertClose(got.y, rows(ref.y), `rank ${r.rank} output`);
    assertClose(got.gradX, rows(ref.gradX), `rank ${r.rank} input gradient`);
    assertClose(got.evalY, rows(ref.evalY), `rank ${r.rank} eval-mode output`);
    for (const key of ['gradWeight', 'gradBias', 'runningMean', 'runningVar'] as const) assertClose(got[key], ref[key], `rank ${r.rank} ${key}`);
    assert.equal(got.numBatchesTracked, ref.numBatchesTracked);
    from += sizes[r.rank]!;
  }
}

test('SyncBatchNorm on 2 ranks equals one process\u2019s BatchNorm2d on the global batch: output, running statistics, input, weight and bias gradients, then eval mode (1e-5)', { skip }, async () => {
  await compareWithOneProcess('2d', [3, 3]);
});

test('3 ranks with different local batch sizes (2, 4, 1 rows), BatchNorm2d', { skip }, async () => {
  await compareWithOneProcess('2d', [2, 4, 1]);
});

test('BatchNorm1d input [N, C] on 2 and 3 ranks, one of them with no rows; without weight and bias', { skip }, async () => {
  await compareWithOneProcess('1d', [4, 2]);
  await compareWithOneProcess('1d', [3, 0, 2]);
  await compareWithOneProcess('1d-no-affine', [2, 3]);
});

function stateValues(m: Module): Map<string, number[]> {
  return new Map([...m.stateDict()].map(([k, t]) => [k, Array.from(t.data() as ArrayLike<number | bigint>, Number)]));
}

test('convertSyncBatchNorm replaces every BatchNorm in place over the same tensors: same stateDict keys and tensors, forward calls the new layers', () => {
  const model = resnet18();
  const before = model.stateDict();
  const params = model.parameters();
  const converted = convertSyncBatchNorm(model, null);
  assert.equal(converted, model);
  const after = model.stateDict();
  assert.deepEqual([...after.keys()], [...before.keys()]);
  for (const [k, t] of before) assert.equal(after.get(k), t, k);
  const paramsAfter = model.parameters();
  assert.equal(paramsAfter.length, params.length);
  paramsAfter.forEach((p, i) => assert.equal(p, params[i]));
  // Nothing reachable from the model (fields, arrays: what forward calls) is a BatchNorm now.
  const seen = new Set<unknown>();
  const reach = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v) || !(v instanceof Module || Array.isArray(v))) return;
    seen.add(v);
    assert.ok(!(v instanceof BatchNorm2d || v instanceof BatchNorm1d), 'a BatchNorm is still reachable');
    for (const child of Object.values(v)) reach(child);
  };
  reach(model);
  assert.equal(model.bn1 instanceof SyncBatchNorm, true);
  assert.equal((model.layer1.layers[0] as unknown as { bn2: unknown }).bn2 instanceof SyncBatchNorm, true);
  // A BatchNorm given alone comes back as its replacement; BatchNorm1d without affine keeps having none.
  const bn1d = new BatchNorm1d(4, { affine: false, eps: 1e-3, momentum: 0.2 });
  const sync = convertSyncBatchNorm(bn1d, null) as SyncBatchNorm;
  assert.ok(sync instanceof SyncBatchNorm);
  assert.deepEqual([sync.weight, sync.eps, sync.momentum], [null, 1e-3, 0.2]);
  assert.deepEqual([...sync.stateDict().keys()], [...bn1d.stateDict().keys()]);
  model.dispose();
});

/** A conv and a BatchNorm2d, trained two steps and then evaluated, with the given norm layer. */
function convBn(norm: (bn: BatchNorm2d) => Module): { out: number[]; grad: number[]; state: Map<string, number[]> } {
  T.manualSeed(7);
  const model = new Sequential(new Conv2d(2, 3, 3, { padding: 1 }), new BatchNorm2d(3));
  const bn = model.layers[1] as BatchNorm2d;
  model.replaceChild('1', norm(bn));
  const grads: number[] = [];
  for (let step = 0; step < 2; step++) {
    model.zeroGrad();
    T.tidy(() => {
      T.sum(T.square(model.forward(T.randn([4, 2, 5, 5])))).backward();
      grads.push(...Array.from(model.parameters()[0]!.grad!.toFloat32()));
    });
  }
  model.eval();
  const out = T.tidy(() => Array.from(model.forward(T.randn([3, 2, 5, 5])).toFloat32()));
  return { out, grad: grads, state: stateValues(model) };
}

test('without a group, or in a group of one rank, SyncBatchNorm is BatchNorm bit for bit (training steps, running statistics, eval mode)', { skip }, async () => {
  const plain = convBn((bn) => bn);
  assert.deepEqual(convBn((bn) => SyncBatchNorm.from(bn, null)), plain);
  const group = ProcessGroup.join({ host: '127.0.0.1', port: await freePort(), rank: 0, worldSize: 1 });
  try {
    assert.deepEqual(convBn((bn) => SyncBatchNorm.from(bn, group)), plain);
  } finally {
    group.destroy();
  }
});

test('SyncBatchNorm refuses inputs whose channels are not its features', () => {
  const m = new SyncBatchNorm(3);
  assert.throws(() => m.forward(T.zeros([2, 4, 2, 2])), { code: 'ERR_SHAPE', message: /SyncBatchNorm\(3\) takes \[N, 3, \.\.\.\], got \[2, 4, 2, 2\]/ });
  assert.throws(() => m.forward(T.zeros([3])), { code: 'ERR_SHAPE' });
  m.dispose();
});
