import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { applyGlobalAugment, sampleGlobalAugment, strongAugment, weakAugment, STRONG_AUGMENT, WEAK_AUGMENT } from '../../src/augment/global.js';
import { resizedCrops, resizedCropsBatched } from '../../src/augment/resized-crop.js';
import { applyColorJitter } from '../../src/augment/color-jitter.js';
import { gaussianBlurImages } from '../../src/augment/gaussian-blur.js';
import { smoothBlend, sampleSmoothBlend } from '../../src/augment/smooth-blend.js';
import { cutPaste, sampleCutPaste } from '../../src/augment/cutpaste.js';
import type { Box } from '../../src/augment/patch.js';
import { Random } from '../../src/util/random.js';
import { maxAbsDiff, randomImages } from './fixtures.js';
import { blurPerImage, globalAugmentPerImage, jitterPerImage, resizedCropsPerImage } from './per-image.js';

// The batched views against the per-image reference (test/augment/per-image.ts), on noise
// images up to 128 px: there grid_sample's float32 sampling points are within 4e-6 px of
// interpolate's, so even neighbouring pixels that differ by 1 stay within 1e-5.
const TOL = 1e-5;
const images = randomImages(21, 8, 96, 120);
const close = (a: T.Tensor, b: T.Tensor): number => {
  assert.deepEqual(a.shape, b.shape);
  return maxAbsDiff(a.toFloat32(), b.toFloat32());
};

test('batched crops and flips equal crop-then-interpolate-then-flip per image to 1e-5, also at the crop edges', () => {
  const rng = new Random(3);
  const drawn = Array.from({ length: 8 }, () => sampleGlobalAugment(rng, 96, 120, STRONG_AUGMENT));
  // Small crops blown up (interpolate clamps to the crop there, not the image), crops on the
  // image's edges, a 1-pixel column, a crop of the output's own size, and the drawn crops.
  const edgy: Box[] = [
    { top: 40, left: 50, height: 3, width: 2 },
    { top: 0, left: 0, height: 96, width: 120 },
    { top: 90, left: 110, height: 6, width: 10 },
    { top: 10, left: 60, height: 50, width: 1 },
    { top: 5, left: 7, height: 40, width: 48 },
  ];
  for (const [boxes, flips] of [
    [drawn.map((d) => d.crop), drawn.map((d) => d.flip)],
    [[...edgy, ...drawn.slice(0, 3).map((d) => d.crop)], [true, false, true, false, true, false, true, true]],
  ] as const) {
    for (const size of [[40, 48], [112, 100]] as const) {
      const d = close(resizedCropsBatched(images, boxes, size, flips), resizedCropsPerImage(images, boxes, size, flips));
      assert.ok(close(resizedCrops(images, boxes, size, flips), resizedCropsPerImage(images, boxes, size, flips)) <= TOL);
      assert.ok(d <= TOL, `size ${size}: ${d}`);
    }
  }
});

test('batched jitter and per-image-σ blur equal the same steps image by image to 1e-5', () => {
  const rng = new Random(4);
  const drawn = Array.from({ length: 8 }, () => sampleGlobalAugment(rng, 96, 120, STRONG_AUGMENT));
  const jitters = drawn.map((d, i) => (i === 2 ? null : d.jitter));
  assert.ok(maxAbsDiff(applyColorJitter(images, jitters).toFloat32(), jitterPerImage(images, jitters).toFloat32()) <= TOL);
  const sigmas = [0.3, null, 2, 1.1, 0.1, null, 1.7, 0.6];
  assert.ok(maxAbsDiff(gaussianBlurImages(images, sigmas).toFloat32(), blurPerImage(images, sigmas).toFloat32()) <= TOL);
});

test('the batched global pipeline equals torchvision\'s order per image (crop, jitter, grayscale, blur, flip) to 1e-5', () => {
  // Smaller images: contrast, saturation and hue scale the crop's rounding by up to ~2.
  const images = randomImages(22, 8, 48, 60);
  for (const [seed, config] of [[5, STRONG_AUGMENT], [6, WEAK_AUGMENT]] as const) {
    const rng = new Random(seed);
    const params = Array.from({ length: 8 }, () => sampleGlobalAugment(rng, 48, 60, config));
    assert.ok(params.some((p) => p.flip) && params.some((p) => !p.flip));
    const d = close(applyGlobalAugment(images, params, [40, 36]), globalAugmentPerImage(images, params, [40, 36]));
    assert.ok(d <= TOL, `${d}`);
  }
});

test('same seed, same draws: the batched augmentations draw each image\'s parameters in the per-image order, and no more', () => {
  const perImage = (seed: number, draw: (rng: Random) => unknown): { params: unknown[]; next: number } => {
    const rng = new Random(seed);
    return { params: Array.from({ length: 8 }, () => draw(rng)), next: rng.uint32() };
  };
  const check = (seed: number, run: (rng: Random) => { params: unknown[] }, draw: (rng: Random) => unknown): void => {
    const rng = new Random(seed);
    const got = run(rng).params;
    const want = perImage(seed, draw);
    assert.deepEqual(got, want.params);
    assert.equal(rng.uint32(), want.next, 'the generator is left where the per-image draws leave it');
  };
  check(7, (r) => strongAugment(images, r, [32, 32]), (r) => sampleGlobalAugment(r, 96, 120, STRONG_AUGMENT));
  check(8, (r) => weakAugment(images, r, [32, 32]), (r) => sampleGlobalAugment(r, 96, 120, WEAK_AUGMENT));
  check(9, (r) => ({ params: smoothBlend(images, r).patches }), (r) => sampleSmoothBlend(r, 96, 120));
  check(10, (r) => ({ params: cutPaste(images, r).patches }), (r) => sampleCutPaste(r, 96, 120));
});
