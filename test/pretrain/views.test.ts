import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { createPretrainMethod, makePretrainViews, resizeImages, SPD_DEFAULTS, type PretrainViews } from '../../src/pretrain/index.js';
import { normalizeImages } from '../../src/augment/index.js';
import { Random } from '../../src/util/random.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { randomImages } from './fixtures.js';

const all = (v: PretrainViews): T.Tensor[] => [v.first, ...(v.second ? [v.second] : []), ...(v.spd ? [v.spd.anchor, v.spd.positive, v.spd.negative] : [])];
const same = (a: T.Tensor, b: T.Tensor): boolean => a.shape.join() === b.shape.join() && a.toFloat32().every((x, i) => x === b.toFloat32()[i]);

test('makeViews: same seed, same views; another seed, other views; shapes [N, 3, size, size]', () => {
  const images = randomImages(3, 40, 1);
  const recipe = { kind: 'two-strong' as const, size: 24, spd: { ...SPD_DEFAULTS } };
  try {
    T.tidy(() => {
      const a = makePretrainViews('test', recipe, images, null, new Random(9));
      const b = makePretrainViews('test', recipe, images, null, new Random(9));
      const c = makePretrainViews('test', recipe, images, null, new Random(10));
      for (const t of all(a)) assert.deepEqual([...t.shape], [3, 3, 24, 24]);
      all(a).forEach((t, i) => assert.ok(same(t, all(b)[i]!), `view ${i} differs for the same seed`));
      assert.ok(!same(a.first, c.first) && !same(a.spd!.negative, c.spd!.negative));
      assert.ok(!same(a.first, a.second!), 'the two strong views differ');
      assert.equal(a.labels, null);
    });
  } finally {
    images.dispose();
  }
});

test('SPD views: the anchor is the resized image; the negative differs from the positive only in a small patch', () => {
  const images = randomImages(4, 32, 2);
  try {
    T.tidy(() => {
      const v = makePretrainViews('test', { kind: 'two-strong', size: 32, spd: { ...SPD_DEFAULTS } }, images, null, new Random(3));
      assert.ok(same(v.spd!.anchor, normalizeImages(resizeImages(images, 32))));
      for (let i = 0; i < 4; i++) {
        const changed = T.tidy(() => T.sum(T.gt(T.amax(T.abs(T.sub(T.select(v.spd!.positive, 0, i), T.select(v.spd!.negative, 0, i))), 0), 0)).item());
        // SmoothBlend pastes 0.5–1 % of the area with fill 'image': at most 10 of 1024 pixels change
        assert.ok(changed > 0 && changed <= 11, `image ${i}: ${changed} pixels differ`);
      }
      const cut = makePretrainViews('test', { kind: 'two-strong', size: 32, spd: { ...SPD_DEFAULTS, negative: 'cutpaste' } }, images, null, new Random(3));
      // the base views and the weak positive do not depend on the negative's kind
      assert.ok(same(cut.first, v.first) && same(cut.spd!.positive, v.spd!.positive));
      assert.ok(!same(cut.spd!.negative, v.spd!.negative));
    });
  } finally {
    images.dispose();
  }
});

test('η = 0: no SPD views, and the base views are those drawn with SPD on', () => {
  const images = randomImages(2, 32, 4);
  try {
    T.tidy(() => {
      const on = makePretrainViews('test', { kind: 'two-strong', size: 32, spd: { ...SPD_DEFAULTS } }, images, null, new Random(5));
      const off = makePretrainViews('test', { kind: 'two-strong', size: 32, spd: { ...SPD_DEFAULTS, eta: 0 } }, images, null, new Random(5));
      assert.equal(off.spd, null);
      assert.ok(same(on.first, off.first) && same(on.second!, off.second!));
    });
  } finally {
    images.dispose();
  }
});

test('supervised views: one crop-and-flip view, labels as int64 copies', () => {
  const images = randomImages(2, 32, 6);
  try {
    T.tidy(() => {
      const labels = T.tensor(Int32Array.of(1, 0));
      const v = makePretrainViews('test', { kind: 'supervised', size: 16, spd: { ...SPD_DEFAULTS } }, images, labels, new Random(5));
      assert.equal(v.second, null);
      assert.deepEqual([...v.first.shape], [2, 3, 16, 16]);
      assert.equal(v.labels!.dtype, 'int64');
      assert.deepEqual(Array.from(v.labels!.data() as BigInt64Array, Number), [1, 0]);
      v.labels!.dispose();
      assert.ok(!labels.isDisposed, 'the caller keeps its labels');
    });
  } finally {
    images.dispose();
  }
});

test('makeViews leaks nothing', () => {
  const method = createPretrainMethod({ method: 'simsiam', arch: 'resnet18', viewSize: 32 });
  const images = randomImages(2, 32, 7);
  try {
    const before = T.liveTensorCount();
    for (let s = 0; s < 3; s++) {
      T.tidy(() => {
        method.makeViews(images, null, new Random(s));
      });
    }
    assert.equal(T.liveTensorCount(), before);
  } finally {
    method.module.dispose();
    images.dispose();
  }
});

test('makeViews reports bad images as SpotdiffErrors', () => {
  T.tidy(() => {
    const recipe = { kind: 'two-strong' as const, size: 32, spd: { ...SPD_DEFAULTS } };
    assert.throws(() => makePretrainViews('m', recipe, T.zeros([2, 3, 32]), null, new Random(1)), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    assert.throws(() => makePretrainViews('m', recipe, T.zeros([2, 4, 32, 32]), null, new Random(1)), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    assert.throws(() => makePretrainViews('m', recipe, T.zeros([1, 3, 32, 32]), null, new Random(1)), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
  });
});
