import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { infoNce } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { compareWithTorch, type LossCase } from './harness.js';

// With a bank: MoCo v2's forward (moco/builder.py), its queue [C, K] built as MoCo builds it
// (normalised along dim 0), keys normalised by the encoder. In-batch: MoCo v3's
// contrastive_loss without its 2τ scale.
const REF = `
def ref(x, T=0.2, normalize=True):
    q, k = x['q'], x['k']
    if normalize:
        q = F.normalize(q, dim=1)
        k = F.normalize(k, dim=1)
    if 'bank' in x:
        queue = x['bank'].t()
        if normalize:
            queue = F.normalize(queue, dim=0)
        l_pos = torch.einsum('nc,nc->n', [q, k]).unsqueeze(-1)
        l_neg = torch.einsum('nc,ck->nk', [q, queue.clone().detach()])
        logits = torch.cat([l_pos, l_neg], dim=1)
        logits /= T
        labels = torch.zeros(logits.shape[0], dtype=torch.long)
        return F.cross_entropy(logits, labels)
    logits = torch.einsum('nc,mc->nm', [q, k]) / T
    labels = torch.arange(logits.shape[0], dtype=torch.long)
    return F.cross_entropy(logits, labels)
`;

function cases(dtype: 'float32' | 'float64'): LossCase[] {
  const o = { dtype } as const;
  const q = T.randn([8, 16], o);
  const k = T.add(q, T.mul(T.randn([8, 16], o), 0.5));
  const bank = T.randn([32, 16], o);
  return [
    {
      name: 'MoCo v2 queue, τ 0.2',
      inputs: { q, k, bank },
      grads: ['q', 'k'],
      run: (x) => infoNce(x.q!, x.k!, { negatives: x.bank! }),
    },
    {
      name: 'MoCo queue, τ 0.07',
      inputs: { q, k, bank },
      grads: ['q', 'k'],
      kwargs: { T: 0.07 },
      run: (x) => infoNce(x.q!, x.k!, { negatives: x.bank!, temperature: 0.07 }),
    },
    { name: 'in-batch negatives', inputs: { q, k }, grads: ['q', 'k'], kwargs: { T: 0.5 }, run: (x) => infoNce(x.q!, x.k!, { temperature: 0.5 }) },
    {
      name: 'pre-normalised inputs, normalize off',
      inputs: { q: T.normalize(q), k: T.normalize(k), bank: T.normalize(bank) },
      grads: ['q', 'k'],
      kwargs: { normalize: false },
      run: (x) => infoNce(x.q!, x.k!, { negatives: x.bank!, normalize: false }),
    },
  ];
}

test('infoNce equals MoCo v2 (queue) and in-batch InfoNCE in PyTorch', (t) => {
  T.manualSeed(15);
  T.tidy(() => {
    const results = compareWithTorch(REF, [...cases('float64'), ...cases('float32')]);
    t.diagnostic(results.map((r) => `${r.name}: ${r.error.toExponential(1)}`).join('; '));
  });
});

test('infoNce rejects mismatched shapes and a bad temperature', () => {
  T.tidy(() => {
    const err = (code: string, re: RegExp) => (e: unknown) => isSpotdiffError(e) && e.code === code && re.test(e.message);
    const q = T.randn([4, 8]);
    assert.throws(() => infoNce(q, T.randn([4, 6])), err('ERR_SHAPE', /keys \[4, 6\] must have the shape of queries \[4, 8\]/));
    assert.throws(() => infoNce(q, q, { negatives: T.randn([8, 10]) }), err('ERR_SHAPE', /negatives \[8, 10\] must be \[K, 8\]/));
    assert.throws(() => infoNce(T.randn([4, 8, 1]), T.randn([4, 8, 1])), err('ERR_SHAPE', /queries must have 2 dimensions/));
    assert.throws(() => infoNce(q, q, { temperature: 0 }), err('ERR_BAD_INPUT', /temperature must be a positive number, got 0/));
  });
});
