import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { layerTensors, type FeatureMaps } from '../common/features.js';
import type { PatchcoreConfig } from './config.js';
import { foldedPatchConvs, type PatchConv } from './patch-pooling.js';

type EmbeddingConfig = Pick<PatchcoreConfig, 'layers' | 'aggregation' | 'projection'>;

/** Adaptive average pooling over the last dim of [B, L, K] -> [B, L, size] (F.adaptive_avg_pool1d per row). */
function poolLastDim(x: T.Tensor, size: number): T.Tensor {
  return T.adaptiveAvgPool2d(x, [x.shape[1] as number, size]);
}

/** The dimension each layer contributes before the final pooling. */
export function layerVectorSize(cfg: EmbeddingConfig, channels: number): number {
  const raw = cfg.aggregation.method === 'unfold-mean' ? channels * cfg.aggregation.patchSize ** 2 : channels;
  const out = cfg.projection.layerDim ?? raw;
  if (out > raw) {
    throw new SpotdiffError(
      'ERR_BAD_INPUT',
      `PatchCore: projection.layerDim ${out} is larger than a layer's ${raw}-value patch vector (${channels} channels${cfg.aggregation.method === 'unfold-mean' ? ` × ${cfg.aggregation.patchSize}²` : ''}); lower it or set it to null`,
    );
  }
  return out;
}

/** Final embedding size for the given layer channels (checks the projection sizes). */
export function embeddingDim(cfg: EmbeddingConfig, layerChannels: readonly number[]): number {
  const joined = layerChannels.reduce((a, c) => a + layerVectorSize(cfg, c), 0);
  const out = cfg.projection.targetDim ?? joined;
  if (out > joined) throw new SpotdiffError('ERR_BAD_INPUT', `PatchCore: projection.targetDim ${out} is larger than the ${joined} joined layer values; lower it or set it to null`);
  return out;
}

/**
 * Locally aware patch features [B, h, w, D] on the first layer's grid.
 *
 * 'unfold-mean' is the official pipeline: F.unfold(kernel p, padding p//2) gives each position
 * its C·p² neighbourhood vector (channel-major, zero-padded at the border); the vector is
 * average-pooled to layerDim (MeanMapper); the layers are joined and pooled to targetDim
 * (Aggregator). The official code upsamples later layers' unfolded patches before the
 * MeanMapper; here the pooled vectors are upsampled, which is the same because both steps are
 * linear and act on different axes (spatial vs channel), and costs p² times less.
 * 'avg-pool' is anomalib's AvgPool2d(p, stride 1, padding p//2, count_include_pad).
 * 'unfold-mean' runs as grouped convolutions (foldedEmbedding) where patch-pooling.ts has a plan
 * for the layers; `folded: false` takes the unfold path anyway (the reference the tests hold it to).
 */
export function patchcoreEmbedding(
  features: FeatureMaps,
  cfg: EmbeddingConfig,
  opts: { folded?: boolean } = {},
): { embedding: T.Tensor; layerChannels: number[]; grid: [number, number] } {
  const ts = layerTensors(features, cfg.layers, 'PatchCore');
  const layerChannels = ts.map((t) => t.shape[1] as number);
  const dim = embeddingDim(cfg, layerChannels);
  const [b, h, w] = [ts[0]!.shape[0] as number, ts[0]!.shape[2] as number, ts[0]!.shape[3] as number];
  const p = cfg.aggregation.patchSize;
  const pad = (p - 1) / 2;
  const folded = cfg.aggregation.method === 'unfold-mean' && opts.folded !== false ? foldedPatchConvs(layerChannels, layerChannels.map((c) => layerVectorSize(cfg, c)), p, dim) : null;
  if (folded !== null) return { embedding: foldedEmbedding(ts, folded, [h, w]), layerChannels, grid: [h, w] };
  const embedding = T.noGrad(() =>
    T.tidy(() => {
      const perLayer = ts.map((x, i) => {
        const [c, hl, wl] = [layerChannels[i] as number, x.shape[2] as number, x.shape[3] as number];
        let v =
          cfg.aggregation.method === 'unfold-mean'
            ? T.permute(T.unfold(x, p, { padding: pad }), [0, 2, 1]) // [B, L, C·p²]
            : T.permute(T.reshape(T.avgPool2d(x, p, { stride: 1, padding: pad, countIncludePad: true }), [b, c, hl * wl]), [0, 2, 1]);
        const size = layerVectorSize(cfg, c);
        if (size !== v.shape[2]) v = poolLastDim(v, size);
        let grid = T.permute(T.reshape(v, [b, hl, wl, size]), [0, 3, 1, 2]); // [B, D_l, h_l, w_l]
        if (hl !== h || wl !== w) grid = T.interpolate(grid, [h, w], 'bilinear', false);
        return grid;
      });
      const joined = perLayer.length === 1 ? perLayer[0]! : T.cat(perLayer, 1);
      let v = T.reshape(T.permute(joined, [0, 2, 3, 1]), [b, h * w, joined.shape[1] as number]);
      if (dim !== v.shape[2]) v = poolLastDim(v, dim);
      return T.contiguous(T.reshape(v, [b, h, w, dim]));
    }),
  );
  return { embedding, layerChannels, grid: [h, w] };
}

/**
 * 'unfold-mean' with both poolings as one grouped convolution per layer (patch-pooling.ts): each
 * layer's share of the D channels, upsampled to the first layer's grid and joined. The same
 * values as unfold + the two poolings, summed in another order.
 */
function foldedEmbedding(ts: readonly T.Tensor[], convs: readonly PatchConv[], grid: [number, number]): T.Tensor {
  return T.noGrad(() =>
    T.tidy(() => {
      const perLayer = ts.map((x, i) => {
        const conv = convs[i]!;
        const weight = T.tensor(conv.weight, conv.shape, { device: x.device });
        const y = T.conv2d(x, weight, null, { padding: conv.padding, groups: conv.groups });
        return y.shape[2] === grid[0] && y.shape[3] === grid[1] ? y : T.interpolate(y, grid, 'bilinear', false);
      });
      const joined = perLayer.length === 1 ? perLayer[0]! : T.cat(perLayer, 1);
      return T.contiguous(T.permute(joined, [0, 2, 3, 1]));
    }),
  );
}
