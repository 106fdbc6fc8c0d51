import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import * as A from '../../src/augment/index.js';
import { Random } from '../../src/util/random.js';
import { randomImages } from './fixtures.js';

test('every augmentation frees its intermediates: only the returned tensors stay alive', () => {
  const images = randomImages(2, 3, 64, 72);
  const rng = new Random(1);
  const runs: [string, () => unknown][] = [
    ['smoothBlend', () => A.smoothBlend(images, rng)],
    ['smoothBlend zero', () => A.smoothBlend(images, rng, { fill: 'zero' })],
    ['cutPaste', () => A.cutPaste(images, rng)],
    ['cutPasteScar', () => A.cutPasteScar(images, rng)],
    ['weakAugment', () => A.weakAugment(images, rng)],
    ['strongAugment', () => A.strongAugment(images, rng, [32, 32])],
    ['colorJitter', () => A.colorJitter(images, rng, A.STRONG_AUGMENT.jitter)],
    ['normalizeImages', () => A.normalizeImages(images)],
    ['gaussianBlurImages', () => A.gaussianBlurImages(images, [1, null, 2])],
    ['previewAugment', () => A.previewAugment(images, 'smoothblend', rng)],
  ];
  for (const [name, run] of runs) {
    const before = T.liveTensorCount();
    const result = run();
    A.checkImages('test', images);
    T.dispose(result);
    assert.equal(T.liveTensorCount(), before, `${name} leaked ${T.liveTensorCount() - before} tensors`);
  }
});

test('a float64 batch stays float64 through every augmentation', () => {
  const images = T.toDtype(randomImages(3, 2, 48, 48), 'float64');
  const rng = new Random(2);
  for (const out of [A.smoothBlend(images, rng).images, A.cutPasteScar(images, rng).images, A.strongAugment(images, rng).images, A.normalizeImages(images)]) {
    assert.equal(out.dtype, 'float64');
  }
});
