import { readFile } from 'node:fs/promises';
import type * as Ort from 'onnxruntime-node';
import type { Scores } from '../../detect/common/features.js';
import { SpotdiffError } from '../../util/errors.js';
import { fromMetadataProps, type OnnxModelInfo } from './metadata.js';
import { decodeModel } from './schema.js';
import { startThreads } from '../../tensor/start-threads.js';

/**
 * Scoring with ONNX Runtime (onnxruntime-node, CPU), no libtorch: a model written by
 * exportOnnx, images in, the same Scores as the libtorch path's scoresToHost.
 */
export interface OnnxScorer {
  readonly info: OnnxModelInfo;
  /** [height, width] the graph takes and the maps come out at. */
  readonly imageSize: readonly [number, number];
  /**
   * Scores `count` images: float32 [count, 3, H, W] in [0, 1] (resized to imageSize, NOT
   * ImageNet-normalised: the graph does that).
   */
  score(images: Float32Array, count: number): Promise<Scores>;
  /** Frees the session. */
  close(): Promise<void>;
}

export interface OnnxScorerOptions {
  /** Intra-op threads (default: the libtorch engine's, tensor/start-threads.ts: SPOTDIFF_THREADS, OMP_NUM_THREADS or every core). */
  threads?: number;
}

let ortModule: Promise<typeof Ort> | null = null;

/**
 * onnxruntime-node, loaded on first use. Its Linux build records a device id and usage events
 * under ~/.cache/Microsoft/DeveloperTools and uploads them (1DS telemetry) unless
 * ORT_DISABLE_TELEMETRY is set: an inspection line's scorer should not phone home, so it is
 * set before the library loads, unless the user set it already.
 */
function loadOrt(): Promise<typeof Ort> {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

function metadataOf(bytes: Uint8Array, source: string): OnnxModelInfo {
  let model: Record<string, unknown>;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source} is not an ONNX model: ${(e as Error).message}`, { cause: e });
  }
  const props = (model.metadata_props ?? []) as { key: string; value: string }[];
  return fromMetadataProps(Object.fromEntries(props.map((p) => [p.key, p.value])), source);
}

/** Opens an exported model (a path to an .onnx file, or its bytes) for scoring. */
export async function openOnnxScorer(model: string | Uint8Array, opts: OnnxScorerOptions = {}): Promise<OnnxScorer> {
  const source = typeof model === 'string' ? model : 'ONNX model bytes';
  let bytes: Uint8Array;
  try {
    bytes = typeof model === 'string' ? await readFile(model) : model;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpotdiffError(code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO', `cannot read ${source}: ${(e as Error).message}`, { cause: e });
  }
  const info = metadataOf(bytes, source);
  const ort = await loadOrt();
  const options: Ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', executionProviders: ['cpu'] };
  options.intraOpNumThreads = opts.threads ?? startThreads();
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, options);
  } catch (e) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `ONNX Runtime cannot load ${source}: ${(e as Error).message}`, { cause: e });
  }
  const { height, width } = info.input;
  return {
    info,
    imageSize: [height, width],
    async score(images: Float32Array, count: number): Promise<Scores> {
      if (!Number.isInteger(count) || count < 1 || images.length !== count * 3 * height * width) {
        throw new SpotdiffError('ERR_SHAPE', `ONNX scorer: expected ${count} images of 3×${height}×${width} floats (${count * 3 * height * width} values), got ${images.length}`);
      }
      const out = await session.run({ [info.input.name]: new ort.Tensor('float32', images, [count, 3, height, width]) });
      const scores = out[info.outputs.imageScores];
      const maps = out[info.outputs.maps];
      if (scores === undefined || maps === undefined) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: the graph lacks the outputs ${info.outputs.imageScores} / ${info.outputs.maps}`);
      return { imageScores: scores.data as Float32Array, maps: maps.data as Float32Array, height, width };
    },
    async close(): Promise<void> {
      await session.release();
    },
  };
}
