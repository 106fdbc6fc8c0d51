import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { crossEntropy } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { compareWithTorch, type LossCase } from './harness.js';

const REF = `
def ref(x, **kw):
    return F.cross_entropy(x['logits'], x['target'], weight=x.get('weight'), **kw)
`;

function cases(dtype: 'float32' | 'float64'): LossCase[] {
  const o = { dtype } as const;
  const logits = T.mul(T.randn([6, 5], o), 3);
  const target = T.tensor(BigInt64Array.from([0, 4, 2, 2, 1, 3].map(BigInt)), [6]);
  const weight = T.rand([5], o);
  const map = T.randn([2, 3, 4, 4], o);
  const mapTarget = T.randint(0, 3, [2, 4, 4]);
  return [
    { name: 'plain mean', inputs: { logits, target }, grads: ['logits'], run: (x) => crossEntropy(x.logits!, x.target!) },
    {
      name: 'class weights',
      inputs: { logits, target, weight },
      grads: ['logits'],
      run: (x) => crossEntropy(x.logits!, x.target!, { weight: x.weight! }),
    },
    {
      name: 'label smoothing 0.1',
      inputs: { logits, target },
      grads: ['logits'],
      kwargs: { label_smoothing: 0.1 },
      run: (x) => crossEntropy(x.logits!, x.target!, { labelSmoothing: 0.1 }),
    },
    {
      name: 'weights + smoothing 0.2, sum',
      inputs: { logits, target, weight },
      grads: ['logits'],
      kwargs: { label_smoothing: 0.2, reduction: 'sum' },
      run: (x) => crossEntropy(x.logits!, x.target!, { weight: x.weight!, labelSmoothing: 0.2, reduction: 'sum' }),
    },
    {
      name: 'per-pixel [N,C,H,W], none',
      inputs: { logits: map, target: mapTarget },
      grads: ['logits'],
      kwargs: { reduction: 'none' },
      upstream: T.rand([2, 4, 4], o),
      run: (x) => crossEntropy(x.logits!, x.target!, { reduction: 'none' }),
    },
    {
      name: 'ignore index',
      inputs: { logits, target },
      grads: ['logits'],
      kwargs: { ignore_index: 2 },
      run: (x) => crossEntropy(x.logits!, x.target!, { ignoreIndex: 2 }),
    },
  ];
}

test('crossEntropy equals F.cross_entropy (value and gradient)', (t) => {
  T.manualSeed(11);
  T.tidy(() => {
    const results = compareWithTorch(REF, [...cases('float64'), ...cases('float32')]);
    t.diagnostic(results.map((r) => `${r.name}: ${r.error.toExponential(1)}`).join('; '));
  });
});

test('crossEntropy accepts int32 targets as class indices', () => {
  T.tidy(() => {
    const logits = T.randn([3, 4]);
    const a = crossEntropy(logits, T.tensor(Int32Array.of(0, 3, 1), [3])).item();
    const b = crossEntropy(logits, T.tensor(BigInt64Array.of(0n, 3n, 1n), [3])).item();
    assert.equal(a, b);
  });
});

test('crossEntropy rejects wrong target dtype and shape, bad weights and smoothing', () => {
  T.tidy(() => {
    const logits = T.randn([6, 5]);
    const err = (code: string, re: RegExp) => (e: unknown) => isSpotdiffError(e) && e.code === code && re.test(e.message);
    assert.throws(() => crossEntropy(logits, T.zeros([6])), err('ERR_DTYPE', /target must hold class indices as int64 .* got float32/));
    assert.throws(() => crossEntropy(logits, T.zeros([6, 5], { dtype: 'int64' })), err('ERR_SHAPE', /target \[6, 5\] does not fit logits \[6, 5\] \(expected target shape \[6\]\)/));
    assert.throws(() => crossEntropy(logits, T.zeros([5], { dtype: 'int64' })), err('ERR_SHAPE', /expected target shape \[6\]/));
    assert.throws(() => crossEntropy(T.zeros([6], { dtype: 'int64' }), T.zeros([], { dtype: 'int64' })), err('ERR_DTYPE', /logits must be a floating-point tensor/));
    assert.throws(() => crossEntropy(logits, T.zeros([6], { dtype: 'int64' }), { weight: T.ones([4]) }), err('ERR_SHAPE', /weight must be a vector of 5 class weights, got \[4\]/));
    assert.throws(() => crossEntropy(logits, T.zeros([6], { dtype: 'int64' }), { labelSmoothing: 1.5 }), err('ERR_BAD_INPUT', /labelSmoothing must be in \[0, 1\]/));
    // A class index out of range is libtorch's own check: an error, not a crash.
    assert.throws(() => crossEntropy(logits, T.full([6], 9, { dtype: 'int64' })), (e: unknown) => isSpotdiffError(e, 'ERR_TORCH'));
  });
});
