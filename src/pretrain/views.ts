import * as T from '../tensor/index.js';
import * as A from '../augment/index.js';
import { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import type { PretrainViews, SpdConfig } from './method.js';

/**
 * How a step's inputs are drawn. Every view is [N, 3, size, size], ImageNet-normalised.
 * makeViews draws one number from the caller's generator and derives two independent streams
 * from it, one for the base method's views and one for SPD's: turning SPD on or off, or
 * switching its negative, leaves the base views of a seed unchanged.
 */

/** The torchvision-style augmentation of supervised ImageNet training: random resized crop (8–100 % of the area) and a horizontal flip. */
export const SUPERVISED_AUGMENT: Readonly<A.GlobalAugmentConfig> = Object.freeze({
  cropScale: [0.08, 1.0] as const,
  cropRatio: [3 / 4, 4 / 3] as const,
  jitter: Object.freeze({ brightness: 0, contrast: 0, saturation: 0, hue: 0 }),
  jitterP: 0,
  grayscaleP: 0,
  blurSigma: [0.1, 2.0] as const,
  blurP: 0,
  flipP: 0.5,
});

/** Checks a step's batch: float RGB [N, 3, H, W] with N ≥ 2 (training-mode BatchNorm needs two samples). */
export function checkPretrainImages(method: string, images: T.Tensor): void {
  A.checkImages(`${method}.makeViews`, images);
  if ((images.shape[0] as number) < 2) {
    throw new SpotdiffError('ERR_SHAPE', `${method}.makeViews: a pre-training step needs at least 2 images (BatchNorm statistics over the batch), got ${images.shape[0]}`);
  }
}

/** Resizes whole images to size × size (bilinear, align_corners=False, as the views' crops are resampled): one call for the batch. */
export function resizeImages(images: T.Tensor, size: number): T.Tensor {
  const [h, w] = [images.shape[2] as number, images.shape[3] as number];
  return T.tidy(() => (h === size && w === size ? T.clone(images) : T.interpolate(images, [size, size], 'bilinear', false)));
}

/**
 * SPD's three views: the anchor x (resized), the positive weak(x), and the negative: the same
 * weak view with one SmoothBlend (or, for the ablation, CutPaste) patch, so that positive and
 * negative differ only by the local perturbation. All normalised.
 */
export function spdViews(images: T.Tensor, rng: Random, size: number, negative: SpdConfig['negative']): NonNullable<PretrainViews['spd']> {
  return T.tidy(() => {
    const weak = A.weakAugment(images, rng, [size, size]).images;
    const perturbed = negative === 'cutpaste' ? A.cutPaste(weak, rng).images : A.smoothBlend(weak, rng).images;
    return { anchor: A.normalizeImages(resizeImages(images, size)), positive: A.normalizeImages(weak), negative: A.normalizeImages(perturbed) };
  });
}

export interface ViewRecipe {
  /** 'two-strong': SimSiam, MoCo and SimCLR's two strong views; 'supervised': one crop-and-flip view. */
  kind: 'two-strong' | 'supervised';
  size: number;
  spd: SpdConfig;
}

/** One step's views for a recipe; labels are passed through as int64 (a copy the views own). */
export function makePretrainViews(method: string, recipe: ViewRecipe, images: T.Tensor, labels: T.Tensor | null, rng: Random): PretrainViews {
  checkPretrainImages(method, images);
  const seed = rng.uint32();
  const baseRng = Random.derive(seed, 'base');
  const spdRng = Random.derive(seed, 'spd');
  const size: [number, number] = [recipe.size, recipe.size];
  return T.tidy(() => {
    const ownLabels = labels === null ? null : T.clone(T.toDtype(labels, 'int64'));
    if (recipe.kind === 'supervised') {
      const first = A.normalizeImages(A.globalAugment(images, baseRng, SUPERVISED_AUGMENT, size).images);
      return { first, second: null, labels: ownLabels, spd: recipe.spd.eta > 0 ? spdViews(images, spdRng, recipe.size, recipe.spd.negative) : null };
    }
    const first = A.normalizeImages(A.strongAugment(images, baseRng, size).images);
    const second = A.normalizeImages(A.strongAugment(images, baseRng, size).images);
    return { first, second, labels: ownLabels, spd: recipe.spd.eta > 0 ? spdViews(images, spdRng, recipe.size, recipe.spd.negative) : null };
  });
}
