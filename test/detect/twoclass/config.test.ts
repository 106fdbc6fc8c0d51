import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTwoClassTrainConfig, planSteps } from '../../../src/detect/twoclass/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

test('protocol defaults: high-shot 80 epochs, few-shot 1,000 (classifier) / 500 (segmenter) iterations; SGD lr 1e-4 momentum 0.9, no weight decay, batch 8; the losses', () => {
  const high = resolveTwoClassTrainConfig({ task: 'segmenter', protocol: 'high-shot', imageSize: [224, 224] });
  assert.deepEqual(high.length, { unit: 'epochs', epochs: 80 });
  assert.deepEqual(high.checkpointEvery, { unit: 'epochs', every: 1 });
  assert.deepEqual([high.lr, high.momentum, high.weightDecay, high.batchSize, high.seed], [1e-4, 0.9, 0, 8, 0]);
  assert.deepEqual(high.loss, { kind: 'sigmoid-focal', alpha: 0.25, gamma: 2 });
  const cls = resolveTwoClassTrainConfig({ task: 'classifier', protocol: 'few-shot', imageSize: [224, 224] });
  assert.deepEqual(cls.length, { unit: 'iterations', iterations: 1000 });
  assert.deepEqual(cls.checkpointEvery, { unit: 'iterations', every: 100 });
  assert.deepEqual(cls.loss, { kind: 'cross-entropy' });
  assert.deepEqual(resolveTwoClassTrainConfig({ task: 'segmenter', protocol: 'few-shot', imageSize: [224, 224] }).length, { unit: 'iterations', iterations: 500 });
});

test('option errors name the option', () => {
  const bad = (pattern: RegExp) => (e: unknown) => isSpotdiffError(e) && pattern.test(e.message);
  const base = { task: 'classifier', protocol: 'few-shot', imageSize: [32, 32] } as const;
  assert.throws(() => resolveTwoClassTrainConfig({ ...base, epochs: 3 }), bad(/few-shot run is measured in iterations/));
  assert.throws(() => resolveTwoClassTrainConfig({ ...base, protocol: 'high-shot', iterations: 3 }), bad(/high-shot run is measured in epochs/));
  assert.throws(() => resolveTwoClassTrainConfig({ ...base, loss: { kind: 'sigmoid-focal', alpha: 0.25, gamma: 2 } }), bad(/classifier trains with 'cross-entropy' or 'focal'/));
  assert.throws(() => resolveTwoClassTrainConfig({ ...base, task: 'segmenter', loss: { kind: 'cross-entropy' } }), bad(/segmenter trains with 'sigmoid-focal'/));
  assert.throws(() => resolveTwoClassTrainConfig({ ...base, lr: 0 }), bad(/lr must be/));
  assert.throws(() => resolveTwoClassTrainConfig({ ...base, momentum: 1 }), bad(/momentum must be in \[0, 1\)/));
  assert.throws(() => resolveTwoClassTrainConfig({ ...base, batchSize: 2.5 }), bad(/batchSize must be a positive integer/));
  assert.throws(() => resolveTwoClassTrainConfig({ ...base, augment: { cropScale: [0.9, 0.8] } }), bad(/cropScale/));
});

test('step plan: epochs visit every image once per epoch in full batches; iterations cycle through seeded shuffles evenly', () => {
  const epochs = planSteps(resolveTwoClassTrainConfig({ task: 'classifier', protocol: 'high-shot', imageSize: [8, 8], epochs: 3, batchSize: 4 }), 10);
  assert.deepEqual([epochs.totalSteps, epochs.stepsPerEpoch, epochs.checkpointEvery], [6, 2, 2]);
  for (let e = 0; e < 3; e++) {
    const seen = epochs.indices(2 * e, 2 * e + 2);
    assert.equal(new Set(seen).size, 8, `epoch ${e} repeats an image`);
    assert.equal(epochs.epochOf(2 * e + 1), e);
  }
  assert.notDeepEqual(epochs.indices(0, 2), epochs.indices(2, 4));
  const it = planSteps(resolveTwoClassTrainConfig({ task: 'classifier', protocol: 'few-shot', imageSize: [8, 8], iterations: 15, batchSize: 4 }), 10);
  const all = it.indices(0, 15);
  assert.equal(all.length, 60);
  const counts = new Array(10).fill(0) as number[];
  for (const i of all) counts[i]!++;
  assert.deepEqual(counts, new Array(10).fill(6));
  // Any range is the same slice of the whole sequence (what a resume relies on).
  assert.deepEqual(it.indices(7, 11), all.slice(28, 44));
  assert.throws(() => planSteps(resolveTwoClassTrainConfig({ task: 'classifier', protocol: 'few-shot', imageSize: [8, 8], batchSize: 11 }), 10), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});
