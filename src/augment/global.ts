import * as T from '../tensor/index.js';
import type { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import { checkImages, checkInterval, checkPerImage, checkRange } from './check.js';
import { applyColorJitter, checkJitterStrength, rgbToGrayscale, sampleColorJitter, type ColorJitterParams, type ColorJitterStrength } from './color-jitter.js';
import { gaussianBlurImages } from './gaussian-blur.js';
import { resizedCrops, sampleResizedCrop } from './resized-crop.js';
import type { Box } from './patch.js';

/**
 * Global (whole-image) augmentation pipelines in the order of MoCo v2 / SimSiam: random
 * resized crop, colour jitter with probability p, grayscale with probability p, Gaussian blur
 * with probability p, horizontal flip. Each image draws its own parameters.
 */
export interface GlobalAugmentConfig {
  /** Crop area as a fraction of the image. */
  cropScale: readonly [number, number];
  /** Crop aspect ratio width/height. */
  cropRatio: readonly [number, number];
  jitter: ColorJitterStrength;
  jitterP: number;
  grayscaleP: number;
  /** Blur σ range in pixels (kernel radius 4σ, reflect borders). */
  blurSigma: readonly [number, number];
  blurP: number;
  flipP: number;
}

const RATIO: readonly [number, number] = [3 / 4, 4 / 3];

/** SPD's weak augmentation, the positive view z⁺ of the anchor. */
export const WEAK_AUGMENT: Readonly<GlobalAugmentConfig> = Object.freeze({
  cropScale: [0.9, 1.0] as const,
  cropRatio: RATIO,
  jitter: Object.freeze({ brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.05 }),
  jitterP: 0.8,
  grayscaleP: 0,
  blurSigma: [0.1, 0.3] as const,
  blurP: 0.5,
  flipP: 0.5,
});

/** MoCo v2 / SimSiam / SimCLR's augmentation. */
export const STRONG_AUGMENT: Readonly<GlobalAugmentConfig> = Object.freeze({
  cropScale: [0.2, 1.0] as const,
  cropRatio: RATIO,
  jitter: Object.freeze({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 }),
  jitterP: 0.8,
  grayscaleP: 0.2,
  blurSigma: [0.1, 2.0] as const,
  blurP: 0.5,
  flipP: 0.5,
});

/** One image's draw (null: that step is skipped). */
export interface GlobalAugmentParams {
  crop: Box;
  jitter: ColorJitterParams | null;
  grayscale: boolean;
  blurSigma: number | null;
  flip: boolean;
}

export function checkGlobalConfig(fn: string, c: GlobalAugmentConfig): void {
  checkInterval(fn, 'cropScale', c.cropScale, 0, 1);
  if (c.cropScale[1] <= 0) throw new SpotdiffError('ERR_BAD_INPUT', `${fn}: cropScale must allow a positive area`);
  checkInterval(fn, 'cropRatio', c.cropRatio, 1e-6, 1e6);
  checkJitterStrength(fn, c.jitter);
  checkInterval(fn, 'blurSigma', c.blurSigma, 0, 1e3);
  for (const k of ['jitterP', 'grayscaleP', 'blurP', 'flipP'] as const) checkRange(fn, k, c[k], 0, 1);
}

/** One image's parameters for an image of height×width. */
export function sampleGlobalAugment(rng: Random, height: number, width: number, config: GlobalAugmentConfig): GlobalAugmentParams {
  const crop = sampleResizedCrop(rng, height, width, config.cropScale, config.cropRatio);
  const jitter = rng.chance(config.jitterP) ? sampleColorJitter(rng, config.jitter) : null;
  const grayscale = rng.chance(config.grayscaleP);
  const blurSigma = rng.chance(config.blurP) ? rng.uniform(config.blurSigma[0], config.blurSigma[1]) : null;
  const flip = rng.chance(config.flipP);
  return { crop, jitter, grayscale, blurSigma, flip };
}

const boolMask = (flags: readonly boolean[], device: T.Device): T.Tensor =>
  T.tensor(Uint8Array.from(flags, (f) => (f ? 1 : 0)), [flags.length, 1, 1, 1], { dtype: 'bool', device });

/** Applies given parameters; the output is size [h, w] (default: the input's size). */
export function applyGlobalAugment(images: T.Tensor, params: readonly GlobalAugmentParams[], size?: readonly [number, number]): T.Tensor {
  checkImages('globalAugment', images);
  checkPerImage('globalAugment', 'parameter sets', params.length, images);
  const out = size ?? [images.shape[2] as number, images.shape[3] as number];
  if (!out.every((s) => Number.isInteger(s) && s > 0)) throw new SpotdiffError('ERR_BAD_INPUT', `globalAugment: output size must be positive integers, got [${out.join(', ')}]`);
  return T.tidy(() => {
    // The flip is taken with the crop: jitter, grayscale and the symmetric blur with mirrored
    // borders commute with mirroring, so flipping first is the same image (to float rounding).
    let x = resizedCrops(images, params.map((p) => p.crop), out, params.map((p) => p.flip));
    if (params.some((p) => p.jitter !== null)) x = applyColorJitter(x, params.map((p) => p.jitter));
    if (params.some((p) => p.grayscale)) x = T.where(boolMask(params.map((p) => p.grayscale), x.device), rgbToGrayscale(x, 3), x);
    if (params.some((p) => p.blurSigma !== null)) x = gaussianBlurImages(x, params.map((p) => p.blurSigma));
    return x;
  });
}

export interface GlobalAugmentResult {
  images: T.Tensor;
  params: GlobalAugmentParams[];
}

/** A global augmentation with each image's parameters drawn from rng. */
export function globalAugment(images: T.Tensor, rng: Random, config: GlobalAugmentConfig, size?: readonly [number, number]): GlobalAugmentResult {
  checkImages('globalAugment', images);
  checkGlobalConfig('globalAugment', config);
  const [height, width] = [images.shape[2] as number, images.shape[3] as number];
  const params = Array.from({ length: images.shape[0] as number }, () => sampleGlobalAugment(rng, height, width, config));
  return { images: applyGlobalAugment(images, params, size), params };
}

/** SPD's weak augmentation (crop 0.9–1, jitter 0.1/0.1/0.1/0.05 p=0.8, blur σ 0.1–0.3 p=0.5, flip). */
export const weakAugment = (images: T.Tensor, rng: Random, size?: readonly [number, number]): GlobalAugmentResult =>
  globalAugment(images, rng, WEAK_AUGMENT, size);

/** MoCo v2 / SimSiam's augmentation (crop 0.2–1, jitter 0.4/0.4/0.4/0.1 p=0.8, grayscale p=0.2, blur σ 0.1–2 p=0.5, flip). */
export const strongAugment = (images: T.Tensor, rng: Random, size?: readonly [number, number]): GlobalAugmentResult =>
  globalAugment(images, rng, STRONG_AUGMENT, size);
