import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { Random } from '../../../src/util/random.js';
import { applyPairedAugment, pairedAugment, DEFAULT_AUGMENT, type PairedAugmentParams } from '../../../src/detect/twoclass/index.js';

// Image and mask go through one geometry: a known asymmetric pattern must come out flipped the
// same way in both, and after random resized crops the mask must still be exactly {0, 1} and
// lie where the image's copy of it lies.

const [N, H, W] = [6, 12, 16];

/** Masks with an L shape at a different place per image, and images whose channel 0 is the mask. */
function pattern(): { images: T.Tensor; masks: T.Tensor } {
  const rng = new Random(11);
  const mask = new Float32Array(N * H * W);
  for (let n = 0; n < N; n++) {
    const [top, left] = [1 + n, 2 + n];
    for (let y = top; y < top + 6; y++) mask[n * H * W + y * W + left] = 1;
    for (let x = left; x < left + 5; x++) mask[n * H * W + (top + 5) * W + x] = 1;
  }
  const img = new Float32Array(N * 3 * H * W);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < H * W; p++) img[(n * 3 + c) * H * W + p] = c === 0 ? (mask[n * H * W + p] as number) : rng.uniform(0, 1);
    }
  }
  return { images: T.tensor(img, [N, 3, H, W]), masks: T.tensor(mask, [N, 1, H, W]) };
}

const values = (t: T.Tensor): number[] => Array.from(t.toFloat32());

test('flips: a known pattern comes out mirrored the same way in the image and the mask (whole-image crop)', () => {
  T.tidy(() => {
    const { images, masks } = pattern();
    const full = { top: 0, left: 0, height: H, width: W };
    const cases: [boolean, boolean, number[]][] = [[true, false, [3]], [false, true, [2]], [true, true, [2, 3]], [false, false, []]];
    for (const [hflip, vflip, dims] of cases) {
      const params: PairedAugmentParams[] = Array.from({ length: N }, () => ({ crop: full, hflip, vflip, jitter: null }));
      const out = applyPairedAugment(images, masks, params);
      const want = (x: T.Tensor): T.Tensor => (dims.length === 0 ? x : T.flip(x, dims));
      assert.deepEqual(values(out.images), values(want(images)), `image, hflip ${hflip} vflip ${vflip}`);
      assert.deepEqual(values(out.masks as T.Tensor), values(want(masks)), `mask, hflip ${hflip} vflip ${vflip}`);
    }
  });
});

test('random crops, flips and jitter: masks stay binary and aligned with the image; jitter leaves the mask alone', () => {
  T.tidy(() => {
    const { images, masks } = pattern();
    const noJitter = { ...DEFAULT_AUGMENT, jitterP: 0 };
    const plain = pairedAugment(images, masks, new Random(5), noJitter);
    assert.ok(plain.params.some((p) => p.crop.height !== H || p.crop.width !== W), 'no crop rescaled the image: the test would not exercise interpolation');
    assert.ok(plain.params.some((p) => p.vflip) && plain.params.some((p) => p.hflip));
    const m = values(plain.masks as T.Tensor);
    assert.ok(m.every((v) => v === 0 || v === 1), 'a mask value is neither 0 nor 1');
    assert.ok(m.some((v) => v === 1), 'every mask came out empty');
    // Channel 0 of the image was the mask: the same sampling gives the same values, so the same threshold.
    const red = values(T.ge(T.narrow(plain.images, 1, 0, 1), 0.5)).map((v) => (v ? 1 : 0));
    assert.deepEqual(m, red);
    const jittered = applyPairedAugment(
      images,
      masks,
      plain.params.map((p) => ({ ...p, jitter: { order: ['brightness', 'contrast', 'saturation', 'hue'], brightness: 1.3, contrast: 0.8, saturation: 1.1, hue: 0.05 } })),
    );
    assert.deepEqual(values(jittered.masks as T.Tensor), m);
    assert.notDeepEqual(values(jittered.images), values(plain.images));
    // Same seed, same draw.
    assert.deepEqual(pairedAugment(images, masks, new Random(5), noJitter).params, plain.params);
  });
});
