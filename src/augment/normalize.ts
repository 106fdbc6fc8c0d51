import * as T from '../tensor/index.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/image.js';
import { SpotdiffError } from '../util/errors.js';
import { checkImages } from './check.js';

/**
 * (x − mean) / std per channel, as torchvision's Normalize: the step after augmentation, before
 * the network. ImageNet's mean and std by default.
 */
export function normalizeImages(images: T.Tensor, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): T.Tensor {
  checkImages('normalizeImages', images);
  if (mean.length !== 3 || std.length !== 3 || !std.every((s) => Number.isFinite(s) && s !== 0) || !mean.every(Number.isFinite)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `normalizeImages: need 3 finite means and 3 non-zero stds, got mean [${mean.join(', ')}], std [${std.join(', ')}]`);
  }
  return T.tidy(() => {
    const opts = { dtype: images.dtype, device: images.device };
    const m = T.tensor(Float64Array.from(mean), [1, 3, 1, 1], opts);
    const s = T.tensor(Float64Array.from(std), [1, 3, 1, 1], opts);
    return T.div(T.sub(images, m), s);
  });
}
