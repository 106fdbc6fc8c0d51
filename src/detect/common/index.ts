// Shared by the 1-class detectors: input/map config, feature checks, map post-processing.
export { type InputConfig, type MapConfig, DEFAULT_MAP_CONFIG, checkInputConfig, checkMapConfig } from './config.js';
export { type FeatureMaps, type ScoreOptions, type ScoreTensors, type Scores, scoresToHost, layerTensors } from './features.js';
export { gaussianBlur, gaussianKernel1d, gaussianRadius, type BlurPadding } from './gaussian-blur.js';
export { anomalyMaps, upsampleScores, maxPerImage } from './anomaly-map.js';
