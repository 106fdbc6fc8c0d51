import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { createPretrainMethod, METHOD_DEFAULTS, readLoss, SimSiam } from '../../src/pretrain/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { Random } from '../../src/util/random.js';
import { BasicBlock } from '../../src/models/resnet-blocks.js';
import { checkParity, describeParity, runParity, type ParityTolerances } from './parity.js';
import { randomImages } from './fixtures.js';

// SimSiam + SPD (η = 0.1) for two SGD steps against the same steps in PyTorch: ResNet-18 on
// 32×32 views, batch 8, the official projector (2048) and predictor (512), zero-init residual.
// One thread on both sides (helpers/one-thread): with the addon's own libtorch the steps agree
// bit for bit. For other builds: losses to 1e-4 absolute; every compared tensor to 1e-4
// absolute and within 1e-2 of what the two steps changed in it (so that small steps do not
// pass by being small). Batch 8, not 4: with 4 values per BatchNorm channel the two steps
// amplify rounding (another thread count, 1 ulp of one pixel) beyond these tolerances in
// PyTorch alone (see parity.ts); with 8 they stay orders of magnitude below them, and leaving
// out or flipping the SPD term moves the result orders of magnitude above them.
const TOLERANCES: ParityTolerances = { loss: 1e-4, param: 1e-4, change: 1e-2, sameLibrary: 0 };

const COMPARE = [
  'encoder.backbone.conv1.weight',
  'encoder.backbone.bn1.weight',
  'encoder.backbone.bn1.running_mean',
  'encoder.backbone.layer1.0.bn2.weight',
  'encoder.backbone.layer3.0.downsample.0.weight',
  'encoder.backbone.layer4.1.bn2.bias',
  'encoder.backbone.layer4.1.bn2.running_var',
  'encoder.head.0.weight',
  'encoder.head.4.weight',
  'encoder.head.6.weight',
  'encoder.head.7.running_mean',
  'predictor.0.weight',
  'predictor.3.weight',
  'predictor.3.bias',
];

for (const objective of ['cosine', 'cross-entropy'] as const) {
  test(`SimSiam + SPD (${objective}) steps match PyTorch (loss, parameters, running stats) and leak nothing`, (t) => {
    T.manualSeed(7);
    const method = createPretrainMethod({ method: 'simsiam', arch: 'resnet18', viewSize: 32, spd: { eta: 0.1, objective } });
    const images = randomImages(8, 32, 11);
    try {
      const r = runParity(method, {
        images,
        labels: null,
        steps: 2,
        lr: 0.5,
        seed: 5,
        config: { method: 'simsiam', arch: 'resnet18', spd: { eta: 0.1, objective }, dim: 2048, predDim: 512 },
        compare: objective === 'cosine' ? COMPARE : [...COMPARE, 'spd_head.weight', 'spd_head.bias'],
      });
      t.diagnostic(describeParity(r));
      checkParity(r, TOLERANCES);
      for (const l of r.spotdiff) assert.notEqual(l.spd, 0, 'SPD is on');
      assert.ok(r.tensors.filter((c) => c.changed > 1e-4).length >= 10, 'the steps change the compared tensors');
      assert.equal(r.live[1], r.live[0], 'live tensors grew between steps');
    } finally {
      method.module.dispose();
      images.dispose();
    }
  });
}

test('SimSiam: the predictor is its own fixed-lr group; the backbone fc is not trained; defaults are the official ones', () => {
  const method = createPretrainMethod({ method: 'simsiam', arch: 'resnet18', viewSize: 32 }) as SimSiam;
  try {
    const groups = method.parameterGroups();
    assert.deepEqual(groups.map((g) => g.fixedLr), [false, true]);
    assert.equal(groups[1]!.params.length, method.module.predictor.parameters().length);
    const all = new Set(groups.flatMap((g) => g.params));
    for (const p of method.backbone.fc.parameters()) assert.ok(!all.has(p), 'fc is unused by SimSiam');
    assert.equal(all.size, method.module.parameters().length - 2);
    assert.equal(method.config.dim, 2048);
    assert.equal(method.config.predDim, 512);
    assert.deepEqual(method.config.spd, { eta: 0.1, negative: 'smoothblend', objective: 'cosine' });
    // zero-init residual: each block's last BN γ starts at 0
    assert.ok(method.backbone.layer1.layers.every((b) => b instanceof BasicBlock && b.bn2.weight.toFloat32().every((v) => v === 0)));
    assert.equal(METHOD_DEFAULTS.simsiam.baseLr, 0.05);
    const names = [...method.module.stateDict().keys()];
    assert.ok(names.includes('encoder.head.7.running_mean') && !names.includes('encoder.head.7.weight'), 'last projector BN has no affine');
  } finally {
    method.module.dispose();
  }
});

test('SimSiam with η = 0: no SPD views, spd loss 0, total = base', () => {
  const method = createPretrainMethod({ method: 'simsiam', arch: 'resnet18', viewSize: 32, spd: { eta: 0 } });
  const images = randomImages(2, 32, 3);
  try {
    T.tidy(() => {
      const v = method.makeViews(images, null, new Random(1));
      assert.equal(v.spd, null);
      const l = readLoss(method.loss(v));
      assert.equal(l.spd, 0);
      assert.equal(l.total, l.base);
    });
  } finally {
    method.module.dispose();
    images.dispose();
  }
});

test('SimSiam rejects a wrong image batch and SPD views made without SPD with a SpotdiffError', () => {
  const method = createPretrainMethod({ method: 'simsiam', arch: 'resnet18', viewSize: 32 });
  try {
    T.tidy(() => {
      assert.throws(() => method.makeViews(T.zeros([2, 1, 32, 32]), null, new Random(1)), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
      assert.throws(() => method.makeViews(T.zeros([1, 3, 32, 32]), null, new Random(1)), (e) => isSpotdiffError(e, 'ERR_SHAPE') && /at least 2 images/.test(e.message));
      assert.throws(() => method.makeViews(T.zeros([2, 3, 32, 32], { dtype: 'int64' }), null, new Random(1)), (e) => isSpotdiffError(e, 'ERR_DTYPE'));
      const x = T.rand([2, 3, 32, 32]);
      assert.throws(() => method.loss({ first: x, second: null, labels: null, spd: null }), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
      assert.throws(() => method.loss({ first: x, second: x, labels: null, spd: null }), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /eta/.test(e.message));
    });
  } finally {
    method.module.dispose();
  }
});
