import * as T from '../tensor/index.js';
import type { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import type { RgbImage } from '../data/image.js';
import { checkImages } from './check.js';
import type { AugmentKind } from './kinds.js';
import { cutPaste, cutPasteScar } from './cutpaste.js';
import { strongAugment, weakAugment } from './global.js';
import { smoothBlend, type SmoothBlendFill } from './smooth-blend.js';

export { AUGMENT_KINDS, isAugmentKind, type AugmentKind } from './kinds.js';

/** A batch augmented one way, for looking at: rows of 8-bit tiles. */
export interface AugmentPreview {
  original: RgbImage[];
  augmented: RgbImage[];
  /** The alpha (SmoothBlend) or paste (CutPaste) masks in grey; null for global augmentations. */
  mask: RgbImage[] | null;
  /** Each image's drawn parameters, as the augmentation reports them. */
  params: unknown[];
}

/** [N, C, H, W] in [0, 1] (C = 1 or 3) as 8-bit RGB images (×255, rounded: 8-bit inputs come back exactly). */
export function toRgbImages(batch: T.Tensor): RgbImage[] {
  const [n, c, h, w] = batch.shape as [number, number, number, number];
  const values = T.tidy(() => T.clamp(T.toDtype(batch, 'float32'), 0, 1)).toFloat32();
  const plane = h * w;
  return Array.from({ length: n }, (_, i) => {
    const data = new Uint8Array(plane * 3);
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < 3; ch++) data[p * 3 + ch] = Math.round((values[(i * c + (c === 3 ? ch : 0)) * plane + p] as number) * 255);
    }
    return { width: w, height: h, data };
  });
}

/** Augments images [N, 3, H, W] in [0, 1] with the given kind and returns the rows to show. */
export function previewAugment(images: T.Tensor, kind: AugmentKind, rng: Random, opts: { fill?: SmoothBlendFill } = {}): AugmentPreview {
  checkImages('previewAugment', images);
  return T.tidy(() => {
    const original = toRgbImages(images);
    switch (kind) {
      case 'smoothblend': {
        const r = smoothBlend(images, rng, opts.fill === undefined ? {} : { fill: opts.fill });
        return { original, augmented: toRgbImages(r.images), mask: toRgbImages(r.alpha), params: r.patches };
      }
      case 'cutpaste':
      case 'scar': {
        const r = kind === 'cutpaste' ? cutPaste(images, rng) : cutPasteScar(images, rng);
        return { original, augmented: toRgbImages(r.images), mask: toRgbImages(r.mask), params: r.patches };
      }
      case 'weak':
      case 'strong': {
        const r = kind === 'weak' ? weakAugment(images, rng) : strongAugment(images, rng);
        return { original, augmented: toRgbImages(r.images), mask: null, params: r.params };
      }
      default:
        throw new SpotdiffError('ERR_BAD_INPUT', `unknown augmentation "${String(kind)}"`);
    }
  });
}
