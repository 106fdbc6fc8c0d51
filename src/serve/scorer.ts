import type { HostScores } from '../detect/run/tiles.js';

export type { HostScores };

/**
 * What the server scores with: a batch of preprocessed images (resized to the model's input,
 * [N, 3, H, W] float32 on the host, normalised as `normalize` says) in, N image scores and N
 * anomaly maps out, on the host. The server knows nothing else of the engine, so an engine
 * other than libtorch is one more implementation of this interface: an exported ONNX graph
 * normalises inside, so its scorer says normalize 'none' and wraps its session's run.
 */
export interface Scorer {
  /** The engine, for /v1/health and /v1/model (e.g. 'libtorch'). */
  readonly engine: string;
  /** Where it runs (e.g. 'cpu', 'cuda:0'). */
  readonly device: string;
  /** The input it takes: 'imagenet' = ImageNet-normalised; 'none' = values in [0, 1]. */
  readonly normalize: 'imagenet' | 'none';
  /** Scores one batch; the server calls it for one batch at a time. */
  score(images: Float32Array, shape: readonly [number, 3, number, number]): Promise<HostScores>;
  /** Frees the engine's memory; called once, after the last batch. */
  dispose(): void | Promise<void>;
}
