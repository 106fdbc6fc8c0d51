import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { createPretrainMethod, METHOD_DEFAULTS, SimClr } from '../../src/pretrain/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { checkParity, describeParity, runParity, type ParityTolerances } from './parity.js';
import { randomImages } from './fixtures.js';

// SimCLR + SPD (η = 0.1) for two SGD steps against the same steps in PyTorch (NT-Xent written
// out: cosine similarity matrix / τ, self-similarity masked, cross-entropy to the other view):
// ResNet-18 on 32×32 views, batch 8, 128-d projections, τ = 0.1. One thread on both sides;
// tolerances, and why batch 8, as SimSiam's test (at batch 4 another thread count alone moved
// the result past them).
const TOLERANCES: ParityTolerances = { loss: 1e-4, param: 1e-4, change: 1e-2, sameLibrary: 0 };

const COMPARE = [
  'encoder.backbone.conv1.weight',
  'encoder.backbone.bn1.bias',
  'encoder.backbone.layer2.1.bn2.weight',
  'encoder.backbone.layer3.0.downsample.0.weight',
  'encoder.backbone.layer4.0.bn1.running_var',
  'encoder.head.0.weight',
  'encoder.head.0.bias',
  'encoder.head.2.weight',
];

for (const objective of ['cosine', 'cross-entropy'] as const) {
  test(`SimCLR + SPD (${objective}) steps match PyTorch and leak nothing`, (t) => {
    T.manualSeed(13);
    const method = createPretrainMethod({ method: 'simclr', arch: 'resnet18', viewSize: 32, spd: { eta: 0.1, objective } });
    const images = randomImages(8, 32, 14);
    try {
      const r = runParity(method, {
        images,
        labels: null,
        steps: 2,
        lr: 0.5,
        seed: 7,
        config: { method: 'simclr', arch: 'resnet18', spd: { eta: 0.1, objective }, dim: 128, temperature: 0.1 },
        compare: objective === 'cosine' ? COMPARE : [...COMPARE, 'spd_head.weight', 'spd_head.bias'],
      });
      t.diagnostic(describeParity(r));
      checkParity(r, TOLERANCES);
      for (const l of r.spotdiff) assert.notEqual(l.spd, 0, 'SPD is on');
      assert.ok(r.tensors.filter((c) => c.changed > 1e-4).length >= 6, 'the steps change the compared tensors');
      assert.equal(r.live[1], r.live[0], 'live tensors grew between steps');
    } finally {
      method.module.dispose();
      images.dispose();
    }
  });
}

test('SimCLR: defaults (τ 0.1, 128-d, weight decay 1e-6, SGD in place of LARS) and one trained group without the backbone fc', () => {
  const method = createPretrainMethod({ method: 'simclr', arch: 'resnet18', viewSize: 32 }) as SimClr;
  try {
    assert.equal(method.config.temperature, 0.1);
    assert.equal(method.config.dim, 128);
    assert.equal(METHOD_DEFAULTS.simclr.weightDecay, 1e-6);
    assert.equal(METHOD_DEFAULTS.simclr.baseLr, 0.3);
    const groups = method.parameterGroups();
    assert.equal(groups.length, 1);
    assert.equal(groups[0]!.params.length, method.module.parameters().length - 2);
    const custom = createPretrainMethod({ method: 'simclr', arch: 'resnet18', viewSize: 32, temperature: 0.5 }) as SimClr;
    assert.equal(custom.config.temperature, 0.5);
    custom.module.dispose();
    assert.throws(() => createPretrainMethod({ method: 'simclr', arch: 'resnet18', temperature: 0 }), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
  } finally {
    method.module.dispose();
  }
});
