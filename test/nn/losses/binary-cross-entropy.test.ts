import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { binaryCrossEntropyWithLogits } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { compareWithTorch, type LossCase } from './harness.js';

const REF = `
def ref(x, pos_weight_number=None, **kw):
    pw = x.get('posWeight')
    if pos_weight_number is not None:
        pw = torch.tensor(pos_weight_number, dtype=x['logits'].dtype)
    return F.binary_cross_entropy_with_logits(x['logits'], x['target'], weight=x.get('weight'), pos_weight=pw, **kw)
`;

function cases(dtype: 'float32' | 'float64'): LossCase[] {
  const o = { dtype } as const;
  const logits = T.mul(T.randn([8, 3], o), 4);
  const hard = T.toDtype(T.gt(T.rand([8, 3], o), 0.5), dtype);
  const soft = T.rand([8, 3], o);
  const weight = T.rand([8, 1], o);
  const posWeight = T.add(T.rand([3], o), 0.5);
  return [
    { name: 'hard targets', inputs: { logits, target: hard }, grads: ['logits'], run: (x) => binaryCrossEntropyWithLogits(x.logits!, x.target!) },
    { name: 'soft targets', inputs: { logits, target: soft }, grads: ['logits', 'target'], run: (x) => binaryCrossEntropyWithLogits(x.logits!, x.target!) },
    {
      name: 'weight + posWeight [3], sum',
      inputs: { logits, target: hard, weight, posWeight },
      grads: ['logits'],
      kwargs: { reduction: 'sum' },
      run: (x) => binaryCrossEntropyWithLogits(x.logits!, x.target!, { weight: x.weight!, posWeight: x.posWeight!, reduction: 'sum' }),
    },
    {
      name: 'posWeight as a number, none',
      inputs: { logits, target: hard },
      grads: ['logits'],
      kwargs: { pos_weight_number: 3, reduction: 'none' },
      upstream: T.rand([8, 3], o),
      run: (x) => binaryCrossEntropyWithLogits(x.logits!, x.target!, { posWeight: 3, reduction: 'none' }),
    },
  ];
}

test('binaryCrossEntropyWithLogits equals F.binary_cross_entropy_with_logits', (t) => {
  T.manualSeed(12);
  T.tidy(() => {
    const results = compareWithTorch(REF, [...cases('float64'), ...cases('float32')]);
    t.diagnostic(results.map((r) => `${r.name}: ${r.error.toExponential(1)}`).join('; '));
  });
});

test('binaryCrossEntropyWithLogits rejects integer targets and shape mismatches', () => {
  T.tidy(() => {
    const logits = T.randn([4, 2]);
    const err = (code: string, re: RegExp) => (e: unknown) => isSpotdiffError(e) && e.code === code && re.test(e.message);
    assert.throws(() => binaryCrossEntropyWithLogits(logits, T.zeros([4, 2], { dtype: 'int64' })), err('ERR_DTYPE', /target must be a floating-point tensor, got int64/));
    assert.throws(() => binaryCrossEntropyWithLogits(logits, T.zeros([4])), err('ERR_SHAPE', /target \[4\] must have the shape of logits \[4, 2\]/));
    assert.throws(() => binaryCrossEntropyWithLogits(logits, T.zeros([4, 2]), { reduction: 'avg' as 'mean' }), err('ERR_BAD_INPUT', /reduction must be/));
  });
});
