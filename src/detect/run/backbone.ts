import { sha256File } from '../../util/fs.js';
import { basename } from 'node:path';
import * as T from '../../tensor/index.js';
import type { HostTensor } from '../../tensor/io/index.js';
import { ResNet } from '../../models/resnet.js';
import { readWeights, resolveWeightsPath } from '../../models/weights-file.js';
import { loadWeightsInto, resNetFromWeights } from '../../models/weights.js';
import { extractFeatures } from '../../models/feature-extractor.js';
import { isResNetArch, RESNET_ARCHS, type ResNetArch } from '../../models/backbone-names.js';
import { SpotdiffError } from '../../util/errors.js';
import type { FeatureMaps } from '../common/features.js';

/** Where a model's backbone weights came from, as model.json records it. */
export interface BackboneRecord {
  arch: ResNetArch;
  /** The weights file's name (not its path), or null for random initialisation. */
  weightsFile: string | null;
  /** sha256 of the weights file, or null for random initialisation. */
  weightsSha256: string | null;
  pretrained: boolean;
  /** Seed of the random initialisation (used when pretrained is false). */
  seed: number;
}

export function checkArch(name: string): ResNetArch {
  if (!isResNetArch(name)) throw new SpotdiffError('ERR_USAGE', `unknown backbone "${name}"; choose one of ${RESNET_ARCHS.join(', ')}`);
  return name;
}

/** A backbone in eval mode: from a weights file, or seeded random init (the caller warns). */
export async function createBackbone(arch: ResNetArch, weightsPath: string | undefined, seed: number): Promise<{ model: ResNet; record: BackboneRecord }> {
  if (weightsPath === undefined) {
    T.manualSeed(seed);
    const model = new ResNet(arch);
    model.eval();
    return { model, record: { arch, weightsFile: null, weightsSha256: null, pretrained: false, seed } };
  }
  const file = await resolveWeightsPath(weightsPath);
  const weights = await readWeights(file);
  const model = resNetFromWeights(arch, weights, file);
  model.eval();
  return { model, record: { arch, weightsFile: basename(file), weightsSha256: await sha256File(file), pretrained: true, seed } };
}

/** A backbone rebuilt from the host tensors saved in a model folder. */
export function backboneFromState(arch: ResNetArch, state: ReadonlyMap<string, HostTensor>, source: string): ResNet {
  const fc = state.get('fc.weight');
  const model = new ResNet(arch, { numClasses: fc?.shape[0] ?? 1000 });
  try {
    loadWeightsInto(model, state, source);
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return model;
}

/** Runs the backbone (no grad) on a batch of preprocessed images [N, 3, H, W]; the caller disposes the maps. */
export function batchFeatures(model: ResNet, images: Float32Array, shape: readonly number[], layers: readonly string[]): FeatureMaps {
  return T.noGrad(() => T.tidy(() => extractFeatures(model, T.tensor(images, [...shape]), layers)));
}

export function disposeFeatures(f: FeatureMaps): void {
  for (const t of f.values()) t.dispose();
}
