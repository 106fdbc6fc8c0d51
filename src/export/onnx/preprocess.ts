import { IMAGENET_MEAN, IMAGENET_STD } from '../../data/image.js';
import type { GraphBuilder } from './graph.js';

/**
 * The exported graph takes images as float32 [B, 3, H, W] in [0, 1] (resized, not normalised)
 * and normalises them itself with ImageNet's mean and std, so a caller (a browser page, a line
 * controller) needs no knowledge of the training normalisation.
 */
export const GRAPH_INPUT = 'images';
export const NORMALIZATION = { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };

/** (x − mean) / std per channel, as torchvision's Normalize. */
export function normalizeInput(g: GraphBuilder, x: string): string {
  const mean = g.floats('imagenet_mean', NORMALIZATION.mean, [1, 3, 1, 1]);
  const std = g.floats('imagenet_std', NORMALIZATION.std, [1, 3, 1, 1]);
  return g.op('Div', [g.op('Sub', [x, mean]), std], {}, 'normalized');
}
