import { SpotdiffError } from '../../util/errors.js';
import { checkInputConfig, checkMapConfig, checkPositiveInt, DEFAULT_MAP_CONFIG, type InputConfig, type MapConfig } from '../common/config.js';

export const PATCHCORE_FORMAT = 'spotdiff.patchcore';
export const PATCHCORE_VERSION = 1;

/**
 * Everything that decides what a PatchCore model computes, saved beside its memory bank.
 * Where the two anchors differ, both are available and the choice is recorded:
 * - official code (amazon-science/patchcore-inspection): 3×3 patches by F.unfold (zero padding),
 *   each layer's C·9 patch vector averaged down to `layerDim` (MeanMapper = adaptive_avg_pool1d),
 *   layers stacked and averaged down to `targetDim` (Aggregator); approximate greedy coreset
 *   from 10 random start points on a 128-d random projection; faiss IndexFlatL2 distances
 *   (squared L2); image score = max patch score (no re-weighting in the code).
 * - anomalib / the paper: AvgPool2d(3, 1, 1) aggregation, no channel projection; Euclidean
 *   distances; image score re-weighted over the nearest memory entry's k = 9 neighbours
 *   (paper eq. 7, anomalib compute_anomaly_score).
 * The defaults take the official feature pipeline and coreset with the paper's Euclidean
 * distance and re-weighted image score, as the task asks.
 */
export interface PatchcoreConfig {
  format: typeof PATCHCORE_FORMAT;
  version: typeof PATCHCORE_VERSION;
  input: InputConfig;
  /** Backbone layers; later ones are resized to the first one's grid. */
  layers: string[];
  /** 'unfold-mean': official patches + MeanMapper; 'avg-pool': anomalib's AvgPool2d(p, 1, p//2). */
  aggregation: { method: 'unfold-mean' | 'avg-pool'; patchSize: number };
  /** Later layers to the first one's grid: bilinear, align_corners=False (both anchors). */
  featureUpsample: 'bilinear';
  /** Adaptive average pooling over the channel dimension (official pretrain/target_embed_dimension); null skips a stage. */
  projection: { layerDim: number | null; targetDim: number | null };
  /**
   * Greedy k-center coreset: keep floor(N·ratio) patches (ratio 1 keeps all); distances on a
   * seeded Gaussian random projection to projectionDim (null: full features); the initial
   * distance is the mean distance to `startPoints` seeded random patches (official: 10;
   * 1 gives anomalib's single random start).
   */
  coreset: { ratio: number; projectionDim: number | null; projection: 'gaussian'; startPoints: number; seed: number };
  /** Patch score = distance to the nearest memory entry: 'euclidean' (paper, anomalib) or 'squared-euclidean' (official faiss). */
  distance: 'euclidean' | 'squared-euclidean';
  /** 'reweighted' (paper eq. 7 as anomalib computes it, k = neighbours, on the configured distance) or 'max' (official code). */
  imageScore: { rule: 'reweighted' | 'max'; neighbours: number };
  map: MapConfig;
  /** Filled by fitting. */
  fitted: { layerChannels: number[]; grid: [number, number]; embeddingDim: number; trainPatches: number; memorySize: number; trainImages: number } | null;
}

export interface PatchcoreOptions {
  input: InputConfig;
  layers?: string[];
  aggregation?: Partial<PatchcoreConfig['aggregation']>;
  projection?: Partial<PatchcoreConfig['projection']>;
  coreset?: Partial<PatchcoreConfig['coreset']>;
  distance?: PatchcoreConfig['distance'];
  imageScore?: Partial<PatchcoreConfig['imageScore']>;
  map?: Partial<MapConfig>;
}

export function resolvePatchcoreConfig(o: PatchcoreOptions): PatchcoreConfig {
  const cfg: PatchcoreConfig = {
    format: PATCHCORE_FORMAT,
    version: PATCHCORE_VERSION,
    input: o.input,
    layers: o.layers ?? ['layer2', 'layer3'],
    aggregation: { method: 'unfold-mean', patchSize: 3, ...o.aggregation },
    featureUpsample: 'bilinear',
    projection: { layerDim: 1024, targetDim: 1024, ...o.projection },
    coreset: { ratio: 0.1, projectionDim: 128, projection: 'gaussian', startPoints: 10, seed: 0, ...o.coreset },
    distance: o.distance ?? 'euclidean',
    imageScore: { rule: 'reweighted', neighbours: 9, ...o.imageScore },
    map: { ...DEFAULT_MAP_CONFIG, ...o.map, blur: { ...DEFAULT_MAP_CONFIG.blur, ...o.map?.blur } },
    fitted: null,
  };
  checkPatchcoreConfig(cfg, false);
  return cfg;
}

const nullOrPositive = (name: string, v: unknown): void => {
  if (v !== null) checkPositiveInt(name, v);
};

export function checkPatchcoreConfig(cfg: PatchcoreConfig, fitted: boolean): void {
  if (cfg?.format !== PATCHCORE_FORMAT) throw new SpotdiffError('ERR_VERSION', `not a PatchCore model config (format ${JSON.stringify(cfg?.format)})`);
  if (cfg.version !== PATCHCORE_VERSION) {
    throw new SpotdiffError('ERR_VERSION', `PatchCore model version ${JSON.stringify(cfg.version)} is not supported by this spotdiff (it reads version ${PATCHCORE_VERSION}); fit the model again`);
  }
  checkInputConfig(cfg.input);
  checkMapConfig(cfg.map);
  if (!Array.isArray(cfg.layers) || cfg.layers.length === 0 || cfg.layers.some((l) => typeof l !== 'string') || new Set(cfg.layers).size !== cfg.layers.length) {
    throw new SpotdiffError('ERR_BAD_INPUT', `layers must be a non-empty list of distinct layer names, got ${JSON.stringify(cfg.layers)}`);
  }
  const { method, patchSize } = cfg.aggregation;
  if (method !== 'unfold-mean' && method !== 'avg-pool') throw new SpotdiffError('ERR_BAD_INPUT', `aggregation.method must be 'unfold-mean' or 'avg-pool', got ${JSON.stringify(method)}`);
  if (checkPositiveInt('aggregation.patchSize', patchSize) % 2 !== 1) throw new SpotdiffError('ERR_BAD_INPUT', `aggregation.patchSize must be odd, got ${patchSize}`);
  if (cfg.featureUpsample !== 'bilinear') throw new SpotdiffError('ERR_BAD_INPUT', `featureUpsample must be 'bilinear'`);
  nullOrPositive('projection.layerDim', cfg.projection.layerDim);
  nullOrPositive('projection.targetDim', cfg.projection.targetDim);
  const c = cfg.coreset;
  if (!(c.ratio > 0 && c.ratio <= 1)) throw new SpotdiffError('ERR_BAD_INPUT', `coreset.ratio must be in (0, 1], got ${c.ratio}`);
  nullOrPositive('coreset.projectionDim', c.projectionDim);
  if (c.projection !== 'gaussian') throw new SpotdiffError('ERR_BAD_INPUT', `coreset.projection must be 'gaussian'`);
  checkPositiveInt('coreset.startPoints', c.startPoints);
  if (!Number.isSafeInteger(c.seed)) throw new SpotdiffError('ERR_BAD_INPUT', `coreset.seed must be an integer, got ${c.seed}`);
  if (cfg.distance !== 'euclidean' && cfg.distance !== 'squared-euclidean') throw new SpotdiffError('ERR_BAD_INPUT', `distance must be 'euclidean' or 'squared-euclidean', got ${JSON.stringify(cfg.distance)}`);
  if (cfg.imageScore.rule !== 'reweighted' && cfg.imageScore.rule !== 'max') throw new SpotdiffError('ERR_BAD_INPUT', `imageScore.rule must be 'reweighted' or 'max', got ${JSON.stringify(cfg.imageScore.rule)}`);
  checkPositiveInt('imageScore.neighbours', cfg.imageScore.neighbours);
  if (fitted) {
    const f = cfg.fitted;
    if (f === null || !Array.isArray(f.layerChannels) || f.layerChannels.length !== cfg.layers.length || !Array.isArray(f.grid) || f.grid.length !== 2) {
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', 'the PatchCore config has no valid fit record (fitted.layerChannels / fitted.grid)');
    }
    f.layerChannels.forEach((v, i) => checkPositiveInt(`fitted.layerChannels[${i}]`, v));
    f.grid.forEach((v, i) => checkPositiveInt(`fitted.grid[${i}]`, v));
    checkPositiveInt('fitted.embeddingDim', f.embeddingDim);
    checkPositiveInt('fitted.memorySize', f.memorySize);
  }
}
