import { SpotdiffError } from '../util/errors.js';

// Kept free of the tensor engine, so the CLI can check --layer before loading libtorch.

/** The layers whose activations an attention map can be taken at. */
export const ATTENTION_LAYERS = ['layer1', 'layer2', 'layer3', 'layer4'] as const;
export type AttentionLayer = (typeof ATTENTION_LAYERS)[number];

/**
 * layer3 by default. The embedding is layer4's global average, so the gradient with respect to
 * layer4's activations is the same at every position (1/(h·w) of the embedding's gradient):
 * GradCAM there reduces to a fixed channel weighting of a 7×7 grid (at 224 px). At layer3 the
 * gradient passes through layer4 and varies over the 14×14 grid, which resolves defects a
 * few percent of the image wide, while still being deep enough to be semantic.
 */
export const DEFAULT_ATTENTION_LAYER: AttentionLayer = 'layer3';

export function checkAttentionLayer(name: string): AttentionLayer {
  if (!(ATTENTION_LAYERS as readonly string[]).includes(name)) {
    throw new SpotdiffError('ERR_USAGE', `unknown layer "${name}" for attention maps; choose one of ${ATTENTION_LAYERS.join(', ')}`);
  }
  return name as AttentionLayer;
}
