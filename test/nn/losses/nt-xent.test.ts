import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { ntXent } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { compareWithTorch, type LossCase } from './harness.js';

// SimCLR's add_contrastive_loss (simclr/objective.py) in PyTorch: the self-similarities are
// masked with LARGE_NUM, each half is a softmax cross-entropy over [ab | aa]. SimCLR returns
// loss_a + loss_b; the paper's loss (and spotdiff's) is their mean over the 2N anchors.
const REF = `
LARGE_NUM = 1e9
def ref(x, temperature=0.1, normalize=True):
    h1, h2 = x['z1'], x['z2']
    if normalize:
        h1 = F.normalize(h1, dim=1)
        h2 = F.normalize(h2, dim=1)
    n = h1.shape[0]
    labels = torch.arange(n)
    masks = F.one_hot(torch.arange(n), n).to(h1.dtype)
    logits_aa = h1 @ h1.t() / temperature - masks * LARGE_NUM
    logits_bb = h2 @ h2.t() / temperature - masks * LARGE_NUM
    logits_ab = h1 @ h2.t() / temperature
    logits_ba = h2 @ h1.t() / temperature
    loss_a = F.cross_entropy(torch.cat([logits_ab, logits_aa], 1), labels)
    loss_b = F.cross_entropy(torch.cat([logits_ba, logits_bb], 1), labels)
    return (loss_a + loss_b) / 2
`;

function cases(dtype: 'float32' | 'float64'): LossCase[] {
  const o = { dtype } as const;
  const z1 = T.randn([8, 16], o);
  const z2 = T.add(z1, T.mul(T.randn([8, 16], o), 0.7));
  return [
    { name: 'τ 0.1', inputs: { z1, z2 }, grads: ['z1', 'z2'], run: (x) => ntXent(x.z1!, x.z2!) },
    { name: 'τ 0.5', inputs: { z1, z2 }, grads: ['z1', 'z2'], kwargs: { temperature: 0.5 }, run: (x) => ntXent(x.z1!, x.z2!, { temperature: 0.5 }) },
    {
      name: 'normalize off',
      inputs: { z1: T.mul(T.normalize(z1), 0.8), z2: T.normalize(z2) },
      grads: ['z1', 'z2'],
      kwargs: { temperature: 0.2, normalize: false },
      run: (x) => ntXent(x.z1!, x.z2!, { temperature: 0.2, normalize: false }),
    },
  ];
}

test('ntXent equals SimCLR NT-Xent in PyTorch (value and gradients of both views)', (t) => {
  T.manualSeed(16);
  T.tidy(() => {
    const results = compareWithTorch(REF, [...cases('float64'), ...cases('float32')]);
    t.diagnostic(results.map((r) => `${r.name}: ${r.error.toExponential(1)}`).join('; '));
  });
});

test('ntXent rejects mismatched views and a bad temperature', () => {
  T.tidy(() => {
    const err = (code: string, re: RegExp) => (e: unknown) => isSpotdiffError(e) && e.code === code && re.test(e.message);
    assert.throws(() => ntXent(T.randn([4, 8]), T.randn([5, 8])), err('ERR_SHAPE', /z2 \[5, 8\] must have the shape of z1 \[4, 8\]/));
    assert.throws(() => ntXent(T.randn([4, 8]), T.randn([4, 8]), { temperature: -1 }), err('ERR_BAD_INPUT', /temperature must be a positive number/));
    assert.throws(() => ntXent(T.zeros([4, 8], { dtype: 'int64' }), T.zeros([4, 8], { dtype: 'int64' })), err('ERR_DTYPE', /z1 must be a floating-point tensor/));
  });
});
