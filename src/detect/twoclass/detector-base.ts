import * as T from '../../tensor/index.js';
import type { HostTensor } from '../../tensor/io/index.js';
import { moduleDevice } from '../../nn/device.js';
import { SpotdiffError } from '../../util/errors.js';
import type { AnomalyDetector, ImageScores } from '../method.js';
import type { TwoClassDetectorConfig } from './detector-config.js';
import type { TwoClassNetwork } from './network.js';

/** State names of a 2-class detector: "network.<name>" for every tensor of its network. */
export const NETWORK_PREFIX = 'network.';

/**
 * What the classifier and the segmenter share: one trained network (owned, eval mode) and its
 * config; scoring is theirs.
 */
export abstract class TwoClassDetector<C extends TwoClassDetectorConfig = TwoClassDetectorConfig> implements AnomalyDetector {
  readonly device: T.Device;
  private disposed = false;

  /** Takes ownership of the network. */
  constructor(
    readonly method: string,
    readonly network: TwoClassNetwork,
    readonly config: C,
  ) {
    this.device = moduleDevice(network);
    network.eval();
  }

  abstract score(images: T.Tensor, opts?: { imageSize?: readonly [number, number] }): ImageScores;
  abstract tileMaps(tiles: T.Tensor): T.Tensor;
  abstract finishStitched(stitched: T.Tensor): ImageScores;

  stateDict(): Map<string, T.Tensor> {
    return new Map([...this.network.stateDict()].map(([k, t]) => [NETWORK_PREFIX + k, t]));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.network.dispose();
  }
}

/** The network's tensors of a model folder (names without "network."); any other name is refused. */
export function networkState(tensors: ReadonlyMap<string, HostTensor>, source: string): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    if (!name.startsWith(NETWORK_PREFIX)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: tensor ${JSON.stringify(name)} is not a 2-class network's (names start with "${NETWORK_PREFIX}")`);
    out.set(name.slice(NETWORK_PREFIX.length), t);
  }
  return out;
}

/** [B] scores → [B, H, W] maps holding each image's score everywhere. */
export function constantMaps(scores: T.Tensor, height: number, width: number): T.Tensor {
  return T.tidy(() => T.add(T.zeros([scores.shape[0] as number, height, width], { device: scores.device }), T.reshape(scores, [-1, 1, 1])));
}
