import type * as T from '../../tensor/index.js';
import { PadimModel, type PadimConfig } from '../padim/index.js';
import { PatchcoreModel, type PatchcoreConfig } from '../patchcore/index.js';
import type { FeatureMaps, Scores } from '../common/features.js';

export const METHODS = ['padim', 'patchcore'] as const;
export type Method = (typeof METHODS)[number];

/** A fitted detector of either method, behind one interface for the glue. */
export type Detector = { method: 'padim'; model: PadimModel } | { method: 'patchcore'; model: PatchcoreModel };
export type DetectorConfig = PadimConfig | PatchcoreConfig;

export function detectorLayers(d: Detector): string[] {
  return d.model.config.layers;
}

export function detectorScores(d: Detector, features: FeatureMaps): Scores {
  return d.model.scores(features);
}

export function detectorState(d: Detector): Map<string, T.Tensor> {
  return d.model.stateDict();
}

export function detectorFromState(method: Method, config: DetectorConfig, tensors: ReadonlyMap<string, T.Tensor>): Detector {
  return method === 'padim'
    ? { method, model: PadimModel.fromStateDict(config as PadimConfig, tensors) }
    : { method, model: PatchcoreModel.fromStateDict(config as PatchcoreConfig, tensors) };
}
