import * as T from '../tensor/index.js';
import type { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';

/** A rectangle in pixels: rows top..top+height-1, columns left..left+width-1. */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

export interface PatchSize {
  height: number;
  width: number;
}

/**
 * A patch size whose area is a fraction in [area[0], area[1]] of height·width, with aspect
 * ratio width/height drawn log-uniformly from `aspect` (as RandomResizedCrop draws it). Sides
 * are rounded to pixels and a draw whose rounded area leaves the range is drawn again, so the
 * area range holds exactly; images too small for 100 such draws get a uniform pick among all
 * sizes that satisfy both ranges (and ERR_SHAPE when there is none).
 */
export function samplePatchSize(
  rng: Random,
  height: number,
  width: number,
  area: readonly [number, number],
  aspect: readonly [number, number],
): PatchSize {
  const total = height * width;
  const [minArea, maxArea] = [area[0] * total, area[1] * total];
  const fits = (h: number, w: number): boolean => h >= 1 && w >= 1 && h <= height && w <= width && h * w >= minArea && h * w <= maxArea;
  const [logLo, logHi] = [Math.log(aspect[0]), Math.log(aspect[1])];
  for (let attempt = 0; attempt < 100; attempt++) {
    const target = rng.uniform(minArea, maxArea);
    const ratio = Math.exp(rng.uniform(logLo, logHi));
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (fits(h, w)) return { height: h, width: w };
  }
  const candidates: PatchSize[] = [];
  for (let h = 1; h <= height; h++) {
    const wLo = Math.max(1, Math.ceil(minArea / h), Math.ceil(aspect[0] * h));
    const wHi = Math.min(width, Math.floor(maxArea / h), Math.floor(aspect[1] * h));
    for (let w = wLo; w <= wHi; w++) candidates.push({ height: h, width: w });
  }
  if (candidates.length === 0) {
    throw new SpotdiffError(
      'ERR_SHAPE',
      `a ${height}×${width} image has no patch with area ${area[0] * 100}–${area[1] * 100}% and aspect ${aspect[0]}–${aspect[1]}; use larger images`,
    );
  }
  return rng.pick(candidates);
}

/** A uniformly random position for a height×width patch inside the image. */
export function samplePosition(rng: Random, imageHeight: number, imageWidth: number, size: PatchSize): Box {
  if (size.height > imageHeight || size.width > imageWidth) {
    throw new SpotdiffError('ERR_SHAPE', `a ${size.height}×${size.width} patch does not fit a ${imageHeight}×${imageWidth} image`);
  }
  return { top: rng.int(imageHeight - size.height + 1), left: rng.int(imageWidth - size.width + 1), height: size.height, width: size.width };
}

/** Image n's pixels inside box: [1, C, box.height, box.width]. */
export function cutBox(images: T.Tensor, n: number, box: Box): T.Tensor {
  return T.tidy(() => T.contiguous(T.narrow(T.narrow(T.narrow(images, 0, n, 1), 2, box.top, box.height), 3, box.left, box.width)));
}
