import type { InputImages, ModelManifest } from '../../detect/run/model-folder.js';
import { SpotdiffError } from '../../util/errors.js';
import { ONNX_OPSET } from './schema.js';
import { GRAPH_INPUT, NORMALIZATION } from './preprocess.js';

/**
 * What an exported model says about itself (ModelProto.metadata_props, string values; numbers
 * and records as JSON): enough to score images with no model folder and no spotdiff.
 */
export const ONNX_FORMAT = 'spotdiff.onnx';
export const ONNX_FORMAT_VERSION = 1;
export const OUTPUT_SCORES = 'image_scores';
export const OUTPUT_MAPS = 'maps';

export interface OnnxModelInfo {
  format: typeof ONNX_FORMAT;
  formatVersion: number;
  method: string;
  opset: number;
  backbone: string;
  /** Graph input name and its [height, width]; images float32 [B, 3, H, W] in [0, 1]. */
  input: { name: string; height: number; width: number; range: [0, 1] };
  /** Applied inside the graph ((x − mean) / std per RGB channel): callers feed [0, 1] pixels. */
  normalization: { mean: number[]; std: number[]; inGraph: true };
  /** Image-score and pixel (map) thresholds of the model folder. */
  threshold: { image: number; pixel: number; source: string };
  /** Whether the maps localise defects (false: each map is the image score everywhere). */
  localises: boolean;
  /** The images the model was fitted on (size before resizing, channels): others are refused as by the model folder. */
  inputImages: InputImages;
  /** The object the model was fitted for. */
  object: string;
  outputs: { imageScores: string; maps: string };
  spotdiffVersion: string;
}

export function modelInfo(manifest: ModelManifest, localises: boolean, spotdiffVersion: string): OnnxModelInfo {
  const [height, width] = manifest.detector.input.imageSize;
  return {
    format: ONNX_FORMAT,
    formatVersion: ONNX_FORMAT_VERSION,
    method: manifest.method,
    opset: ONNX_OPSET,
    backbone: manifest.backbone.arch,
    input: { name: GRAPH_INPUT, height, width, range: [0, 1] },
    normalization: { mean: NORMALIZATION.mean, std: NORMALIZATION.std, inGraph: true },
    threshold: { image: manifest.threshold.value, pixel: manifest.threshold.pixelValue, source: String(manifest.threshold.source) },
    localises,
    inputImages: manifest.inputImages,
    object: manifest.training.object,
    outputs: { imageScores: OUTPUT_SCORES, maps: OUTPUT_MAPS },
    spotdiffVersion,
  };
}

/** metadata_props: "spotdiff.<key>" → JSON of each field. */
export function toMetadataProps(info: OnnxModelInfo): Record<string, string> {
  return Object.fromEntries(Object.entries(info).map(([k, v]) => [`spotdiff.${k}`, JSON.stringify(v)]));
}

/** Reads the fields back from metadata_props (as ONNX Runtime or the schema decoder gives them). */
export function fromMetadataProps(props: Readonly<Record<string, string>>, source: string): OnnxModelInfo {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (!k.startsWith('spotdiff.')) continue;
    try {
      out[k.slice('spotdiff.'.length)] = JSON.parse(v);
    } catch (e) {
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: metadata ${k} is not JSON`, { cause: e });
    }
  }
  const info = out as unknown as OnnxModelInfo;
  if (info.format !== ONNX_FORMAT) throw new SpotdiffError('ERR_VERSION', `${source}: not an ONNX model exported by spotdiff (no spotdiff.format metadata)`);
  if (info.formatVersion !== ONNX_FORMAT_VERSION) throw new SpotdiffError('ERR_VERSION', `${source}: spotdiff ONNX format version ${JSON.stringify(info.formatVersion)}; this spotdiff reads ${ONNX_FORMAT_VERSION}`);
  if (!Number.isInteger(info.input?.height) || !Number.isInteger(info.input?.width)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: metadata has no input size`);
  if (!Number.isInteger(info.inputImages?.width) || !Number.isInteger(info.inputImages?.height)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: metadata has no inputImages record`);
  if (!Number.isFinite(info.threshold?.image) || !Number.isFinite(info.threshold?.pixel)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: metadata has no valid threshold`);
  return info;
}
