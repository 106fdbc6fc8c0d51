import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { Linear } from '../../src/nn/index.js';
import { spdCrossEntropy, spdLoss } from '../../src/pretrain/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { gradcheck } from '../helpers/gradcheck.js';

const f64 = (rows: number[][]): T.Tensor => T.tensor(Float64Array.from(rows.flat()), [rows.length, rows[0]!.length]);

test('spdLoss on hand-made vectors: mean over the batch of cos(z, z⁻) − cos(z, z⁺)', () => {
  T.tidy(() => {
    // row 0: z⁺ parallel (cos 1), z⁻ orthogonal (cos 0): 0 − 1 = −1
    // row 1: z⁺ at 45° (cos 1/√2), z⁻ opposite (cos −1): −1 − 1/√2
    // row 2: z⁺ opposite (cos −1), z⁻ parallel but longer (cos 1): 1 + 1 = 2
    const z = f64([[1, 0], [1, 1], [0, 2]]);
    const pos = f64([[3, 0], [1, 0], [0, -1]]);
    const neg = f64([[0, 5], [-2, -2], [0, 7]]);
    const expected = (-1 + (-1 - Math.SQRT1_2) + 2) / 3;
    assert.ok(Math.abs(spdLoss(z, pos, neg).item() - expected) < 1e-12);
    // the best case (z⁺ = z, z⁻ = −z) is −2, the worst +2
    assert.ok(Math.abs(spdLoss(z, z, T.neg(z)).item() + 2) < 1e-12);
    assert.ok(Math.abs(spdLoss(z, T.neg(z), z).item() - 2) < 1e-12);
    // float32 works as well and gives a 0-d tensor
    const l = spdLoss(T.toDtype(z, 'float32'), T.toDtype(pos, 'float32'), T.toDtype(neg, 'float32'));
    assert.deepEqual([...l.shape], []);
    assert.ok(Math.abs(l.item() - expected) < 1e-6);
  });
});

test('spdLoss gradients flow into all three embeddings (finite differences)', () => {
  T.tidy(() => {
    const z = f64([[0.3, -1.2, 0.5], [1.1, 0.4, -0.7]]);
    const pos = f64([[0.2, -0.9, 0.8], [0.6, 0.9, -0.1]]);
    const neg = f64([[-0.4, 0.3, 1.0], [0.5, -0.8, 0.2]]);
    gradcheck('spdLoss', (a, b, c) => spdLoss(a!, b!, c!), [z, pos, neg]);
  });
});

test('spdCrossEntropy: weak views are class 0, perturbed views class 1, averaged over 2N', () => {
  const head = new Linear(3, 2);
  try {
    T.tidy(() => {
      // zero weights, bias [0, b]: every logit pair is (0, b); CE = mean of softplus(b) for class 0 and softplus(−b) for class 1
      T.noGrad(() => {
        T.fillInPlace(head.weight, 0);
        T.copyInPlace(head.bias!, T.tensor([0, 1.5]));
      });
      const fp = T.randn([4, 3]);
      const fn = T.randn([4, 3]);
      const softplus = (x: number): number => Math.log1p(Math.exp(x));
      const expected = (softplus(1.5) + softplus(-1.5)) / 2;
      assert.ok(Math.abs(spdCrossEntropy(head, fp, fn).item() - expected) < 1e-6);
      assert.throws(() => spdCrossEntropy(head, fp, T.randn([3, 3])), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    });
  } finally {
    head.dispose();
  }
});

test('spdLoss rejects mismatched or non-float embeddings with a SpotdiffError', () => {
  T.tidy(() => {
    const z = T.randn([4, 8]);
    assert.throws(() => spdLoss(z, T.randn([4, 7]), z), (e) => isSpotdiffError(e, 'ERR_SHAPE') && /zPos/.test(e.message));
    assert.throws(() => spdLoss(z, z, T.randn([3, 8])), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    assert.throws(() => spdLoss(T.randn([4, 8, 1]), T.randn([4, 8, 1]), T.randn([4, 8, 1])), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    assert.throws(() => spdLoss(z, T.zeros([4, 8], { dtype: 'int64' }), z), (e) => isSpotdiffError(e, 'ERR_DTYPE'));
  });
});
