// Shared by the 1-class detectors: input/map config, feature checks, map post-processing.
export { type InputConfig, type MapConfig, DEFAULT_MAP_CONFIG, checkInputConfig, checkMapConfig } from './config.js';
export { type FeatureMaps, type ScoreOptions, type ScoreTensors, type Scores, scoresToHost, layerTensors } from './features.js';
// The map blur is the project's one Gaussian blur (src/augment/gaussian-blur.ts).
export { gaussianBlur, gaussianKernel1d, gaussianRadius, type BlurPadding } from '../../augment/gaussian-blur.js';
export { anomalyMaps, upsampleScores, maxPerImage } from './anomaly-map.js';
export { type TileConfig, type Tile, checkTileConfig, parseTileSpec, defaultOverlap, tileStarts, tileLayout, tileWindow1d, stitchTiles, cutTiles } from './tiling.js';
