import type { InputImages, ModelManifest } from '../detect/run/model-folder.js';
import type { TileConfig } from '../detect/common/tiling.js';
import type { OnnxModelInfo } from '../export/onnx/index.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/image.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * What the server reports about its model, whichever engine scores it: built from the model
 * folder's model.json (libtorch) or from an exported graph's metadata (onnx), so that no route
 * needs the full manifest. Fields the source does not record are null.
 */
export interface ServedModelInfo {
  /** A registered method (src/detect/registry.ts). */
  method: string;
  /** Whether its maps localise defects: no heatmaps otherwise. */
  localises: boolean;
  backbone: string;
  /** The images it was fitted on: uploads of another size or colour type are refused. */
  inputImages: InputImages;
  /** [height, width] an upload is resized to before scoring. */
  resize: readonly [number, number];
  /** The model's own preprocessing (an exported graph applies it as its first node). */
  normalize: 'imagenet';
  tiling: TileConfig | null;
  threshold: { value: number; pixelValue: number; source: string; quantile: number | null };
  training: { dataset: string | null; object: string; fitImages: number | null; created: string | null };
  spotdiffVersion: string;
}

/** From a model folder's manifest; `localises` is methodInfo(method).localises. */
export function infoFromManifest(m: ModelManifest, localises: boolean): ServedModelInfo {
  const [height, width] = m.preprocess.resize;
  return {
    method: m.method,
    localises,
    backbone: m.backbone.arch,
    inputImages: m.inputImages,
    resize: [height, width],
    normalize: m.preprocess.normalize,
    tiling: m.tiling ?? null,
    threshold: { value: m.threshold.value, pixelValue: m.threshold.pixelValue, source: String(m.threshold.source), quantile: m.threshold.quantile ?? null },
    training: { dataset: m.training.dataset, object: m.training.object, fitImages: m.training.fitImages, created: m.training.created },
    spotdiffVersion: m.spotdiffVersion,
  };
}

/**
 * From an exported graph's metadata. The graph holds no tiling (tiled models are not
 * exported), and its metadata does not record the training set's name, size or date.
 */
export function infoFromOnnx(i: OnnxModelInfo, source: string): ServedModelInfo {
  const same = (a: readonly number[] | undefined, b: readonly number[]): boolean => a?.length === b.length && a.every((v, k) => v === b[k]);
  if (!same(i.normalization?.mean, IMAGENET_MEAN) || !same(i.normalization?.std, IMAGENET_STD)) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: the graph's normalisation ${JSON.stringify(i.normalization)} is not ImageNet's, which every spotdiff model uses`);
  }
  return {
    method: i.method,
    localises: i.localises,
    backbone: i.backbone,
    inputImages: i.inputImages,
    resize: [i.input.height, i.input.width],
    normalize: 'imagenet',
    tiling: null,
    threshold: { value: i.threshold.image, pixelValue: i.threshold.pixel, source: i.threshold.source, quantile: null },
    training: { dataset: null, object: i.object, fitImages: null, created: null },
    spotdiffVersion: i.spotdiffVersion,
  };
}
