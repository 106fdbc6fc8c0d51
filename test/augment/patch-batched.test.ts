import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { applySmoothBlend, sampleSmoothBlend, smoothBlend, type SmoothBlendPatch } from '../../src/augment/smooth-blend.js';
import { applyCutPaste, cutPaste, cutPasteScar, sampleCutPaste, sampleScar, type CutPastePatch } from '../../src/augment/cutpaste.js';
import { boxPositions, gatherRows, padRows, rowIndex, scatterRows } from '../../src/augment/box-pixels.js';
import type { ColorJitterParams } from '../../src/augment/color-jitter.js';
import { Random } from '../../src/util/random.js';
import { maxAbsDiff, randomImages } from './fixtures.js';
import { cutPastePerImage, smoothBlendPerImage } from './per-image.js';

// SmoothBlend and CutPaste run batched (padded pixel rows, one jitter over the batch, one
// scatter); test/augment/per-image.ts keeps the per-image reference they must equal.
const TOL = 1e-5;
const [N, H, W] = [8, 96, 120];
const images = randomImages(31, N, H, W);
const close = (a: T.Tensor, b: T.Tensor): number => {
  assert.deepEqual(a.shape, b.shape);
  return maxAbsDiff(a.toFloat32(), b.toFloat32());
};

// Strong factors make the contrast mean (over the patch alone) matter; null turns an operation off.
const jitter = (order: ColorJitterParams['order'], brightness: number | null, contrast: number | null, saturation: number | null, hue: number | null): ColorJitterParams => ({
  order,
  brightness,
  contrast,
  saturation,
  hue,
});
const box = (top: number, left: number, height: number, width: number): { top: number; left: number; height: number; width: number } => ({ top, left, height, width });

// Boxes on every edge and corner, a 1×1 and a 1-pixel-wide patch beside large ones (rows padded
// a lot), and a patch pasted onto itself.
const EDGY: SmoothBlendPatch[] = [
  { source: box(0, 0, 9, 10), target: box(87, 110, 9, 10), jitter: jitter(['hue', 'contrast', 'brightness', 'saturation'], 1.3, 0.4, 1.5, 0.3) },
  { source: box(84, 113, 12, 7), target: box(0, 113, 12, 7), jitter: jitter(['brightness', 'saturation', 'contrast', 'hue'], 0.7, 1.8, 0.5, -0.4) },
  { source: box(40, 50, 1, 1), target: box(95, 0, 1, 1), jitter: jitter(['contrast', 'hue', 'saturation', 'brightness'], 1.1, 0.3, null, 0.2) },
  { source: box(0, 60, 96, 1), target: box(0, 0, 96, 1), jitter: jitter(['saturation', 'contrast', 'hue', 'brightness'], null, 0.6, 1.4, null) },
  { source: box(10, 0, 30, 120), target: box(66, 0, 30, 120), jitter: jitter(['hue', 'brightness', 'contrast', 'saturation'], 0.9, 1.5, 0.8, 0.1) },
  { source: box(20, 30, 15, 15), target: box(20, 30, 15, 15), jitter: jitter(['contrast', 'saturation', 'brightness', 'hue'], 1.05, 0.2, 1.2, -0.05) },
  { source: box(50, 100, 46, 20), target: box(0, 0, 46, 20), jitter: jitter(['brightness', 'contrast', 'saturation', 'hue'], null, null, null, null) },
  { source: box(70, 5, 3, 40), target: box(93, 80, 3, 40), jitter: jitter(['hue', 'saturation', 'brightness', 'contrast'], 1.2, 1.1, 0.9, 0.45) },
];

test('gathering padded pixel rows and scattering them back gives the batch bit for bit', () => {
  const rows = padRows(EDGY.map((p) => boxPositions(p.source, W)));
  assert.equal(rows.length, 30 * 120);
  assert.deepEqual(rows.counts, EDGY.map((p) => p.source.height * p.source.width));
  const index = rowIndex(rows, images.device);
  const gathered = gatherRows(images, index);
  assert.deepEqual(gathered.shape, [N, 3, 1, rows.length]);
  // Row 2 is one pixel, (40, 50), repeated over the whole row.
  const pixel = T.narrow(T.narrow(T.narrow(images, 0, 2, 1), 2, 40, 1), 3, 50, 1).toFloat32();
  const row = T.select(gathered, 0, 2).toFloat32();
  for (let c = 0; c < 3; c++) assert.ok(row.slice(c * rows.length, (c + 1) * rows.length).every((v) => v === pixel[c]));
  assert.deepEqual(scatterRows(images, index, gathered).toFloat32(), images.toFloat32());
});

test('batched SmoothBlend equals the per-image reference to 1e-5, drawn and edge patches, both fills, float32 and float64', () => {
  const drawn = smoothBlend(images, new Random(3)).patches;
  for (const patches of [drawn, EDGY]) {
    for (const fill of ['image', 'zero'] as const) {
      for (const x of [images, T.toDtype(images, 'float64')]) {
        const got = applySmoothBlend(x, patches, { fill });
        const want = smoothBlendPerImage(x, patches, 8, fill);
        assert.equal(got.images.dtype, x.dtype);
        const d = close(got.images, want.images);
        assert.ok(d <= TOL, `${fill} ${x.dtype}: ${d}`);
        assert.ok(close(got.alpha, want.alpha) <= 1e-6);
      }
    }
  }
});

test('batched CutPaste equals the per-image reference to 1e-5 (plain, scar, mixed, edge boxes); masks exactly', () => {
  const plain = cutPaste(images, new Random(4)).patches;
  const scars = cutPasteScar(images, new Random(5)).patches;
  const edgy: CutPastePatch[] = EDGY.map((p) => ({ ...p, angle: 0 }));
  const mixed = plain.map((p, i) => (i % 2 === 0 ? p : (scars[i] as CutPastePatch)));
  // A scar in the bottom-right corner: its rotated box touches two edges.
  const corner = sampleScar(new Random(6), H, W);
  const cornered = [...mixed.slice(0, 7), { ...corner, target: { ...corner.target, top: H - corner.target.height, left: W - corner.target.width } }];
  for (const patches of [plain, scars, edgy, mixed, cornered]) {
    const got = applyCutPaste(images, patches);
    const want = cutPastePerImage(images, patches);
    const d = close(got.images, want.images);
    assert.ok(d <= TOL, `${d}`);
    assert.deepEqual(got.mask.toFloat32(), want.mask.toFloat32());
  }
});

test('the draws for a seed are the ones spotdiff drew before the batching (same Random calls, same order)', () => {
  // Recorded from the per-image implementation (commit a455d81), 96×120 images.
  let rng = new Random(12);
  assert.deepEqual([sampleSmoothBlend(rng, 96, 120), sampleSmoothBlend(rng, 96, 120)], [
    { source: box(32, 66, 13, 6), target: box(75, 24, 13, 6), jitter: jitter(['saturation', 'contrast', 'hue', 'brightness'], 1.0977509562801142, 1.0111729950552757, 0.9168341133172783, -0.03668279296856454) },
    { source: box(13, 65, 8, 11), target: box(11, 33, 8, 11), jitter: jitter(['brightness', 'hue', 'saturation', 'contrast'], 0.9546149741236387, 0.991439791402234, 0.9789131456867374, -0.013775233059771644) },
  ]);
  rng = new Random(13);
  assert.deepEqual([sampleCutPaste(rng, 96, 120), sampleScar(rng, 96, 120)], [
    { source: box(34, 3, 39, 22), target: box(57, 43, 39, 22), angle: 0, jitter: jitter(['saturation', 'brightness', 'hue', 'contrast'], 0.9318475702515199, 1.0263678287821203, 1.0556738614045051, -0.03331613911759013) },
    { source: box(37, 54, 13, 8), target: box(48, 15, 16, 15), angle: 38.916868441406606, jitter: jitter(['contrast', 'saturation', 'brightness', 'hue'], 0.9301034256645283, 0.9861872942188676, 1.0846556549924606, -0.0233235474595008) },
  ]);
  // The batched functions draw exactly these, image after image.
  assert.deepEqual(smoothBlend(T.narrow(images, 0, 0, 2), new Random(12)).patches.map((p) => p.source), [box(32, 66, 13, 6), box(13, 65, 8, 11)]);
});

test('bad patches are SpotdiffErrors before any pixel moves', () => {
  const p = EDGY[0] as SmoothBlendPatch;
  const outside = { ...p, target: box(90, 110, 9, 10) };
  assert.throws(() => applySmoothBlend(T.narrow(images, 0, 0, 1), [outside]), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => applySmoothBlend(T.narrow(images, 0, 0, 1), [{ ...p, target: box(0, 0, 9, 11) }]), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => applyCutPaste(T.narrow(images, 0, 0, 1), [{ ...outside, angle: 0 }]), { code: 'ERR_BAD_INPUT' });
  const badOrder = { ...p, jitter: { ...p.jitter, order: ['hue', 'hue', 'brightness', 'saturation'] as ColorJitterParams['order'] } };
  assert.throws(() => applySmoothBlend(T.narrow(images, 0, 0, 1), [badOrder]), { code: 'ERR_BAD_INPUT' });
});
