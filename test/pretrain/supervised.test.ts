import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { createPretrainMethod, readLoss, Supervised } from '../../src/pretrain/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { Random } from '../../src/util/random.js';
import { checkParity, describeParity, runParity, type ParityTolerances } from './parity.js';
import { randomImages } from './fixtures.js';

// Supervised pre-training + SPD's auxiliary perturbed-or-not head (η = 0.1) for two SGD steps
// against the same steps in PyTorch (torchvision's ResNet-18 with 3 classes, nn.Linear(512, 2)
// on its pooled features): 32×32 views, batch 8. One thread on both sides; tolerances, and
// why batch 8, as SimSiam's test (at batch 4 two intra-op threads instead of one moved the
// steps past them in PyTorch alone).
const TOLERANCES: ParityTolerances = { loss: 1e-4, param: 1e-4, change: 1e-2, sameLibrary: 0 };

test('supervised + SPD head steps match PyTorch and leak nothing', (t) => {
  T.manualSeed(17);
  const method = createPretrainMethod({ method: 'supervised', arch: 'resnet18', viewSize: 32, numClasses: 3 });
  const images = randomImages(8, 32, 15);
  const labels = T.tensor(BigInt64Array.of(0n, 2n, 1n, 2n, 1n, 0n, 2n, 1n));
  try {
    const r = runParity(method, {
      images,
      labels,
      steps: 2,
      lr: 0.1,
      seed: 8,
      config: { method: 'supervised', arch: 'resnet18', spd: { eta: 0.1, objective: 'cross-entropy' }, numClasses: 3 },
      compare: [
        'backbone.conv1.weight',
        'backbone.bn1.weight',
        'backbone.layer1.1.conv2.weight',
        'backbone.layer3.0.downsample.1.running_mean',
        'backbone.layer4.1.bn2.weight',
        'backbone.fc.weight',
        'backbone.fc.bias',
        'spd_head.weight',
        'spd_head.bias',
      ],
    });
    t.diagnostic(describeParity(r));
    checkParity(r, TOLERANCES);
    for (const l of r.spotdiff) assert.ok(l.spd > 0.1, 'the SPD head is trained');
    assert.ok(r.tensors.filter((c) => c.changed > 1e-4).length >= 7, 'the steps change the compared tensors');
    assert.equal(r.live[1], r.live[0], 'live tensors grew between steps');
  } finally {
    method.module.dispose();
    images.dispose();
    labels.dispose();
  }
});

test('supervised: fc has numClasses outputs, SPD defaults to the cross-entropy head, η = 0 has no head', () => {
  const a = createPretrainMethod({ method: 'supervised', arch: 'resnet18', viewSize: 32, numClasses: 5 }) as Supervised;
  const b = createPretrainMethod({ method: 'supervised', arch: 'resnet18', viewSize: 32, numClasses: 5, spd: { eta: 0 } }) as Supervised;
  try {
    assert.deepEqual([...a.backbone.fc.weight.shape], [5, 512]);
    assert.equal(a.config.spd.objective, 'cross-entropy');
    assert.deepEqual([...a.module.spdHead!.weight.shape], [2, 512]);
    assert.equal(b.module.spdHead, null);
    const images = randomImages(2, 32, 1);
    T.tidy(() => {
      const v = b.makeViews(images, T.tensor(BigInt64Array.of(4n, 0n)), new Random(2));
      assert.equal(v.spd, null);
      const l = readLoss(b.loss(v));
      assert.equal(l.spd, 0);
      assert.equal(l.total, l.base);
    });
    images.dispose();
  } finally {
    a.module.dispose();
    b.module.dispose();
  }
});

test('supervised: missing, misshapen or out-of-range labels and a cosine SPD are SpotdiffErrors', () => {
  const method = createPretrainMethod({ method: 'supervised', arch: 'resnet18', viewSize: 32, numClasses: 3 });
  try {
    T.tidy(() => {
      const x = T.rand([2, 3, 32, 32]);
      const rng = new Random(1);
      assert.throws(() => method.makeViews(x, null, rng), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /label/.test(e.message));
      assert.throws(() => method.makeViews(x, T.tensor(BigInt64Array.of(0n, 1n, 2n)), rng), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
      assert.throws(() => method.makeViews(x, T.tensor(BigInt64Array.of(0n, 3n)), rng), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /class 3/.test(e.message));
      assert.throws(() => method.makeViews(x, T.tensor([0, 1]), rng), (e) => isSpotdiffError(e, 'ERR_DTYPE'));
      assert.throws(() => method.makeViews(T.rand([2, 32, 32]), T.tensor(BigInt64Array.of(0n, 1n)), rng), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
      assert.throws(() => method.loss({ first: x, second: null, labels: null, spd: null }), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
    });
  } finally {
    method.module.dispose();
  }
  assert.throws(() => createPretrainMethod({ method: 'supervised', arch: 'resnet18' }), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /numClasses/.test(e.message));
  assert.throws(
    () => createPretrainMethod({ method: 'supervised', arch: 'resnet18', numClasses: 2, spd: { objective: 'cosine' } }),
    (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /cross-entropy/.test(e.message),
  );
});
