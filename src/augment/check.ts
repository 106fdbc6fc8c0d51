import type * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';

const FLOAT_DTYPES: readonly string[] = ['float32', 'float64', 'float16', 'bfloat16'];

/**
 * Every augmentation takes a batch of RGB images [N, 3, H, W] with float values in [0, 1]
 * (before ImageNet normalisation). The range is not checked: that would cost a device sync per
 * call, and values outside it are only clamped by the colour operations, as torchvision does.
 */
export function checkImages(fn: string, images: T.Tensor): void {
  if (images.rank !== 4 || images.shape[1] !== 3) {
    throw new SpotdiffError('ERR_SHAPE', `${fn}: images must be a batch [N, 3, H, W] of RGB images, got shape [${images.shape.join(', ')}]`);
  }
  if (!FLOAT_DTYPES.includes(images.dtype)) {
    throw new SpotdiffError('ERR_DTYPE', `${fn}: images must hold floating-point values in [0, 1], got ${images.dtype} (divide 8-bit pixels by 255 first)`);
  }
  if (images.shape[0] === 0 || images.shape[2] === 0 || images.shape[3] === 0) {
    throw new SpotdiffError('ERR_SHAPE', `${fn}: empty batch or image, shape [${images.shape.join(', ')}]`);
  }
}

/** A per-image parameter list must have one entry per image. */
export function checkPerImage(fn: string, what: string, count: number, images: T.Tensor): void {
  if (count !== images.shape[0]) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${fn}: ${count} ${what} for a batch of ${images.shape[0]} images`);
  }
}

/** A finite number inside [lo, hi]. */
export function checkRange(fn: string, what: string, value: number, lo: number, hi: number): void {
  if (!Number.isFinite(value) || value < lo || value > hi) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${fn}: ${what} must be in [${lo}, ${hi}], got ${value}`);
  }
}

/** An ordered pair [lo, hi] with bounds inside [min, max]. */
export function checkInterval(fn: string, what: string, interval: readonly [number, number], min: number, max: number): void {
  const [lo, hi] = interval;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi || lo < min || hi > max) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${fn}: ${what} must be an interval [lo, hi] inside [${min}, ${max}], got [${lo}, ${hi}]`);
  }
}
