import * as T from '../../src/tensor/index.js';
import { applyColorJitter, rgbToGrayscale, type ColorJitterParams } from '../../src/augment/color-jitter.js';
import { blurPlanes } from '../../src/augment/gaussian-blur.js';
import type { GlobalAugmentParams } from '../../src/augment/global.js';
import type { Box } from '../../src/augment/patch.js';

/**
 * The per-image references of the batched augmentations: each image cropped, interpolated,
 * jittered, blurred and flipped on its own, in torchvision's order, as spotdiff did before the
 * views were batched. The batched code must give the same images (to float rounding).
 */

const image = (images: T.Tensor, n: number): T.Tensor => T.narrow(images, 0, n, 1);

/** Crop to the box, then bilinear interpolate (align_corners=False) to size, then mirror if asked. */
export function resizedCropPerImage(images: T.Tensor, n: number, box: Box, size: readonly [number, number], flip = false): T.Tensor {
  return T.tidy(() => {
    const crop = T.narrow(T.narrow(image(images, n), 2, box.top, box.height), 3, box.left, box.width);
    const resized = box.height === size[0] && box.width === size[1] ? T.clone(crop) : T.interpolate(crop, [size[0], size[1]], 'bilinear', false);
    return flip ? T.flip(resized, [3]) : resized;
  });
}

/** resizedCrops one image at a time. */
export function resizedCropsPerImage(images: T.Tensor, boxes: readonly Box[], size: readonly [number, number], flips?: readonly boolean[]): T.Tensor {
  return T.tidy(() => T.cat(boxes.map((b, n) => resizedCropPerImage(images, n, b, size, flips?.[n] ?? false)), 0));
}

/** One image's jitter (its four operations in its order), or the image itself. */
export function jitterPerImage(images: T.Tensor, params: readonly (ColorJitterParams | null)[]): T.Tensor {
  return T.tidy(() => T.cat(params.map((p, n) => (p === null ? T.clone(image(images, n)) : applyColorJitter(image(images, n), [p]))), 0));
}

/** One image's blur with its own σ (reflect borders, radius trunc(4σ + 0.5)), or the image itself. */
export function blurPerImage(images: T.Tensor, sigmas: readonly (number | null)[]): T.Tensor {
  return T.tidy(() => T.cat(sigmas.map((s, n) => (s === null ? T.clone(image(images, n)) : blurPlanes(image(images, n), s, { padding: 'reflect' }))), 0));
}

/** The global pipeline one image at a time: crop, jitter, grayscale, blur, flip (torchvision's order). */
export function globalAugmentPerImage(images: T.Tensor, params: readonly GlobalAugmentParams[], size: readonly [number, number]): T.Tensor {
  return T.tidy(() =>
    T.cat(
      params.map((p, n) => {
        let x = resizedCropPerImage(images, n, p.crop, size);
        if (p.jitter !== null) x = applyColorJitter(x, [p.jitter]);
        if (p.grayscale) x = rgbToGrayscale(x, 3);
        if (p.blurSigma !== null) x = blurPlanes(x, p.blurSigma, { padding: 'reflect' });
        return p.flip ? T.flip(x, [3]) : x;
      }),
      0,
    ),
  );
}
