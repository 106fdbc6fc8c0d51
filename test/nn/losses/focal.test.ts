import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { focalLoss, sigmoidFocalLoss } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { compareWithTorch, type LossCase } from './harness.js';

// Binary: torchvision's own implementation. Multi-class: Lin et al.'s formula written out
// from the softmax probabilities (a different route from spotdiff's log-softmax + gather).
const REF = `
from torchvision.ops import sigmoid_focal_loss
def ref(x, kind, **kw):
    if kind == 'binary':
        return sigmoid_focal_loss(x['logits'], x['target'], **kw)
    if kind == 'binary-from-2-class':
        d = x['logits'][:, 1] - x['logits'][:, 0]
        return sigmoid_focal_loss(d, x['target'].to(d.dtype), **kw)
    gamma, reduction = kw.get('gamma', 2), kw.get('reduction', 'mean')
    p = F.softmax(x['logits'], dim=1)
    onehot = F.one_hot(x['target'], p.shape[1]).movedim(-1, 1).to(p.dtype)
    pt = (p * onehot).sum(1)
    loss = -((1 - pt) ** gamma) * torch.log(pt)
    if 'alpha' in x:
        loss = (x['alpha'].reshape(1, -1, *([1] * (p.dim() - 2))) * onehot).sum(1) * loss
    return {'mean': loss.mean, 'sum': loss.sum, 'none': lambda: loss}[reduction]()
`;

function cases(dtype: 'float32' | 'float64'): LossCase[] {
  const o = { dtype } as const;
  const logits = T.mul(T.randn([2, 1, 6, 6], o), 3);
  const hard = T.toDtype(T.gt(T.rand([2, 1, 6, 6], o), 0.7), dtype);
  const soft = T.rand([2, 1, 6, 6], o);
  const multi = T.mul(T.randn([5, 4, 3], o), 2);
  const multiTarget = T.randint(0, 4, [5, 3]);
  const alpha = T.rand([4], o);
  const two = T.mul(T.randn([7, 2], o), 2);
  const twoTarget = T.tensor(BigInt64Array.from([0, 1, 1, 0, 1, 0, 0].map(BigInt)), [7]);
  return [
    {
      name: 'binary defaults (α 0.25, γ 2)',
      inputs: { logits, target: hard },
      grads: ['logits'],
      kwargs: { kind: 'binary', reduction: 'mean' },
      run: (x) => sigmoidFocalLoss(x.logits!, x.target!),
    },
    {
      name: 'binary soft targets, γ 1.5, α 0.6, sum',
      inputs: { logits, target: soft },
      grads: ['logits'],
      kwargs: { kind: 'binary', gamma: 1.5, alpha: 0.6, reduction: 'sum' },
      run: (x) => sigmoidFocalLoss(x.logits!, x.target!, { gamma: 1.5, alpha: 0.6, reduction: 'sum' }),
    },
    {
      name: 'binary no α, γ 0, none',
      inputs: { logits, target: hard },
      grads: ['logits'],
      kwargs: { kind: 'binary', gamma: 0, alpha: -1, reduction: 'none' },
      upstream: T.rand([2, 1, 6, 6], o),
      run: (x) => sigmoidFocalLoss(x.logits!, x.target!, { gamma: 0, alpha: null, reduction: 'none' }),
    },
    {
      name: 'multi-class γ 2',
      inputs: { logits: multi, target: multiTarget },
      grads: ['logits'],
      kwargs: { kind: 'multi' },
      run: (x) => focalLoss(x.logits!, x.target!),
    },
    {
      name: 'multi-class α [4], γ 0.5, sum',
      inputs: { logits: multi, target: multiTarget, alpha },
      grads: ['logits'],
      kwargs: { kind: 'multi', gamma: 0.5, reduction: 'sum' },
      run: (x) => focalLoss(x.logits!, x.target!, { alpha: x.alpha!, gamma: 0.5, reduction: 'sum' }),
    },
    {
      name: 'multi-class none',
      inputs: { logits: multi, target: multiTarget },
      grads: ['logits'],
      kwargs: { kind: 'multi', gamma: 3, reduction: 'none' },
      upstream: T.rand([5, 3], o),
      run: (x) => focalLoss(x.logits!, x.target!, { gamma: 3, reduction: 'none' }),
    },
    {
      name: '2-class softmax with α = torchvision binary on logit difference',
      inputs: { logits: two, target: twoTarget },
      grads: ['logits'],
      kwargs: { kind: 'binary-from-2-class', alpha: 0.25, gamma: 2, reduction: 'mean' },
      run: (x) => focalLoss(x.logits!, x.target!, { alpha: 0.25, gamma: 2 }),
    },
  ];
}

test('focal losses equal torchvision.ops.sigmoid_focal_loss and the multi-class formula', (t) => {
  T.manualSeed(13);
  T.tidy(() => {
    const results = compareWithTorch(REF, [...cases('float64'), ...cases('float32')]);
    t.diagnostic(results.map((r) => `${r.name}: ${r.error.toExponential(1)}`).join('; '));
  });
});

test('focal losses reject wrong targets and parameters', () => {
  T.tidy(() => {
    const err = (code: string, re: RegExp) => (e: unknown) => isSpotdiffError(e) && e.code === code && re.test(e.message);
    const logits = T.randn([4, 3]);
    assert.throws(() => sigmoidFocalLoss(logits, T.zeros([4, 3], { dtype: 'int64' })), err('ERR_DTYPE', /sigmoidFocalLoss: target must be a floating-point tensor/));
    assert.throws(() => sigmoidFocalLoss(logits, T.zeros([4, 1])), err('ERR_SHAPE', /target \[4, 1\] must have the shape of logits \[4, 3\]/));
    assert.throws(() => sigmoidFocalLoss(logits, T.zeros([4, 3]), { gamma: -1 }), err('ERR_BAD_INPUT', /gamma must be a finite number ≥ 0/));
    assert.throws(() => focalLoss(logits, T.zeros([4])), err('ERR_DTYPE', /focalLoss: target must hold class indices/));
    assert.throws(() => focalLoss(logits, T.zeros([4, 3], { dtype: 'int64' })), err('ERR_SHAPE', /expected target shape \[4\]/));
    assert.throws(() => focalLoss(logits, T.zeros([4], { dtype: 'int64' }), { alpha: 0.25 }), err('ERR_BAD_INPUT', /a single alpha needs 2 classes \(got 3\)/));
    assert.throws(() => focalLoss(logits, T.zeros([4], { dtype: 'int64' }), { alpha: T.ones([2]) }), err('ERR_SHAPE', /alpha must be a vector of 3 class weights/));
  });
});
