import * as T from '../../tensor/index.js';
import type { Random } from '../../util/random.js';
import { applyColorJitter, sampleColorJitter, type ColorJitterParams } from '../../augment/color-jitter.js';
import { resizedCrops, sampleResizedCrop } from '../../augment/resized-crop.js';
import { checkImages, checkPerImage } from '../../augment/check.js';
import type { Box } from '../../augment/patch.js';
import { SpotdiffError } from '../../util/errors.js';
import type { PairedAugmentConfig } from './config.js';

/**
 * Image and mask augmented together: the same random resized crop (resized back to the
 * image's size) and the same horizontal and vertical flips for both, colour jitter on the
 * image only. The mask goes through the image's own bilinear crop code and is thresholded at
 * 0.5, so it stays binary and lands on the same pixels as the image. Each image draws its
 * parameters from `rng` on the host (the trainer derives it from (seed, step)).
 */
export interface PairedAugmentParams {
  crop: Box;
  hflip: boolean;
  vflip: boolean;
  jitter: ColorJitterParams | null;
}

export function samplePairedAugment(rng: Random, height: number, width: number, c: PairedAugmentConfig): PairedAugmentParams {
  const crop = sampleResizedCrop(rng, height, width, c.cropScale, c.cropRatio);
  const hflip = rng.chance(c.hflipP);
  const vflip = rng.chance(c.vflipP);
  const jitter = rng.chance(c.jitterP) ? sampleColorJitter(rng, c.jitter) : null;
  return { crop, hflip, vflip, jitter };
}

const flags = (on: readonly boolean[], device: T.Device): T.Tensor =>
  T.tensor(Uint8Array.from(on, (f) => (f ? 1 : 0)), [on.length, 1, 1, 1], { dtype: 'bool', device });

/** Crop + resize back + flips, the same for every tensor given ([N, C, H, W], C = 3). */
function geometry(x: T.Tensor, params: readonly PairedAugmentParams[]): T.Tensor {
  const size: [number, number] = [x.shape[2] as number, x.shape[3] as number];
  const cropped = resizedCrops(x, params.map((p) => p.crop), size, params.map((p) => p.hflip));
  if (!params.some((p) => p.vflip)) return cropped;
  return T.where(flags(params.map((p) => p.vflip), x.device), T.flip(cropped, [2]), cropped);
}

/**
 * Applies given parameters to images [N, 3, H, W] in [0, 1] and masks [N, 1, H, W] in {0, 1}
 * (or null); returns both at the input size.
 */
export function applyPairedAugment(images: T.Tensor, masks: T.Tensor | null, params: readonly PairedAugmentParams[]): { images: T.Tensor; masks: T.Tensor | null } {
  checkImages('pairedAugment', images);
  checkPerImage('pairedAugment', 'parameter sets', params.length, images);
  if (masks !== null) {
    const [n, c, h, w] = masks.shape;
    if (masks.rank !== 4 || c !== 1 || n !== images.shape[0] || h !== images.shape[2] || w !== images.shape[3]) {
      throw new SpotdiffError('ERR_SHAPE', `pairedAugment: masks must be [${images.shape[0]}, 1, ${images.shape[2]}, ${images.shape[3]}], got [${masks.shape.join(', ')}]`);
    }
  }
  return T.tidy(() => {
    let x = geometry(images, params);
    if (params.some((p) => p.jitter !== null)) x = applyColorJitter(x, params.map((p) => p.jitter));
    if (masks === null) return { images: x, masks: null };
    // resizedCrops takes RGB batches: the mask rides as three equal channels and comes back as one.
    const m = geometry(T.contiguous(T.expand(T.toDtype(masks, x.dtype), [masks.shape[0] as number, 3, masks.shape[2] as number, masks.shape[3] as number])), params);
    return { images: x, masks: T.toDtype(T.ge(T.narrow(m, 1, 0, 1), 0.5), masks.dtype) };
  });
}

/** Draws each image's parameters from rng and applies them. */
export function pairedAugment(images: T.Tensor, masks: T.Tensor | null, rng: Random, config: PairedAugmentConfig): { images: T.Tensor; masks: T.Tensor | null; params: PairedAugmentParams[] } {
  checkImages('pairedAugment', images);
  const [h, w] = [images.shape[2] as number, images.shape[3] as number];
  const params = Array.from({ length: images.shape[0] as number }, () => samplePairedAugment(rng, h, w, config));
  return { ...applyPairedAugment(images, masks, params), params };
}
