import { gaussianRadius, gaussianWeights, paddedIndices } from '../../augment/gaussian-blur.js';
import type { MapConfig } from '../../detect/common/config.js';
import type { GraphBuilder } from './graph.js';

/**
 * The 1-class anomaly map (detect/common/anomaly-map.ts) as ONNX nodes: patch scores
 * [B, h, w] → bilinear Resize (align_corners=False: pytorch_half_pixel) to [B, 1, H, W] →
 * the Gaussian blur of augment/gaussian-blur.ts: the same float32 kernel, the border padding
 * done by Gather with the same padded row and column indices (which covers 'symmetric', the
 * edge-repeating mirror that ONNX Pad lacks, and 'reflect' alike), then a 1-D Conv along H and
 * one along W.
 */

/** [B, h, w] → [B, 1, H, W] bilinear, as torch's F.interpolate(align_corners=False). */
export function upsampleBilinear(g: GraphBuilder, x4: string, size: readonly [number, number], hint: string): string {
  // Resize wants the full output shape: take B and C from the input.
  const shape = g.op('Concat', [g.op('Slice', [g.op('Shape', [x4]), g.intList([0]), g.intList([2])]), g.intList([size[0], size[1]])], { axis: 0 });
  return g.op('Resize', [x4, '', '', shape], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }, hint);
}

/** Blurs [B, 1, H, W] planes as gaussianBlur(maps, σ, { truncate, padding }) does. */
export function blurMaps(g: GraphBuilder, x: string, size: readonly [number, number], map: MapConfig): string {
  const { sigma, truncate, padding } = map.blur;
  const r = gaussianRadius(sigma, truncate);
  if (r === 0) return x;
  const kernel = Float32Array.from(gaussianWeights(sigma, r));
  const rows = g.ints('blur_rows', paddedIndices(size[0], r, padding));
  const cols = g.ints('blur_cols', paddedIndices(size[1], r, padding));
  const kh = g.floats('blur_kernel_h', kernel, [1, 1, 2 * r + 1, 1]);
  const kw = g.floats('blur_kernel_w', kernel, [1, 1, 1, 2 * r + 1]);
  const alongH = g.op('Conv', [g.op('Gather', [x, rows], { axis: 2 }), kh], { kernel_shape: [2 * r + 1, 1] }, 'blur_h');
  return g.op('Conv', [g.op('Gather', [alongH, cols], { axis: 3 }), kw], { kernel_shape: [1, 2 * r + 1] }, 'blur_w');
}

/** Patch scores [B, h, w] → final maps [B, H, W] (upsampled, blurred). */
export function anomalyMaps(g: GraphBuilder, patchScores: string, size: readonly [number, number], map: MapConfig): string {
  const up = upsampleBilinear(g, g.op('Unsqueeze', [patchScores, g.intList([1])]), size, 'map_upsampled');
  return g.op('Squeeze', [blurMaps(g, up, size, map), g.intList([1])], {}, 'maps');
}

/** Image score = the maximum of each map: [B, H, W] → [B]. */
export function maxPerImage(g: GraphBuilder, maps: string): string {
  return g.op('ReduceMax', [g.op('Flatten', [maps], { axis: 1 })], { axes: [1], keepdims: 0 }, 'max_score');
}
