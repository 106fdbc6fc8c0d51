import { sha256File } from '../util/fs.js';
import { basename } from 'node:path';
import type { HostTensor, StateDict } from '../tensor/io/index.js';
import { toHost } from '../tensor/host.js';
import type { ResNet } from '../models/resnet.js';
import type { ResNetArch } from '../models/backbone-names.js';
import { guessResNetArch } from '../models/arch-detect.js';
import { readWeights, resolveWeightsPath } from '../models/weights-file.js';
import { loadWeightsInto } from '../models/weights.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * --init: the weights a pre-training run's backbone starts from (torchvision .pth or
 * safetensors, e.g. ImageNet weights before SPD fine-tuning). Only the feature layers are
 * taken: the classifier (fc) of the file is for another task and may have another shape, so
 * the backbone keeps its own. Weights of another architecture are refused with the
 * architecture they look like, before any training starts.
 */
export interface InitWeights {
  /** The file read (a model folder resolves to its weights.safetensors). */
  path: string;
  file: string;
  sha256: string;
  /** The file's tensors without fc.*. */
  features: StateDict;
}

export async function readInitWeights(path: string, arch: ResNetArch): Promise<InitWeights> {
  const file = await resolveWeightsPath(path);
  const weights = await readWeights(file);
  const names = [...weights.keys()];
  if (names.length > 0 && names.every((n) => n.startsWith('module.'))) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `--init ${file}: every name starts with "module." (saved from DataParallel); save model.module.state_dict() instead`);
  }
  const guess = guessResNetArch(weights);
  if (guess === null) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `--init ${file} does not hold torchvision ResNet weights (no conv1/layer1 tensors); --backbone is ${arch}`);
  if (guess !== arch) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `--init ${file} holds ${guess} weights, but --backbone is ${arch}: give ${arch} weights, or --backbone ${guess} if spotdiff builds it`);
  }
  const features: StateDict = new Map([...weights].filter(([n]) => !n.startsWith('fc.')));
  return { path: file, file: basename(file), sha256: await sha256File(file), features };
}

/** Copies the feature layers into the backbone (strictly: every non-fc name, same shapes); fc is left as it is. */
export function loadInitWeights(backbone: ResNet, init: InitWeights): void {
  const source = new Map<string, HostTensor>(init.features);
  for (const [name, t] of backbone.fc.stateDict('fc.')) source.set(name, toHost(t));
  loadWeightsInto(backbone, source, `--init ${init.path}`);
}
