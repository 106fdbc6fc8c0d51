import * as T from '../../src/tensor/index.js';
import { applyColorJitter, rgbToGrayscale, type ColorJitterParams } from '../../src/augment/color-jitter.js';
import { blurPlanes } from '../../src/augment/gaussian-blur.js';
import type { GlobalAugmentParams } from '../../src/augment/global.js';
import { cutBox, type Box } from '../../src/augment/patch.js';
import { rotatedSourceMap, type CutPastePatch } from '../../src/augment/cutpaste.js';
import type { SmoothBlendPatch } from '../../src/augment/smooth-blend.js';

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

/** A 0/1 mask [1, 1, height, width] that is 1 on the box. */
function boxMask(box: Box, height: number, width: number, dtype: T.DType): T.Tensor {
  const m = new Float32Array(height * width);
  for (let y = box.top; y < box.top + box.height; y++) m.fill(1, y * width + box.left, y * width + box.left + box.width);
  return T.tensor(m, [1, 1, height, width], { dtype });
}

/**
 * SmoothBlend one image at a time, as spotdiff did before the patches were batched: cut the
 * source box, jitter it on its own (contrast's mean over the patch alone), blur the target's
 * 0/1 mask in 2-D (scipy borders), and blend (1 − α)·x + α·u, u = x ('image') or 0 ('zero')
 * outside the patch, clamped; α = 0 leaves a pixel as it was.
 */
export function smoothBlendPerImage(images: T.Tensor, patches: readonly SmoothBlendPatch[], sigma = 8, fill: 'image' | 'zero' = 'image'): { images: T.Tensor; alpha: T.Tensor } {
  const [height, width] = [images.shape[2] as number, images.shape[3] as number];
  return T.tidy(() => {
    const outs: T.Tensor[] = [];
    const alphas: T.Tensor[] = [];
    patches.forEach((p, n) => {
      const x = image(images, n);
      const alpha = blurPlanes(boxMask(p.target, height, width, images.dtype), sigma, { padding: 'symmetric' });
      const patch = applyColorJitter(cutBox(images, n, p.source), [p.jitter]);
      const t = p.target;
      const u = fill === 'image' ? T.clone(x) : T.zerosLike(x);
      T.copyInPlace(T.narrow(T.narrow(u, 2, t.top, t.height), 3, t.left, t.width), patch);
      const blended = T.clamp(T.add(x, T.mul(alpha, T.sub(u, x))), 0, 1);
      // 'image' changes the patch only; 'zero' all that α reaches.
      const changed = fill === 'image' ? T.gt(boxMask(t, height, width, images.dtype), 0) : T.gt(alpha, 0);
      outs.push(T.where(changed, blended, x));
      alphas.push(alpha);
    });
    return { images: T.cat(outs, 0), alpha: T.cat(alphas, 0) };
  });
}

/** CutPaste one image at a time: cut, jitter on its own, rotate (nearest neighbour) when angled, paste. */
export function cutPastePerImage(images: T.Tensor, patches: readonly CutPastePatch[]): { images: T.Tensor; mask: T.Tensor } {
  const [height, width] = [images.shape[2] as number, images.shape[3] as number];
  return T.tidy(() => {
    const out = T.clone(images);
    const masks: T.Tensor[] = [];
    patches.forEach((p, n) => {
      const t = p.target;
      const region = T.narrow(T.narrow(T.narrow(out, 0, n, 1), 2, t.top, t.height), 3, t.left, t.width);
      const patch = applyColorJitter(cutBox(images, n, p.source), [p.jitter]);
      const map = rotatedSourceMap(p.source.height, p.source.width, p.angle);
      const idx = T.tensor(BigInt64Array.from(map.source, (s) => BigInt(Math.max(s, 0))));
      const rotated = T.reshape(T.indexSelect(T.reshape(patch, [1, 3, -1]), 2, idx), [1, 3, t.height, t.width]);
      const inside = T.tensor(Uint8Array.from(map.source, (s) => (s >= 0 ? 1 : 0)), [1, 1, t.height, t.width], { dtype: 'bool' });
      T.copyInPlace(region, p.angle === 0 ? patch : T.where(inside, rotated, region));
      const mask = T.zeros([1, 1, height, width], { dtype: images.dtype });
      T.copyInPlace(T.narrow(T.narrow(mask, 2, t.top, t.height), 3, t.left, t.width), T.toDtype(inside, images.dtype));
      masks.push(mask);
    });
    return { images: out, mask: T.cat(masks, 0) };
  });
}
