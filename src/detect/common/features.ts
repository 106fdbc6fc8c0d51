import type * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';

/** Backbone features by layer name, as src/models' extractFeatures returns them. */
export type FeatureMaps = ReadonlyMap<string, T.Tensor>;

/** Layer outputs in the order asked for, after checking they are float [B, C, h, w] with one batch size. */
export function layerTensors(features: FeatureMaps, layers: readonly string[], who: string): T.Tensor[] {
  const out: T.Tensor[] = [];
  let batch = -1;
  for (const name of layers) {
    const t = features.get(name);
    if (t === undefined) {
      throw new SpotdiffError('ERR_BAD_INPUT', `${who}: feature layer "${name}" is missing (got ${[...features.keys()].join(', ') || 'none'})`);
    }
    if (t.rank !== 4) throw new SpotdiffError('ERR_SHAPE', `${who}: layer ${name} must be [B, C, h, w], got [${t.shape.join(', ')}]`);
    if (t.dtype !== 'float32') throw new SpotdiffError('ERR_DTYPE', `${who}: layer ${name} must be float32, got ${t.dtype}`);
    const b = t.shape[0] as number;
    if (b === 0) throw new SpotdiffError('ERR_SHAPE', `${who}: layer ${name} holds no images`);
    if (batch >= 0 && b !== batch) throw new SpotdiffError('ERR_SHAPE', `${who}: layers disagree on the batch size (${layers[0]}: ${batch}, ${name}: ${b})`);
    batch = b;
    out.push(t);
  }
  return out;
}

export interface ScoreOptions {
  /** Output map size [height, width]; default: the model's config.input.imageSize. */
  imageSize?: readonly [number, number];
}

/** What scoring returns: one score per image and one map per image at the input size. */
export interface ScoreTensors {
  /** [B] float32. */
  imageScores: T.Tensor;
  /** [B, H, W] float32 (upsampled and blurred). */
  maps: T.Tensor;
  /** [B, h, w] float32: the raw patch-level scores before upsampling and blur. */
  patchScores: T.Tensor;
}

/** The same on the host, for metrics and reports (which work on plain typed arrays). */
export interface Scores {
  imageScores: Float32Array;
  /** B maps of height × width, row-major, one after another. */
  maps: Float32Array;
  height: number;
  width: number;
}

export function scoresToHost(s: ScoreTensors): Scores {
  const [, height, width] = s.maps.shape as [number, number, number];
  return { imageScores: s.imageScores.toFloat32(), maps: s.maps.toFloat32(), height, width };
}
