import { SpotdiffError } from '../../util/errors.js';
import { PythonRandom } from './python-random.js';
import { checkInputConfig, checkMapConfig, checkPositiveInt, DEFAULT_MAP_CONFIG, type InputConfig, type MapConfig } from '../common/config.js';

export const PADIM_FORMAT = 'spotdiff.padim';
export const PADIM_VERSION = 1;

/**
 * Everything that decides what a PaDiM model computes, saved beside its tensors (model.json).
 * Choices on which the official code (xiahaifeng1995/PaDiM-Anomaly-Detection-Localization)
 * and anomalib could differ are spelled out; the defaults follow the official code.
 */
export interface PadimConfig {
  format: typeof PADIM_FORMAT;
  version: typeof PADIM_VERSION;
  input: InputConfig;
  /** Backbone layers, highest resolution first; all are brought to the first one's grid. */
  layers: string[];
  /** Lower-resolution layers are repeated onto the first layer's grid ('nearest' = the official embedding_concat). */
  featureUpsample: 'nearest';
  /** How many of the concatenated channels are kept (100 for ResNet-18, 550 for WideResNet-50-2). */
  channels: number;
  /** Which channels: CPython random.seed(seed); random.sample(range(total), channels), as the official code. */
  channelSubset: { method: 'python-random-sample'; seed: number };
  /** Added to the covariance diagonal before inversion. */
  covarianceEpsilon: number;
  distance: 'mahalanobis';
  map: MapConfig;
  /** Image score = the maximum of the blurred map. */
  imageScore: 'map-max';
  /** Filled by fitting: channels per layer, the layer-1 grid and how many images were seen. */
  fitted: { layerChannels: number[]; grid: [number, number]; trainImages: number } | null;
}

/** What a caller sets; everything else takes the official defaults. */
export interface PadimOptions {
  input: InputConfig;
  layers?: string[];
  /** Default: defaultPadimChannels(total channels) once the features are seen. */
  channels?: number;
  seed?: number;
  covarianceEpsilon?: number;
  map?: Partial<MapConfig>;
}

/** The official choice of kept channels: 100 of ResNet-18's 448, 550 of the 1792 of (Wide)ResNet-50. */
export function defaultPadimChannels(totalChannels: number): number {
  if (totalChannels === 448) return 100;
  if (totalChannels === 1792) return 550;
  // Other backbones: the same share as WideResNet-50-2 (550/1792 ≈ 0.307), at least 1.
  return Math.max(1, Math.min(totalChannels, Math.round((totalChannels * 550) / 1792)));
}

/** Fills defaults; `channels` stays 0 ("decide from the features") when not given. */
export function resolvePadimConfig(o: PadimOptions): PadimConfig {
  const cfg: PadimConfig = {
    format: PADIM_FORMAT,
    version: PADIM_VERSION,
    input: o.input,
    layers: o.layers ?? ['layer1', 'layer2', 'layer3'],
    featureUpsample: 'nearest',
    channels: o.channels ?? 0,
    channelSubset: { method: 'python-random-sample', seed: o.seed ?? 1024 },
    covarianceEpsilon: o.covarianceEpsilon ?? 0.01,
    distance: 'mahalanobis',
    map: { ...DEFAULT_MAP_CONFIG, ...o.map, blur: { ...DEFAULT_MAP_CONFIG.blur, ...o.map?.blur } },
    imageScore: 'map-max',
    fitted: null,
  };
  checkPadimConfig(cfg, false);
  return cfg;
}

/** Checks a config (from options or from a model folder); `fitted` requires the fit results. */
export function checkPadimConfig(cfg: PadimConfig, fitted: boolean): void {
  if (cfg?.format !== PADIM_FORMAT) throw new SpotdiffError('ERR_VERSION', `not a PaDiM model config (format ${JSON.stringify(cfg?.format)})`);
  if (cfg.version !== PADIM_VERSION) {
    throw new SpotdiffError('ERR_VERSION', `PaDiM model version ${JSON.stringify(cfg.version)} is not supported by this spotdiff (it reads version ${PADIM_VERSION}); fit the model again`);
  }
  checkInputConfig(cfg.input);
  checkMapConfig(cfg.map);
  if (!Array.isArray(cfg.layers) || cfg.layers.length === 0 || cfg.layers.some((l) => typeof l !== 'string')) {
    throw new SpotdiffError('ERR_BAD_INPUT', `layers must be a non-empty list of layer names, got ${JSON.stringify(cfg.layers)}`);
  }
  if (new Set(cfg.layers).size !== cfg.layers.length) throw new SpotdiffError('ERR_BAD_INPUT', `layers repeat a name: ${cfg.layers.join(', ')}`);
  if (cfg.featureUpsample !== 'nearest') throw new SpotdiffError('ERR_BAD_INPUT', `featureUpsample must be 'nearest'`);
  if (cfg.channels !== 0 || fitted) checkPositiveInt('channels', cfg.channels);
  if (cfg.channelSubset?.method !== 'python-random-sample' || !Number.isSafeInteger(cfg.channelSubset.seed)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `channelSubset must be { method: 'python-random-sample', seed: <integer> }`);
  }
  if (!(cfg.covarianceEpsilon >= 0)) throw new SpotdiffError('ERR_BAD_INPUT', `covarianceEpsilon must be >= 0, got ${cfg.covarianceEpsilon}`);
  if (cfg.distance !== 'mahalanobis') throw new SpotdiffError('ERR_BAD_INPUT', `distance must be 'mahalanobis'`);
  if (cfg.imageScore !== 'map-max') throw new SpotdiffError('ERR_BAD_INPUT', `imageScore must be 'map-max'`);
  if (fitted) {
    const f = cfg.fitted;
    if (f === null || !Array.isArray(f.layerChannels) || f.layerChannels.length !== cfg.layers.length || !Array.isArray(f.grid) || f.grid.length !== 2) {
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', 'the PaDiM config has no valid fit record (fitted.layerChannels / fitted.grid)');
    }
    f.layerChannels.forEach((c, i) => checkPositiveInt(`fitted.layerChannels[${i}]`, c));
    f.grid.forEach((g, i) => checkPositiveInt(`fitted.grid[${i}]`, g));
    const total = f.layerChannels.reduce((a, b) => a + b, 0);
    if (cfg.channels > total) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `channels (${cfg.channels}) exceeds the layers' ${total} channels`);
  }
}

/** The kept channel indices, in the order the official code lists them. */
export function padimChannelIndices(cfg: Pick<PadimConfig, 'channels' | 'channelSubset'>, totalChannels: number): number[] {
  if (cfg.channels > totalChannels) {
    throw new SpotdiffError('ERR_BAD_INPUT', `PaDiM: ${cfg.channels} channels asked for, but the layers have only ${totalChannels} in total`);
  }
  return new PythonRandom(cfg.channelSubset.seed).sampleRange(totalChannels, cfg.channels);
}
