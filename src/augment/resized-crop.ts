import * as T from '../tensor/index.js';
import type { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import { checkImages, checkPerImage } from './check.js';
import type { Box } from './patch.js';

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 draws of an area fraction in `scale`
 * and a log-uniform aspect ratio (width/height) in `ratio`; the first that fits the image wins,
 * at a uniform position. Otherwise the centre crop of the whole image clipped to `ratio`.
 */
export function sampleResizedCrop(rng: Random, height: number, width: number, scale: readonly [number, number], ratio: readonly [number, number]): Box {
  const area = height * width;
  const [logLo, logHi] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let [h, w] = [height, width];
  if (inRatio < ratio[0]) h = Math.round(width / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(height * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

// float32 neighbours of a float32 value: its bits ±k, read back.
const bits = new Int32Array(1);
const asFloat = new Float32Array(bits.buffer);
function float32Step(x: number, k: number): number {
  asFloat[0] = x;
  bits[0] = (bits[0] as number) + (x >= 0 ? k : -k);
  return asFloat[0] as number;
}

/**
 * grid_sample's normalised coordinate (align_corners=False) for input pixel coordinate t on an
 * axis of `size` pixels: (2t + 1)/size − 1, rounded to float32, then nudged by a few ulps to the
 * value whose unnormalisation in float32 lands nearest t and inside [lo, hi], so that the
 * crop's edge pixels lend no weight to a neighbour outside the crop, and integer t (a crop of
 * its own size) is hit exactly where float32 can (t ≥ 2 or so). The unnormalisation is
 * libtorch's vectorised CPU kernel's, fma(g + 1, size/2, −0.5) (CUDA's differs by an ulp).
 */
function gridCoordinate(t: number, size: number, lo: number, hi: number): number {
  const f = Math.fround;
  const half = f(size / 2);
  // The product of two float32 values is exact in float64, so one fround is the fused rounding.
  const unnormalise = (g: number): number => f(f(g + 1) * half - 0.5);
  const g0 = f((2 * t + 1) / size - 1);
  let best = g0;
  let bestCost = Infinity;
  for (let k = -4; k <= 4; k++) {
    const g = float32Step(g0, k);
    const x = unnormalise(g);
    const cost = Math.abs(x - t) + (x < lo || x > hi ? 1 : 0);
    if (cost < bestCost) [best, bestCost] = [g, cost];
  }
  return best;
}

/**
 * One axis of the crops: for each image and output pixel j, the grid coordinate of the input
 * point interpolate(align_corners=False) samples inside the crop [start, start + length):
 * start + clamp((j + 0.5)·length/out − 0.5, 0, length − 1). interpolate clamps to the crop, not
 * the image, so the clamp is done here; flipped images take the coordinates in reverse.
 */
function axisGrid(starts: readonly number[], lengths: readonly number[], out: number, size: number, flips: readonly boolean[] | null): Float32Array {
  const grid = new Float32Array(starts.length * out);
  starts.forEach((start, n) => {
    const length = lengths[n] as number;
    const [lo, hi] = [start, start + length - 1];
    // interpolate's own rounding: a float32 scale, the source index in double rounded to float32.
    const scale = Math.fround(length / out);
    for (let j = 0; j < out; j++) {
      const src = Math.min(Math.max(Math.fround(scale * (j + 0.5) - 0.5), 0), length - 1);
      grid[n * out + (flips?.[n] ? out - 1 - j : j)] = gridCoordinate(start + src, size, lo, hi);
    }
  });
  return grid;
}

function checkBoxes(boxes: readonly Box[], height: number, width: number): void {
  for (const b of boxes) {
    const ok = [b.top, b.left, b.height, b.width].every(Number.isInteger) && b.top >= 0 && b.left >= 0 && b.height > 0 && b.width > 0;
    if (!ok || b.top + b.height > height || b.left + b.width > width) {
      throw new SpotdiffError('ERR_BAD_INPUT', `resizedCrops: box ${JSON.stringify(b)} is not inside a ${height}×${width} image`);
    }
  }
}

/**
 * Crops each image to its box and resizes it to size [h, w] by bilinear interpolation
 * (align_corners=False, no antialiasing: torchvision's resized_crop on tensors), then mirrors
 * the images whose `flips` entry is true. On CUDA the whole batch is one grid_sample
 * (resizedCropsBatched); on the CPU, libtorch's separable interpolate per image is about 3×
 * faster than its grid_sample, so the CPU keeps that loop (resizedCropsPerImage). Both give the
 * same images to float32 rounding of the sampling points.
 */
export function resizedCrops(images: T.Tensor, boxes: readonly Box[], size: readonly [number, number], flips?: readonly boolean[]): T.Tensor {
  return images.device === 'cpu' ? resizedCropsPerImage(images, boxes, size, flips) : resizedCropsBatched(images, boxes, size, flips);
}

function checkCropArgs(images: T.Tensor, boxes: readonly Box[], flips: readonly boolean[] | undefined): void {
  checkImages('resizedCrops', images);
  checkPerImage('resizedCrops', 'crop boxes', boxes.length, images);
  if (flips !== undefined) checkPerImage('resizedCrops', 'flips', flips.length, images);
  checkBoxes(boxes, images.shape[2] as number, images.shape[3] as number);
}

/** resizedCrops one image at a time: narrow to the box, interpolate, flip. */
export function resizedCropsPerImage(images: T.Tensor, boxes: readonly Box[], size: readonly [number, number], flips?: readonly boolean[]): T.Tensor {
  checkCropArgs(images, boxes, flips);
  return T.tidy(() =>
    T.cat(
      boxes.map((b, n) => {
        const crop = T.narrow(T.narrow(T.narrow(images, 0, n, 1), 2, b.top, b.height), 3, b.left, b.width);
        const resized = b.height === size[0] && b.width === size[1] ? crop : T.interpolate(crop, [size[0], size[1]], 'bilinear', false);
        return flips?.[n] ? T.flip(resized, [3]) : resized;
      }),
      0,
    ),
  );
}

/**
 * resizedCrops as one grid_sample over the batch: each output pixel's sampling point is where
 * interpolate on the cropped image reads it (clamped to the crop, see axisGrid). float32
 * sampling points sit within ~ulp(size)/2 of interpolate's (4e-6 px up to 128 px, 8e-6 px up
 * to 256 px), so the images agree to that times the difference between neighbouring pixels.
 */
export function resizedCropsBatched(images: T.Tensor, boxes: readonly Box[], size: readonly [number, number], flips?: readonly boolean[]): T.Tensor {
  checkCropArgs(images, boxes, flips);
  const [n, height, width] = [images.shape[0] as number, images.shape[2] as number, images.shape[3] as number];
  const [outH, outW] = size;
  const xs = axisGrid(boxes.map((b) => b.left), boxes.map((b) => b.width), outW, width, flips ?? null);
  const ys = axisGrid(boxes.map((b) => b.top), boxes.map((b) => b.height), outH, height, null);
  return T.tidy(() => {
    // grid_sample runs in float32 (float64 inputs in float64); half-precision inputs come back in their dtype.
    const dtype = images.dtype === 'float64' ? 'float64' : 'float32';
    const opts = { dtype, device: images.device } as const;
    const gx = T.expand(T.tensor(xs, [n, 1, outW, 1], opts), [n, outH, outW, 1]);
    const gy = T.expand(T.tensor(ys, [n, outH, 1, 1], opts), [n, outH, outW, 1]);
    const input = images.dtype === dtype ? images : T.toDtype(images, dtype);
    const out = T.gridSample(input, T.cat([gx, gy], 3), 'bilinear', 'border', false);
    return out.dtype === images.dtype ? out : T.toDtype(out, images.dtype);
  });
}
