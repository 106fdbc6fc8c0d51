import * as T from '../../src/tensor/index.js';
import * as A from '../../src/augment/index.js';
import type { MethodFactory } from '../../src/pretrain/trainer.js';
import type { PretrainMethod, PretrainMethodName, PretrainViews } from '../../src/pretrain/method.js';
import { smallHeads } from './tiny-run.js';

/**
 * A method as the trainer builds it (ResNet-18 with its BatchNorm layers in training mode, the
 * heads' BatchNorm1d, small heads), without SPD, with views that are fixed functions of each
 * image (the image and its mirror image) instead of random augmentations: the views of a
 * data-parallel step are then the one-process step's rows, so the two can be compared.
 */
export function fixedViews(name: 'simsiam' | 'simclr'): MethodFactory {
  return (r) => {
    const method: PretrainMethod = smallHeads({ ...r, method: name as PretrainMethodName, spd: { ...r.spd, eta: 0 } });
    method.makeViews = (images): PretrainViews => ({
      first: A.normalizeImages(images),
      second: A.normalizeImages(T.flip(images, [3])),
      labels: null,
      spd: null,
    });
    return method;
  };
}
