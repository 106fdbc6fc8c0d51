// PaDiM (Defard et al. 2020): the pure math, features in -> scores and maps out.
export { PadimModel, PadimFitter, fitPadim, fitPadimAsync, type PadimFitOptions } from './model.js';
export {
  PADIM_FORMAT,
  PADIM_VERSION,
  defaultPadimChannels,
  resolvePadimConfig,
  checkPadimConfig,
  padimChannelIndices,
  type PadimConfig,
  type PadimOptions,
} from './config.js';
export { padimEmbedding, padimLayout, type PadimLayout } from './embedding.js';
export { PythonRandom } from './python-random.js';
export type { FeatureMaps, ScoreOptions, ScoreTensors, Scores, InputConfig, MapConfig } from '../common/index.js';
