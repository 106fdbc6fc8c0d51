import type * as T from '../../tensor/index.js';
import type { Module } from '../../nn/module.js';

/**
 * What the 2-class trainer trains: any module from preprocessed images [B, 3, H, W]
 * (ImageNet-normalised) to logits, [B, 2] for the classifier or [B, 1, H, W] for the
 * segmenter. The trainer owns the network it builds and hands it back trained.
 */
export interface TwoClassNetwork extends Module {
  forward(images: T.Tensor): T.Tensor;
}

/**
 * Builds the network on the current default device. The trainer seeds libtorch's generator
 * from the run's seed just before the call, so new layers start the same for the same seed.
 */
export type TwoClassNetworkFactory = () => TwoClassNetwork;
