// PatchCore (Roth et al. 2022): the pure math, features in -> scores and maps out.
export { PatchcoreModel, PatchcoreFitter, fitPatchcore, fitPatchcoreAsync, type PatchcoreFitOptions } from './model.js';
export { PATCHCORE_FORMAT, PATCHCORE_VERSION, resolvePatchcoreConfig, checkPatchcoreConfig, type PatchcoreConfig, type PatchcoreOptions } from './config.js';
export { patchcoreEmbedding, embeddingDim } from './embedding.js';
export { greedyCoreset, coresetProjection, coresetStartIndices, coresetSize, type GreedyCoresetOptions } from './coreset.js';
export { nearestNeighbour, kNearest } from './nearest.js';
export type { FeatureMaps, ScoreOptions, ScoreTensors, Scores, InputConfig, MapConfig } from '../common/index.js';
