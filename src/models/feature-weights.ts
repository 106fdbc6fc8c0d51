import type { HostTensor, StateDict } from '../tensor/io/index.js';
import { SpotdiffError } from '../util/errors.js';
import { guessResNetArch } from './arch-detect.js';
import type { ResNetArch } from './backbone-names.js';

/**
 * A backbone's feature layers out of a weights file's tensors: everything but the classifier
 * (fc.*), which belongs to another task (ImageNet's 1000 classes, or the projector a
 * `spotdiff pretrain` backbone keeps there) and may have any shape. Weights of another
 * architecture are refused here, naming the one they look like, because the model they go
 * into may not be a ResNet that loadWeightsInto could name it from.
 */
export function backboneFeatures(weights: ReadonlyMap<string, HostTensor>, arch: ResNetArch, source: string): StateDict {
  const names = [...weights.keys()];
  if (names.length > 0 && names.every((n) => n.startsWith('module.'))) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: every name starts with "module." (saved from DataParallel); save model.module.state_dict() instead`);
  }
  const guess = guessResNetArch(weights);
  if (guess === null) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source} does not hold torchvision ResNet weights (no conv1/layer1 tensors); the backbone is ${arch}`);
  if (guess !== arch) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source} holds ${guess} weights, but the backbone is ${arch}`);
  return new Map([...weights].filter(([n]) => !n.startsWith('fc.')));
}
