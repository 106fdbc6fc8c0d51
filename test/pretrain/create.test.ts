import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPretrainMethod, METHOD_DEFAULTS, PRETRAIN_METHODS, resolveSpdConfig, scaledLr, type CreatePretrainOptions } from '../../src/pretrain/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';

test('METHOD_DEFAULTS: the published recipes and the linear lr scaling rule', () => {
  assert.deepEqual(Object.keys(METHOD_DEFAULTS).sort(), [...PRETRAIN_METHODS].sort());
  for (const m of PRETRAIN_METHODS) {
    assert.equal(METHOD_DEFAULTS[m].batchSizeRef, 256);
    assert.equal(METHOD_DEFAULTS[m].momentum, 0.9);
  }
  assert.equal(scaledLr('simsiam', 512), 0.1);
  assert.equal(scaledLr('moco', 256), 0.03);
  assert.equal(scaledLr('supervised', 64), 0.025);
  assert.equal(METHOD_DEFAULTS.simsiam.weightDecay, 1e-4);
  assert.equal(METHOD_DEFAULTS.moco.weightDecay, 1e-4);
  assert.equal(METHOD_DEFAULTS.simclr.weightDecay, 1e-6);
});

test('resolveSpdConfig: defaults per method, and bad settings as SpotdiffErrors', () => {
  assert.deepEqual(resolveSpdConfig('moco'), { eta: 0.1, negative: 'smoothblend', objective: 'cosine' });
  assert.deepEqual(resolveSpdConfig('supervised', { eta: 0.2 }), { eta: 0.2, negative: 'smoothblend', objective: 'cross-entropy' });
  assert.deepEqual(resolveSpdConfig('simclr', { negative: 'cutpaste', objective: 'cross-entropy' }), { eta: 0.1, negative: 'cutpaste', objective: 'cross-entropy' });
  for (const bad of [{ eta: -1 }, { eta: Number.NaN }, { negative: 'scar' }, { objective: 'l2' }] as Partial<Record<string, unknown>>[]) {
    assert.throws(() => resolveSpdConfig('simsiam', bad as never), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'), JSON.stringify(bad));
  }
});

test('createPretrainMethod names what is wrong: method, backbone, sizes, MoCo settings', () => {
  const bad: [Partial<CreatePretrainOptions>, RegExp][] = [
    [{ method: 'byol' as never }, /byol.*simsiam, moco, simclr, supervised/],
    [{ arch: 'vgg16' as never }, /vgg16/],
    [{ viewSize: 0 }, /viewSize/],
    [{ method: 'simsiam', dim: 2.5 }, /dim/],
    [{ method: 'moco', queueSize: -4 }, /queueSize/],
    [{ method: 'moco', keyMomentum: 1.5 }, /keyMomentum/],
  ];
  for (const [o, re] of bad) {
    assert.throws(
      () => createPretrainMethod({ method: 'simsiam', arch: 'resnet18', viewSize: 32, ...o }),
      (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && re.test(e.message),
      JSON.stringify(o),
    );
  }
});

test('every method builds, names itself, exports a torchvision ResNet, and is in train mode', () => {
  for (const method of PRETRAIN_METHODS) {
    const m = createPretrainMethod({ method, arch: 'resnet18', viewSize: 32, numClasses: 2, queueSize: 8 });
    try {
      assert.equal(m.name, method);
      assert.equal(m.arch, 'resnet18');
      assert.ok(m.backbone.stateDict().has('layer4.1.bn2.weight') && m.backbone.stateDict().has('fc.weight'));
      const trained = new Set(m.parameterGroups().flatMap((g) => g.params));
      const all = m.module.parameters();
      assert.ok([...trained].every((p) => all.includes(p)), 'parameter groups hold module parameters only');
      assert.ok(m.module.training);
    } finally {
      m.module.dispose();
    }
  }
});
