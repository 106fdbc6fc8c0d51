import * as T from '../../src/tensor/index.js';
import * as A from '../../src/augment/index.js';
import type { MethodFactory } from '../../src/pretrain/trainer.js';
import type { PretrainMethod, PretrainViews } from '../../src/pretrain/method.js';
import { smallHeads } from './tiny-run.js';

/**
 * SimSiam as the trainer builds it (ResNet-18 with its BatchNorm layers in training mode, the
 * projector's and predictor's BatchNorm1d, small heads), without SPD, with views that are fixed
 * functions of each image (the image and its mirror image) instead of random augmentations: the
 * views of a data-parallel step are then the one-process step's rows, so the two can be
 * compared. Its loss is a mean of per-image terms; what couples the images is BatchNorm alone.
 */
export const simsiamFixedViews: MethodFactory = (r) => {
  const method: PretrainMethod = smallHeads({ ...r, method: 'simsiam', spd: { ...r.spd, eta: 0 } });
  method.makeViews = (images): PretrainViews => ({
    first: A.normalizeImages(images),
    second: A.normalizeImages(T.flip(images, [3])),
    labels: null,
    spd: null,
  });
  return method;
};
