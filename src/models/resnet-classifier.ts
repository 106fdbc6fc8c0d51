import * as T from '../tensor/index.js';
import { toHost } from '../tensor/host.js';
import type { HostTensor } from '../tensor/io/index.js';
import { SpotdiffError } from '../util/errors.js';
import { ResNet, type ResNetArch } from './resnet.js';
import { backboneFeatures } from './feature-weights.js';
import { readWeights } from './weights-file.js';
import { loadWeightsInto } from './weights.js';

export interface ResNetClassifierOptions {
  /** Outputs of the new fc. Default 2 (normal / anomalous). */
  classes?: number;
  /** Seeds the random initialisation (T.manualSeed), the new fc's included. Default 0. */
  seed?: number;
}

/**
 * A torchvision ResNet whose fc is a new Linear(features, classes): T.manualSeed(seed), then
 * the network draws torchvision's initialisation (resnet*(num_classes=classes): the fc gets
 * torch's default Linear init); with `weights`, every tensor but the file's fc is copied over
 * it, strictly (a torchvision .pth with its 1000-way fc, a safetensors backbone, or one written
 * by `spotdiff pretrain` with whatever its fc holds). To resume a classifier already trained,
 * with its own fc, use resNetFromWeights.
 */
export function resNetClassifier(arch: ResNetArch, weights: ReadonlyMap<string, HostTensor> | null, source: string, opts: ResNetClassifierOptions = {}): ResNet {
  const classes = opts.classes ?? 2;
  if (!Number.isInteger(classes) || classes < 1) throw new SpotdiffError('ERR_BAD_INPUT', `a classifier needs a whole number of classes ≥ 1, got ${classes}`);
  T.manualSeed(opts.seed ?? 0);
  const model = new ResNet(arch, { numClasses: classes });
  if (weights === null) return model;
  try {
    const withOwnFc = new Map(backboneFeatures(weights, arch, source));
    for (const [name, t] of model.fc.stateDict('fc.')) withOwnFc.set(name, toHost(t));
    loadWeightsInto(model, withOwnFc, source);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** resNetClassifier from a weights file (any that readWeights takes), or seeded random weights without one. */
export async function loadResNetClassifier(arch: ResNetArch, weightsPath?: string, opts: ResNetClassifierOptions = {}): Promise<ResNet> {
  if (weightsPath === undefined) return resNetClassifier(arch, null, 'random initialisation', opts);
  return resNetClassifier(arch, await readWeights(weightsPath), weightsPath, opts);
}
