import type { PatchcoreConfig } from '../../detect/patchcore/config.js';
import { embeddingDim, layerVectorSize } from '../../detect/patchcore/embedding.js';
import { SpotdiffError } from '../../util/errors.js';
import { adaptiveAvgPoolAxis } from './channel-pool.js';
import type { GraphBuilder } from './graph.js';
import { upsampleBilinear } from './anomaly-map.js';
import { foldedPatchConvs, patchConv, unfoldPoolRows } from '../../detect/patchcore/patch-pooling.js';
import { patchConvNode } from './unfold-pool.js';

/** A fitted PatchCore head, as the exporter reads it. */
export interface PatchcoreParts {
  config: PatchcoreConfig;
  /** float32 [M, D], row-major. */
  memory: Float32Array;
  /** Each configured layer's output value in the graph, with its [channels, h, w]. */
  layers: { value: string; channels: number; h: number; w: number }[];
}

/** 'unfold-mean': F.unfold(p, padding p//2) as Pad + p² Slices stacked channel-major → [B, C·p², h·w]. */
function unfoldPatches(g: GraphBuilder, x: string, c: number, h: number, w: number, p: number): string {
  const pad = (p - 1) / 2;
  const padded = pad === 0 ? x : g.op('Pad', [x, g.intList([0, 0, pad, pad, 0, 0, pad, pad])], { mode: 'constant' });
  const shifts: string[] = [];
  for (let ki = 0; ki < p; ki++) {
    for (let kj = 0; kj < p; kj++) {
      const s = g.op('Slice', [padded, g.intList([ki, kj]), g.intList([ki + h, kj + w]), g.intList([2, 3])]);
      shifts.push(g.op('Unsqueeze', [s, g.intList([2])]));
    }
  }
  const stacked = shifts.length === 1 ? shifts[0]! : g.op('Concat', shifts, { axis: 2 }); // [B, C, p², h, w]
  return g.op('Reshape', [stacked, g.intList([0, c * p * p, h * w])]);
}

/** One layer's locally aware features [B, size, h_l, w_l] (patchcore/embedding.ts per layer). */
function layerEmbedding(g: GraphBuilder, cfg: PatchcoreConfig, layer: PatchcoreParts['layers'][number], i: number): string {
  const { value, channels: c, h, w } = layer;
  const p = cfg.aggregation.patchSize;
  const size = layerVectorSize(cfg, c);
  if (cfg.aggregation.method === 'unfold-mean' && size !== c * p * p) {
    const conv = patchConv(unfoldPoolRows(c * p * p, size), c, p);
    if (conv !== null) return patchConvNode(g, value, conv, `layer_${i}_pool`);
  }
  const pad = (p - 1) / 2;
  const vectors =
    cfg.aggregation.method === 'unfold-mean'
      ? unfoldPatches(g, value, c, h, w, p)
      : g.op('Reshape', [g.op('AveragePool', [value], { kernel_shape: [p, p], strides: [1, 1], pads: [pad, pad, pad, pad], count_include_pad: 1 }), g.intList([0, c, h * w])]);
  const raw = cfg.aggregation.method === 'unfold-mean' ? c * p * p : c;
  const pooled = adaptiveAvgPoolAxis(g, vectors, 3, 1, raw, size, `layer_${i}_pool`);
  return g.op('Reshape', [pooled, g.intList([0, size, h, w])]);
}

/**
 * 'unfold-mean' with both poolings folded into one grouped Conv per layer, when every final bin
 * lies within one layer's outputs: each layer then yields its share of the final D channels
 * before the (linear, spatial) upsampling. Null when that does not hold or a Conv would be dense.
 */
function foldedEmbedding(g: GraphBuilder, parts: PatchcoreParts, dim: number, grid: [number, number]): string | null {
  const cfg = parts.config;
  if (cfg.aggregation.method !== 'unfold-mean') return null;
  const channels = parts.layers.map((l) => l.channels);
  const convs = foldedPatchConvs(channels, channels.map((c) => layerVectorSize(cfg, c)), cfg.aggregation.patchSize, dim);
  if (convs === null) return null;
  const perLayer = parts.layers.map((l, i) => {
    const conv = patchConvNode(g, l.value, convs[i]!, `layer_${i}_pool`);
    return l.h === grid[0] && l.w === grid[1] ? conv : upsampleBilinear(g, conv, grid, `layer_${i}_upsampled`);
  });
  const joined = perLayer.length === 1 ? perLayer[0]! : g.op('Concat', perLayer, { axis: 1 });
  return g.op('Transpose', [g.op('Reshape', [joined, g.intList([0, dim, grid[0] * grid[1]])])], { perm: [0, 2, 1] }, 'embedding');
}

/** Patch embeddings [B, L, D] on the first layer's grid. */
function embedding(g: GraphBuilder, parts: PatchcoreParts): { value: string; dim: number; grid: [number, number] } {
  const cfg = parts.config;
  const [first] = parts.layers;
  if (first === undefined) throw new SpotdiffError('ERR_BAD_INPUT', 'PatchCore export: no layers');
  const dim = embeddingDim(cfg, parts.layers.map((l) => l.channels));
  const folded = foldedEmbedding(g, parts, dim, [first.h, first.w]);
  if (folded !== null) return { value: folded, dim, grid: [first.h, first.w] };
  const perLayer = parts.layers.map((l, i) => {
    const e = layerEmbedding(g, cfg, l, i);
    return l.h === first.h && l.w === first.w ? e : upsampleBilinear(g, e, [first.h, first.w], `layer_${i}_upsampled`);
  });
  const joinedDim = parts.layers.reduce((a, l) => a + layerVectorSize(cfg, l.channels), 0);
  const joined = perLayer.length === 1 ? perLayer[0]! : g.op('Concat', perLayer, { axis: 1 });
  const flat = g.op('Reshape', [joined, g.intList([0, joinedDim, first.h * first.w])]);
  const pooled = adaptiveAvgPoolAxis(g, flat, 3, 1, joinedDim, dim, 'embedding_pool');
  return { value: g.op('Transpose', [pooled], { perm: [0, 2, 1] }, 'embedding'), dim, grid: [first.h, first.w] };
}

/** ‖m‖² − 2·q·m for every row of q [N, D] against the bank [M, D]: one Gemm, as libtorch's addmm(norms, q, bankᵀ, 1, −2). */
function bankScores(g: GraphBuilder, q: string, bank: string, norms: string): string {
  return g.op('Gemm', [q, bank, norms], { alpha: { float: -2 }, beta: { float: 1 }, transB: 1 });
}

/** Squared distance between rows, exactly as ‖a − b‖² summed over `axis`. */
function squaredDistance(g: GraphBuilder, a: string, b: string, axis: number): string {
  const d = g.op('Sub', [a, b]);
  return g.op('ReduceSum', [g.op('Mul', [d, d]), g.intList([axis])], { keepdims: 0 });
}

/**
 * PatchCore's scoring (patchcore/model.ts, nearest.ts) on backbone outputs: the nearest memory
 * entry by the matrix expansion (ArgMin), its distance recomputed exactly as ‖q − m‖² (as the
 * libtorch path does), Sqrt for 'euclidean'; image score by max or the k-nearest re-weighting.
 * Returns patch scores [B, h, w] and image scores [B].
 */
export function patchcoreScores(g: GraphBuilder, parts: PatchcoreParts): { patchScores: string; imageScores: string } {
  const cfg = parts.config;
  const { value: emb, dim, grid } = embedding(g, parts);
  const m = parts.memory.length / dim;
  if (!Number.isInteger(m) || m < 1) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `PatchCore export: a memory bank of ${parts.memory.length} values is not [M, ${dim}]`);
  const normsHost = new Float32Array(m);
  for (let r = 0; r < m; r++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += Math.fround((parts.memory[r * dim + k] as number) ** 2);
    normsHost[r] = s;
  }
  const bank = g.floats('memory_bank', parts.memory, [m, dim]);
  const norms = g.floats('memory_norms', normsHost, [m]);
  const q = g.op('Reshape', [emb, g.intList([-1, dim])], {}, 'queries');
  const nearest = g.op('ArgMin', [bankScores(g, q, bank, norms)], { axis: 1, keepdims: 0 }, 'nearest');
  const squared = squaredDistance(g, q, g.op('Gather', [bank, nearest], { axis: 0 }), 1);
  const patch = cfg.distance === 'euclidean' ? g.op('Sqrt', [squared]) : squared;
  const L = grid[0] * grid[1];
  const perImage = g.op('Reshape', [patch, g.intList([-1, L])], {}, 'patch_rows');
  const k = Math.min(cfg.imageScore.neighbours, m);
  const imageScores =
    cfg.imageScore.rule === 'max' || cfg.imageScore.neighbours === 1
      ? g.op('ReduceMax', [perImage], { axes: [1], keepdims: 0 }, 'image_score')
      : reweighted(g, { perImage, emb, nearest, bank, norms, dim, L, k, euclidean: cfg.distance === 'euclidean' });
  return { patchScores: g.op('Reshape', [perImage, g.intList([-1, grid[0], grid[1]])], {}, 'patch_scores'), imageScores };
}

interface ReweightInputs {
  perImage: string;
  emb: string;
  nearest: string;
  bank: string;
  norms: string;
  dim: number;
  L: number;
  k: number;
  euclidean: boolean;
}

/** Paper eq. 7 as patchcore/model.ts computes it: (1 − softmax(dist to N_k(m*))[0]) · s*. */
function reweighted(g: GraphBuilder, r: ReweightInputs): string {
  const worst = g.op('ArgMax', [r.perImage], { axis: 1, keepdims: 1 }, 'worst_patch'); // [B, 1]
  const sStar = g.op('ReduceMax', [r.perImage], { axes: [1], keepdims: 0 }, 's_star');
  const at = g.op('Expand', [g.op('Unsqueeze', [worst, g.intList([2])]), g.intList([1, 1, r.dim])]); // [B, 1, D]
  const testFeature = g.op('GatherElements', [r.emb, at], { axis: 1 }); // [B, 1, D]
  const nnRows = g.op('Reshape', [r.nearest, g.intList([-1, r.L])]);
  const mIndex = g.op('Squeeze', [g.op('GatherElements', [nnRows, worst], { axis: 1 }), g.intList([1])]); // [B]
  const mStar = g.op('Gather', [r.bank, mIndex], { axis: 0 }); // [B, D]
  const [, support] = g.opN('TopK', [bankScores(g, mStar, r.bank, r.norms), g.intList([r.k])], 2, { axis: 1, largest: 0, sorted: 1 }, 'support') as [string, string];
  const supportFeatures = g.op('Gather', [r.bank, support], { axis: 0 }); // [B, k, D]
  const squared = squaredDistance(g, supportFeatures, testFeature, 2); // [B, k]
  const dist = r.euclidean ? g.op('Sqrt', [squared]) : squared;
  const first = g.op('Gather', [g.op('Softmax', [dist], { axis: 1 }), g.ints('zero_index', [0], [])], { axis: 1 }); // [B]
  return g.op('Mul', [g.op('Sub', [g.scalar(1), first]), sStar], {}, 'image_score');
}
