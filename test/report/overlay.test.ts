import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { heatmapRgb, maskContour, maskPng, overlayPng, overlayRgb, sharedRange, thresholdMask, type AnomalyMap } from '../../src/report/overlay.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import type { RgbImage } from '../../src/data/image.js';
import type { MaskImage } from '../../src/data/mask.js';

async function decode(png: Uint8Array): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
}

const pixels = (img: { data: Uint8Array }, channels = 3): number[][] => {
  const out: number[][] = [];
  for (let i = 0; i < img.data.length; i += channels) out.push([...img.data.subarray(i, i + channels)]);
  return out;
};

// A 2×2 map; with range [0, 255] a value v picks jet entry v, whose colours are hand-computed in
// colormap.test.ts: jet[0] = (0,0,128), jet[255] = (128,0,0), jet[100] = (35,255,212), jet[200] = (255,119,0).
const map: AnomalyMap = { width: 2, height: 2, data: Float32Array.from([0, 255, 100, 200]) };
const image: RgbImage = { width: 2, height: 2, data: Uint8Array.from([100, 100, 100, 0, 0, 0, 255, 255, 255, 10, 20, 30]) };
const range = { vmin: 0, vmax: 255 };

test('heatmap colours at known map values', () => {
  assert.deepEqual(pixels(heatmapRgb(map, range, 'jet')), [[0, 0, 128], [128, 0, 0], [35, 255, 212], [255, 119, 0]]);
  // The same map on a range twice as wide lands on entries 0, 128, 50, 100: the scale is the caller's.
  const wide = heatmapRgb(map, { vmin: 0, vmax: 510 }, 'jet');
  assert.deepEqual(pixels(wide)[3], [35, 255, 212]);
  // Values beyond the range clamp to the ends.
  const clamped = heatmapRgb({ width: 2, height: 1, data: Float32Array.from([-1e9, 1e9]) }, range, 'jet');
  assert.deepEqual(pixels(clamped), [[0, 0, 128], [128, 0, 0]]);
});

test('overlay blends (1 - alpha)·image + alpha·colour, rounded once (hand-computed)', async () => {
  // alpha 0.5: (100+0)/2, (100+0)/2, (100+128)/2 = 50, 50, 114; (0+128)/2 = 64; (255+212)/2 = 233.5 -> 234;
  // (10+255)/2 = 132.5 -> 133, (20+119)/2 = 69.5 -> 70, 30/2 = 15.
  const half = [[50, 50, 114], [64, 0, 0], [145, 255, 234], [133, 70, 15]];
  assert.deepEqual(pixels(await overlayRgb(image, map, { range, colormap: 'jet' })), half);
  const png = await decode(await overlayPng(image, map, { range, colormap: 'jet' }));
  assert.equal(png.channels, 3);
  assert.deepEqual([png.width, png.height], [2, 2]);
  assert.deepEqual(pixels(png), half);
  // alpha 0.25 on the first pixel: 0.75·100 + 0.25·(0, 0, 128) = 75, 75, 107.
  assert.deepEqual(pixels(await overlayRgb(image, map, { range, colormap: 'jet', alpha: 0.25 }))[0], [75, 75, 107]);
  // clearBelow 150: the pixels with values 0 and 100 keep the image.
  const cleared = pixels(await overlayRgb(image, map, { range, colormap: 'jet', clearBelow: 150 }));
  assert.deepEqual(cleared, [[100, 100, 100], [64, 0, 0], [255, 255, 255], [133, 70, 15]]);
});

test('an image of another size is stretched to the map; maxSide shrinks the result', async () => {
  const red: RgbImage = { width: 6, height: 6, data: new Uint8Array(6 * 6 * 3).fill(0) };
  for (let i = 0; i < 36; i++) red.data[i * 3] = 200;
  const flat: AnomalyMap = { width: 4, height: 2, data: new Float32Array(8).fill(0) };
  const out = await overlayRgb(red, flat, { range, colormap: 'jet' });
  assert.deepEqual([out.width, out.height], [4, 2]);
  for (const p of pixels(out)) assert.deepEqual(p, [100, 0, 64]); // (200+0)/2, 0, (0+128)/2
  const small = await overlayRgb(red, { width: 8, height: 4, data: new Float32Array(32) }, { range, colormap: 'jet', maxSide: 4 });
  assert.deepEqual([small.width, small.height], [4, 2]);
});

function squareMask(size: number, x0: number, y0: number, side: number): MaskImage {
  const data = new Uint8Array(size * size);
  for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) data[y * size + x] = 1;
  return { width: size, height: size, data };
}

const onPixels = (m: Uint8Array, width: number): string[] => [...m].flatMap((v, i) => (v ? [`${i % width},${Math.floor(i / width)}`] : []));

test('contour: the border pixels of the mask, closed at the image edge, widened on request', () => {
  // A 3×3 square at (1..3, 1..3): its 8 border pixels, not the centre.
  const ring = onPixels(maskContour(squareMask(6, 1, 1, 3)), 6);
  assert.deepEqual(ring, ['1,1', '2,1', '3,1', '1,2', '3,2', '1,3', '2,3', '3,3']);
  // A square in the corner is outlined along the image edge too.
  assert.deepEqual(onPixels(maskContour(squareMask(5, 0, 0, 2)), 5), ['0,0', '1,0', '0,1', '1,1']);
  // Width 2 on a 5×5 square: everything but the centre (3, 3) is within 2 steps of outside.
  const wide = onPixels(maskContour(squareMask(7, 1, 1, 5), 2), 7);
  assert.equal(wide.length, 24);
  assert.ok(!wide.includes('3,3'));
});

test('the ground-truth contour is drawn over the overlay in its colour', async () => {
  const size = 6;
  const zero: AnomalyMap = { width: size, height: size, data: new Float32Array(size * size) };
  const grey: RgbImage = { width: size, height: size, data: new Uint8Array(size * size * 3).fill(100) };
  const gt = squareMask(size, 1, 1, 3);
  const out = await decode(await overlayPng(grey, zero, { range, colormap: 'jet', groundTruth: gt, contourColor: [0, 255, 0] }));
  const px = pixels(out);
  const contour = maskContour(gt);
  for (let i = 0; i < size * size; i++) assert.deepEqual(px[i], contour[i] ? [0, 255, 0] : [50, 50, 114], `pixel ${i}`);
  await assert.rejects(
    overlayPng(grey, zero, { range, groundTruth: squareMask(5, 0, 0, 2) }),
    (e) => isSpotdiffError(e, 'ERR_SHAPE') && /5×5/.test(e.message),
  );
});

test('mask at a threshold: >= is a defect (255), below is 0; one grey channel', async () => {
  const m: AnomalyMap = { width: 4, height: 1, data: Float32Array.from([0.1, 0.5, 0.49999, 0.9]) };
  assert.deepEqual([...thresholdMask(m, 0.5).data], [0, 1, 0, 1]);
  const png = await maskPng(m, 0.5);
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.format, meta.channels, meta.depth, meta.width, meta.height], ['png', 1, 'uchar', 4, 1]);
  const grey = async (bytes: Uint8Array): Promise<number[]> => [...(await sharp(bytes).extractChannel(0).raw().toBuffer())];
  assert.deepEqual(await grey(png), [0, 255, 0, 255]);
  assert.deepEqual(await grey(await maskPng(m, 0.95)), [0, 0, 0, 0]);
  assert.throws(() => thresholdMask(m, NaN), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});

test('sharedRange spans a batch; bad maps and ranges are clear errors', () => {
  const a: AnomalyMap = { width: 2, height: 1, data: Float32Array.from([1, 3]) };
  const b: AnomalyMap = { width: 1, height: 2, data: Float32Array.from([-2, 2]) };
  assert.deepEqual(sharedRange([a, b]), { vmin: -2, vmax: 3 });
  assert.deepEqual(sharedRange([{ width: 1, height: 1, data: Float32Array.from([4]) }]), { vmin: 4, vmax: 5 });
  assert.throws(() => sharedRange([]), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
  assert.throws(() => sharedRange([{ width: 2, height: 1, data: Float32Array.from([1, NaN]) }]), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /pixel 1/.test(e.message));
  assert.throws(() => heatmapRgb({ width: 3, height: 1, data: new Float32Array(2) }, range), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
  assert.throws(() => heatmapRgb(a, { vmin: 1, vmax: 1 }), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /vmin < vmax/.test(e.message));
});
