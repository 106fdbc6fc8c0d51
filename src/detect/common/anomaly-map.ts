import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { gaussianBlur } from '../../augment/gaussian-blur.js';
import type { MapConfig } from './config.js';

/** Patch scores [B, h, w] -> [B, H, W], bilinear with align_corners=False (torch's F.interpolate). */
export function upsampleScores(patchScores: T.Tensor, imageSize: readonly [number, number]): T.Tensor {
  if (patchScores.rank !== 3) throw new SpotdiffError('ERR_SHAPE', `patch scores must be [B, h, w], got [${patchScores.shape.join(', ')}]`);
  return T.tidy(() => T.squeeze(T.interpolate(T.unsqueeze(patchScores, 1), [imageSize[0], imageSize[1]], 'bilinear', false), 1));
}

/** The pixel-level anomaly map both methods return: upsample the patch grid, then blur. */
export function anomalyMaps(patchScores: T.Tensor, imageSize: readonly [number, number], map: MapConfig): T.Tensor {
  return T.tidy(() => gaussianBlur(upsampleScores(patchScores, imageSize), map.blur.sigma, { truncate: map.blur.truncate, padding: map.blur.padding }));
}

/** Image score = the map's maximum (PaDiM; PatchCore's 'max' rule on patch scores). [B, ...] -> [B]. */
export function maxPerImage(maps: T.Tensor): T.Tensor {
  return T.tidy(() => T.amax(T.reshape(maps, [maps.shape[0] as number, -1]), 1));
}
