import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { Adam, AdamW, SGD, type Optimizer, type BaseHyperparameters, type OptimizerStateSource, type HostValues } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

const SHAPES = [[3, 4], [6], [2, 3]];

function makeParams(seed: number): T.Tensor[] {
  T.manualSeed(seed);
  return SHAPES.map((s) => T.keep(T.randn(s)).setRequiresGrad(true));
}

/** Deterministic gradients for step k (the same on every run); parameter 2 skips odd steps. */
function setGrads(params: T.Tensor[], k: number): void {
  T.tidy(() =>
    params.forEach((p, i) => {
      if (i === 2 && k % 2 === 1) return p.setGrad(null);
      T.manualSeed(1000 + 10 * k + i);
      p.setGrad(T.randn(p.shape));
    }),
  );
}

function run(opt: Optimizer<BaseHyperparameters>, params: T.Tensor[], from: number, steps: number): void {
  for (let k = from; k < from + steps; k++) {
    setGrads(params, k);
    opt.step();
  }
}

/** What a safetensors file gives back: host copies, and numbers through metadata strings. */
function throughFile(state: { tensors: Map<string, T.Tensor>; numbers: Record<string, number> }): OptimizerStateSource {
  const tensors = new Map<string, HostValues>();
  for (const [k, t] of state.tensors) tensors.set(k, { shape: [...t.shape], values: t.data() as Float32Array });
  const metadata = Object.fromEntries(Object.entries(state.numbers).map(([k, v]) => [k, String(v)]));
  const numbers = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Number(v)]));
  return { tensors, numbers };
}

const kinds: [string, (p: T.Tensor[]) => Optimizer<BaseHyperparameters>][] = [
  ['SGD nesterov', (p) => new SGD([{ params: p.slice(0, 2), lr: 0.05 }, { params: p.slice(2), lr: 0.1, weightDecay: 1e-3 }], { lr: 0.05, momentum: 0.9, nesterov: true })],
  ['Adam', (p) => new Adam(p, { lr: 1e-2, weightDecay: 1e-4 })],
  ['AdamW', (p) => new AdamW([{ params: p.slice(0, 1) }, { params: p.slice(1), lr: 3e-2 }], { lr: 1e-2 })],
];

for (const [name, make] of kinds) {
  test(`${name}: saving the state, continuing 5 steps equals reloading it into a fresh optimiser and continuing`, () => {
    const before = T.liveTensorCount();
    const a = makeParams(1);
    const optA = make(a);
    run(optA, a, 0, 3);
    optA.paramGroups[0]!.lr *= 0.5; // a scheduler's change must travel too
    const state = optA.stateDict();
    const saved = throughFile(state);
    T.dispose(state.tensors);
    const savedLrs = optA.paramGroups.map((g) => g.lr);
    const savedParams = a.map((p) => ({ shape: p.shape, values: p.data() as Float32Array }));
    run(optA, a, 3, 5);

    const b = savedParams.map((s) => T.keep(T.tensor(s.values, s.shape)).setRequiresGrad(true));
    const optB = make(b);
    optB.loadStateDict(saved);
    assert.deepEqual(optB.paramGroups.map((g) => g.lr), savedLrs);
    run(optB, b, 3, 5);
    a.forEach((p, i) => assert.deepEqual(b[i]!.data(), p.data(), `parameter ${i} differs after resuming`));
    const stateA = optA.stateDict();
    const stateB = optB.stateDict();
    assert.deepEqual(stateB.numbers, stateA.numbers);
    assert.deepEqual([...stateB.tensors.keys()], [...stateA.tensors.keys()]);
    for (const [k, t] of stateA.tensors) assert.deepEqual(stateB.tensors.get(k)!.data(), t.data(), k);
    T.dispose([stateA.tensors, stateB.tensors]);
    optA.dispose();
    optB.dispose();
    T.dispose([a, b]);
    assert.equal(T.liveTensorCount(), before, 'optimisers and their state dicts leave nothing behind');
  });
}

test('stateDict returns copies: stepping on does not change a saved state', () => {
  const p = makeParams(2);
  const opt = new SGD(p, { lr: 0.1, momentum: 0.9 });
  run(opt, p, 0, 1);
  const saved = opt.stateDict();
  const snapshot = saved.tensors.get('state.0.momentum_buffer')!.data();
  run(opt, p, 1, 2);
  assert.deepEqual(saved.tensors.get('state.0.momentum_buffer')!.data(), snapshot);
  assert.ok(saved.tensors.has('state.2.momentum_buffer') && saved.numbers['group.0.nesterov'] === 0 && saved.numbers['group.0.momentum'] === 0.9);
  T.dispose(saved.tensors);
  opt.dispose();
  T.dispose(p);
});

test('loadStateDict lists every problem and changes nothing when the state does not fit', () => {
  const p = makeParams(3);
  const sgd = new SGD(p, { lr: 0.1, momentum: 0.9 });
  const adam = new Adam(p);
  run(sgd, p, 0, 2);
  run(adam, p, 0, 2);
  const sgdState = sgd.stateDict();
  const adamState = adam.stateDict();
  const err = (re: RegExp) => (e: unknown) => isSpotdiffError(e, 'ERR_BAD_CHECKPOINT') && re.test(e.message);
  assert.throws(() => adam.loadStateDict(sgdState), err(/missing group\.0\.beta1;.*unexpected number group\.0\.momentum;.*unexpected tensor state\.0\.momentum_buffer/));
  const wrongShape = new Map(adamState.tensors);
  wrongShape.set('state.1.exp_avg', T.keep(T.zeros([7])));
  assert.throws(() => adam.loadStateDict({ tensors: wrongShape, numbers: adamState.numbers }), err(/state\.1\.exp_avg: expected \[6\], got \[7\]/));
  const partial = new Map(adamState.tensors);
  partial.delete('state.0.exp_avg_sq');
  assert.throws(() => adam.loadStateDict({ tensors: partial, numbers: adamState.numbers }), err(/missing state\.0\.exp_avg_sq/));
  const small = new Adam(p.slice(0, 2));
  assert.throws(() => small.loadStateDict(adamState), err(/group 0 has 3 parameters saved, 2 here/));
  assert.throws(() => adam.loadStateDict({ tensors: adamState.tensors, numbers: { ...adamState.numbers, 'group.0.lr': -1 } }), err(/lr must be ≥ 0, got -1/));
  // Nothing changed: the Adam state is still its own.
  const after = adam.stateDict();
  for (const [k, t] of adamState.tensors) assert.deepEqual(after.tensors.get(k)!.data(), t.data());
  T.dispose([sgdState.tensors, adamState.tensors, after.tensors, wrongShape.get('state.1.exp_avg')]);
  for (const o of [sgd, adam, small]) o.dispose();
  T.dispose(p);
});

test('bad optimiser arguments give clear SpotdiffErrors', () => {
  const p = makeParams(4);
  const err = (code: string, re: RegExp) => (e: unknown) => isSpotdiffError(e) && e.code === code && re.test(e.message);
  assert.throws(() => new SGD(p, { lr: -0.1 }), err('ERR_BAD_INPUT', /SGD: lr must be ≥ 0, got -0\.1 \(group 0\)/));
  assert.throws(() => new SGD([], { lr: 0.1 }), err('ERR_BAD_INPUT', /SGD: got an empty parameter list/));
  assert.throws(() => new Adam([{ params: [] }]), err('ERR_BAD_INPUT', /Adam: got an empty parameter list/));
  assert.throws(() => new SGD(p, { lr: 0.1, nesterov: true }), err('ERR_BAD_INPUT', /nesterov momentum needs momentum > 0 and dampening 0/));
  assert.throws(() => new SGD(p, { lr: 0.1, momentum: -1 }), err('ERR_BAD_INPUT', /momentum must be ≥ 0/));
  assert.throws(() => new SGD(p, { lr: Number.NaN }), err('ERR_BAD_INPUT', /lr must be ≥ 0, got NaN/));
  assert.throws(() => new Adam(p, { beta1: 1 }), err('ERR_BAD_INPUT', /Adam: beta1 must be in \[0, 1\), got 1/));
  assert.throws(() => new AdamW(p, { weightDecay: -1 }), err('ERR_BAD_INPUT', /AdamW: weightDecay must be ≥ 0/));
  assert.throws(() => new SGD([{ params: [p[0]!] }, { params: [p[0]!, p[1]!] }], { lr: 0.1 }), err('ERR_BAD_INPUT', /a parameter appears more than once/));
  T.tidy(() => assert.throws(() => new SGD([T.zeros([3], { dtype: 'int64' })], { lr: 0.1 }), err('ERR_DTYPE', /parameters must be floating-point tensors, got int64/)));
  const opt = new SGD(p, { lr: 0.1 });
  opt.paramGroups[0]!.lr = -1;
  setGrads(p, 0);
  const snapshot = p[0]!.data();
  assert.throws(() => opt.step(), err('ERR_BAD_INPUT', /lr must be ≥ 0, got -1/));
  assert.deepEqual(p[0]!.data(), snapshot, 'a refused step leaves the parameters alone');
  opt.dispose();
  assert.throws(() => opt.step(), err('ERR_DISPOSED', /SGD: this optimiser was disposed/));
  T.dispose(p);
});
