import type { HostScores } from '../detect/run/tiles.js';

export type { HostScores };

/**
 * What the server scores with: a batch of preprocessed images (resized to the model's input,
 * ImageNet-normalised, [N, 3, H, W] float32 on the host) in, N image scores and N anomaly maps
 * out, on the host. The server knows nothing else of the engine, so an engine other than
 * libtorch (ONNX Runtime) is one more implementation of this interface.
 */
export interface Scorer {
  /** The engine, for /v1/health and /v1/model (e.g. 'libtorch'). */
  readonly engine: string;
  /** Where it runs (e.g. 'cpu', 'cuda:0'). */
  readonly device: string;
  /** Scores one batch; the server calls it for one batch at a time. */
  score(images: Float32Array, shape: readonly [number, 3, number, number]): Promise<HostScores>;
  /** Frees the engine's memory; called once, after the last batch. */
  dispose(): void | Promise<void>;
}
