import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { armFolder, planAblation, type AblationOptions } from '../../src/pretrain/ablation-options.js';
import { isSpotdiffError } from '../../src/util/errors.js';

const base: AblationOptions = { method: 'simsiam', data: ['d'], backbone: 'resnet18', epochs: 2, batchSize: 4, evalData: 'e', out: 'o' };

test('planAblation: two runs with the same seed, size and data, η 0 and η, in folders named after η', () => {
  const plan = planAblation({ ...base, seed: 3, size: 64, eta: 0.05, init: 'w.pth' });
  const { withoutSpd, withSpd } = plan.arms;
  assert.equal(withoutSpd.dir, join(resolve('o'), 'no-spd'));
  assert.equal(withSpd.dir, join(resolve('o'), 'spd-eta0.05'));
  assert.deepEqual(withoutSpd.pretrain.spd, { eta: 0 });
  assert.deepEqual(withSpd.pretrain.spd, { eta: 0.05 });
  const { spd: _a, out: _b, ...same } = withoutSpd.pretrain;
  const { spd: _c, out: _d, ...sameToo } = withSpd.pretrain;
  assert.deepEqual(same, sameToo);
  assert.deepEqual([same.seed, same.size, same.init, same.epochs, same.batchSize], [3, 64, 'w.pth', 2, 4]);
  assert.equal(plan.detector, 'padim');
  assert.equal(planAblation(base).eta, 0.1);
  assert.equal(armFolder(0.1), 'spd-eta0.1');
});

test('planAblation refuses η ≤ 0, an unknown or 2-class detector, empty objects and bad pre-training options, as usage errors', () => {
  const usage = (re: RegExp) => (e: unknown) => isSpotdiffError(e, 'ERR_USAGE') && re.test(e.message);
  assert.throws(() => planAblation({ ...base, eta: 0 }), usage(/--eta/));
  assert.throws(() => planAblation({ ...base, eta: Number.NaN }), usage(/--eta/));
  assert.throws(() => planAblation({ ...base, detector: 'knn' as 'padim' }), usage(/--detector/));
  assert.throws(() => planAblation({ ...base, detector: 'segmenter' }), usage(/--detector must be a 1-class detector, one of padim, patchcore/));
  assert.throws(() => planAblation({ ...base, objects: [] }), usage(/--objects/));
  assert.throws(() => planAblation({ ...base, backbone: 'vgg16' }), usage(/backbone/));
  assert.throws(() => planAblation({ ...base, batchSize: 1 }), usage(/batch size/));
});
