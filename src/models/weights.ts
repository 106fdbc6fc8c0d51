import * as T from '../tensor/index.js';
import { fromHost, toHost } from '../tensor/host.js';
import { writeSafetensors, type HostTensor, type StateDict } from '../tensor/io/index.js';
import type { Module } from '../nn/index.js';
import { SpotdiffError, isSpotdiffError } from '../util/errors.js';
import { ResNet, type ResNetArch } from './resnet.js';
import { classCountOf, guessResNetArch } from './arch-detect.js';
import { readWeights } from './weights-file.js';

export { readWeights, resolveWeightsPath, sniffWeightsFormat, type WeightsFormat } from './weights-file.js';

/**
 * Copies weights into a model, strictly: every name of the model must be there with its
 * shape and nothing else may be. One error lists all problems, and says which architecture
 * the weights look like when it is not the model's. As torch's BatchNorm does for old
 * checkpoints (torchvision's published ImageNet weights among them), weights without any
 * num_batches_tracked get 0 for each.
 */
export function loadWeightsInto(model: Module, weights: ReadonlyMap<string, HostTensor>, source = 'the weights'): void {
  const filled = new Map(weights);
  const counter = (name: string): boolean => name.endsWith('.num_batches_tracked');
  if (![...weights.keys()].some(counter)) {
    for (const [name, t] of model.stateDict()) if (counter(name)) filled.set(name, { dtype: 'int64', shape: [...t.shape], data: new Uint8Array(8) });
  }
  T.tidy(() => {
    const tensors = new Map<string, T.Tensor>();
    for (const [name, h] of filled) tensors.set(name, fromHost(h));
    try {
      model.loadStateDict(tensors);
    } catch (e) {
      if (!isSpotdiffError(e, 'ERR_BAD_CHECKPOINT')) throw e;
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: ${explainMismatch(model, weights)}${e.message}`, { cause: e });
    }
  });
}

function explainMismatch(model: Module, weights: ReadonlyMap<string, HostTensor>): string {
  const names = [...weights.keys()];
  if (names.length > 0 && names.every((n) => n.startsWith('module.'))) {
    return 'every name starts with "module." (saved from DataParallel): save model.module.state_dict() instead; ';
  }
  if (!(model instanceof ResNet)) return '';
  const guess = guessResNetArch(weights);
  if (guess === null) return `these do not look like torchvision ResNet weights (the model is ${model.arch}); `;
  if (guess !== model.arch) return `this looks like ${guess} weights, the model is ${model.arch}; `;
  const classes = classCountOf(weights);
  if (classes !== null && classes !== model.fc.outFeatures) return `the weights have ${classes} output classes, the model ${model.fc.outFeatures}; `;
  return '';
}

/** Reads a weights file and loads it into the model (see loadWeightsInto). */
export async function loadWeights(model: Module, path: string): Promise<void> {
  const weights = await readWeights(path);
  loadWeightsInto(model, weights, path);
}

/**
 * A ResNet of the given architecture: with a weights file, its weights (and its number of
 * classes, read from fc.weight); without one, torchvision's random initialisation.
 */
export async function loadResNet(arch: ResNetArch, weightsPath?: string): Promise<ResNet> {
  if (weightsPath === undefined) return new ResNet(arch);
  return resNetFromWeights(arch, await readWeights(weightsPath), weightsPath);
}

/** A ResNet holding weights already read (`source` names them in errors). */
export function resNetFromWeights(arch: ResNetArch, weights: ReadonlyMap<string, HostTensor>, source: string): ResNet {
  const model = new ResNet(arch, { numClasses: classCountOf(weights) ?? 1000 });
  try {
    loadWeightsInto(model, weights, source);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** A model's state dict as host tensors (copies), in torch's order. */
export function stateDictToHost(model: Module): StateDict {
  const out: StateDict = new Map();
  for (const [name, t] of model.stateDict()) out.set(name, toHost(t));
  return out;
}

/** Saves a model's state dict to a safetensors file, atomically; a ResNet records its architecture. */
export async function saveWeights(model: Module, path: string, metadata: Record<string, string> = {}): Promise<void> {
  const meta: Record<string, string> = { format: 'pt', ...(model instanceof ResNet ? { 'spotdiff.arch': model.arch } : {}), ...metadata };
  await writeSafetensors(path, stateDictToHost(model), meta);
}
