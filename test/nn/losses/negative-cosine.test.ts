import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { negativeCosineSimilarity } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { compareWithTorch, type LossCase } from './harness.js';

// SimSiam's official code: criterion = nn.CosineSimilarity(dim=1);
// loss = -(criterion(p1, z2).mean() + criterion(p2, z1).mean()) * 0.5 with z detached.
const REF = `
import torch.nn as nn
def ref(x, kind):
    criterion = nn.CosineSimilarity(dim=1)
    if kind == 'simsiam':
        return -(criterion(x['p1'], x['z2'].detach()).mean() + criterion(x['p2'], x['z1'].detach()).mean()) * 0.5
    if kind == 'none':
        return -criterion(x['p1'], x['z1'])
    return -criterion(x['p1'], x['z1']).mean()
`;

function cases(dtype: 'float32' | 'float64'): LossCase[] {
  const o = { dtype } as const;
  const [p1, p2, z1, z2] = [0, 1, 2, 3].map(() => T.randn([8, 16], o));
  const map = T.randn([2, 5, 3, 3], o);
  const mapZ = T.randn([2, 5, 3, 3], o);
  const D = negativeCosineSimilarity;
  return [
    {
      name: 'SimSiam symmetric loss with stop-gradient',
      inputs: { p1: p1!, p2: p2!, z1: z1!, z2: z2! },
      grads: ['p1', 'p2', 'z1', 'z2'],
      kwargs: { kind: 'simsiam' },
      run: (x) => T.add(T.mul(D(x.p1!, T.detach(x.z2!)), 0.5), T.mul(D(x.p2!, T.detach(x.z1!)), 0.5)),
    },
    { name: 'both sides differentiable', inputs: { p1: p1!, z1: z1! }, grads: ['p1', 'z1'], kwargs: { kind: 'mean' }, run: (x) => D(x.p1!, x.z1!) },
    {
      name: 'feature maps [N,C,H,W], none',
      inputs: { p1: map, z1: mapZ },
      grads: ['p1', 'z1'],
      kwargs: { kind: 'none' },
      upstream: T.rand([2, 3, 3], o),
      run: (x) => D(x.p1!, x.z1!, { reduction: 'none' }),
    },
  ];
}

test('negativeCosineSimilarity equals SimSiam D(p, z) in PyTorch', (t) => {
  T.manualSeed(14);
  T.tidy(() => {
    const results = compareWithTorch(REF, [...cases('float64'), ...cases('float32')]);
    t.diagnostic(results.map((r) => `${r.name}: ${r.error.toExponential(1)}`).join('; '));
  });
});

test('negativeCosineSimilarity rejects shape and dtype mismatches', () => {
  T.tidy(() => {
    const err = (code: string, re: RegExp) => (e: unknown) => isSpotdiffError(e) && e.code === code && re.test(e.message);
    assert.throws(() => negativeCosineSimilarity(T.randn([4, 8]), T.randn([4, 7])), err('ERR_SHAPE', /z \[4, 7\] must have the shape of p \[4, 8\]/));
    assert.throws(() => negativeCosineSimilarity(T.randn([4, 8]), T.zeros([4, 8], { dtype: 'int64' })), err('ERR_DTYPE', /z must be a floating-point tensor/));
  });
});
