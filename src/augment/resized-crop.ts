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

/**
 * Crops each image to its box and resizes it to size [h, w] by bilinear interpolation
 * (align_corners=False, no antialiasing: torchvision's resized_crop on tensors).
 */
export function resizedCrops(images: T.Tensor, boxes: readonly Box[], size: readonly [number, number]): T.Tensor {
  checkImages('resizedCrops', images);
  checkPerImage('resizedCrops', 'crop boxes', boxes.length, images);
  const [height, width] = [images.shape[2] as number, images.shape[3] as number];
  for (const b of boxes) {
    const ok = [b.top, b.left, b.height, b.width].every(Number.isInteger) && b.top >= 0 && b.left >= 0 && b.height > 0 && b.width > 0;
    if (!ok || b.top + b.height > height || b.left + b.width > width) {
      throw new SpotdiffError('ERR_BAD_INPUT', `resizedCrops: box ${JSON.stringify(b)} is not inside a ${height}×${width} image`);
    }
  }
  return T.tidy(() =>
    T.cat(
      boxes.map((b, n) => {
        const crop = T.narrow(T.narrow(T.narrow(images, 0, n, 1), 2, b.top, b.height), 3, b.left, b.width);
        return b.height === size[0] && b.width === size[1] ? crop : T.interpolate(crop, [size[0], size[1]], 'bilinear', false);
      }),
      0,
    ),
  );
}
