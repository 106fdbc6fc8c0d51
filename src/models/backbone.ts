import { sha256File } from '../util/fs.js';
import { basename } from 'node:path';
import * as T from '../tensor/index.js';
import type { HostTensor } from '../tensor/io/index.js';
import { ResNet } from './resnet.js';
import { readWeights, resolveWeightsPath } from './weights-file.js';
import { loadWeightsInto, resNetFromWeights } from './weights.js';
import { isResNetArch, RESNET_ARCHS, type ResNetArch } from './backbone-names.js';
import { SpotdiffError } from '../util/errors.js';
import { withDefaultDevice } from '../nn/device.js';

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

/**
 * A backbone in eval mode on `device` (default cpu): from a weights file, or seeded random init
 * (the caller warns). Random weights are always drawn on the CPU and then copied: the CUDA
 * generator draws other numbers for the same seed, and a seed should mean one backbone.
 */
export async function createBackbone(arch: ResNetArch, weightsPath: string | undefined, seed: number, device: T.Device = 'cpu'): Promise<{ model: ResNet; record: BackboneRecord }> {
  if (weightsPath === undefined) {
    const drawn = withDefaultDevice('cpu', () => {
      T.manualSeed(seed);
      return new ResNet(arch);
    });
    const model = device === 'cpu' ? drawn : moveBackbone(drawn, device);
    model.eval();
    return { model, record: { arch, weightsFile: null, weightsSha256: null, pretrained: false, seed } };
  }
  const file = await resolveWeightsPath(weightsPath);
  const weights = await readWeights(file);
  const model = withDefaultDevice(device, () => resNetFromWeights(arch, weights, file));
  model.eval();
  return { model, record: { arch, weightsFile: basename(file), weightsSha256: await sha256File(file), pretrained: true, seed } };
}

/** The same network (a copy) on `device`; disposes `from`. */
export function moveBackbone(from: ResNet, device: T.Device): ResNet {
  try {
    const to = withDefaultDevice(device, () => new ResNet(from.arch, { numClasses: from.fc.outFeatures }));
    to.loadStateDict(from.stateDict());
    if (!from.training) to.eval();
    return to;
  } finally {
    from.dispose();
  }
}

/** A backbone on `device` (default cpu) rebuilt from the host tensors saved in a model folder. */
export function backboneFromState(arch: ResNetArch, state: ReadonlyMap<string, HostTensor>, source: string, device: T.Device = 'cpu'): ResNet {
  const fc = state.get('fc.weight');
  return withDefaultDevice(device, () => {
    const model = new ResNet(arch, { numClasses: fc?.shape[0] ?? 1000 });
    try {
      loadWeightsInto(model, state, source);
    } catch (e) {
      model.dispose();
      throw e;
    }
    model.eval();
    return model;
  });
}
