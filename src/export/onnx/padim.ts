import type { PadimConfig } from '../../detect/padim/config.js';
import { SpotdiffError } from '../../util/errors.js';
import type { GraphBuilder } from './graph.js';

/** A fitted PaDiM head, as the exporter reads it. */
export interface PadimParts {
  config: PadimConfig;
  channelIndex: readonly number[];
  /** float32 [HW, d]. */
  mean: Float32Array;
  /** float32 [HW, d, d], the position chunks joined in order. */
  invCovariance: Float32Array;
  layers: { value: string; channels: number; h: number; w: number }[];
}

/**
 * The PaDiM embedding (padim/embedding.ts): each layer's chosen channels (Gather), coarser
 * layers repeated onto the first grid (Gather with ⌊i/s⌋ rows and columns, as the official
 * unfold/fold block copy), joined and put back in channel_index order → [B, d, h, w].
 */
function embedding(g: GraphBuilder, parts: PadimParts): string {
  const [first] = parts.layers;
  if (first === undefined) throw new SpotdiffError('ERR_BAD_INPUT', 'PaDiM export: no layers');
  const { h, w } = first;
  const pieces: string[] = [];
  const groupedPosition = new Array<number>(parts.channelIndex.length);
  let offset = 0;
  let filled = 0;
  parts.layers.forEach((l, li) => {
    const mine: number[] = [];
    parts.channelIndex.forEach((gi, k) => {
      if (gi >= offset && gi < offset + l.channels) {
        groupedPosition[k] = filled + mine.length;
        mine.push(gi - offset);
      }
    });
    offset += l.channels;
    if (mine.length === 0) return;
    filled += mine.length;
    let part = g.op('Gather', [l.value, g.ints(`padim_layer${li}_channels`, mine)], { axis: 1 });
    if (l.h !== h) part = g.op('Gather', [part, g.ints(`padim_layer${li}_rows`, repeatIndex(h, h / l.h))], { axis: 2 });
    if (l.w !== w) part = g.op('Gather', [part, g.ints(`padim_layer${li}_cols`, repeatIndex(w, w / l.w))], { axis: 3 });
    pieces.push(part);
  });
  if (filled !== parts.channelIndex.length) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `PaDiM export: channel_index points past the layers' ${offset} channels`);
  const grouped = pieces.length === 1 ? pieces[0]! : g.op('Concat', pieces, { axis: 1 });
  return g.op('Gather', [grouped, g.ints('padim_order', groupedPosition)], { axis: 1 }, 'padim_embedding');
}

function repeatIndex(out: number, factor: number): number[] {
  return Array.from({ length: out }, (_, i) => Math.floor(i / factor));
}

/**
 * Mahalanobis distance per position with the stored float32 inverse covariances
 * (padim/model.ts): √max(0, δᵀ Σ⁻¹ δ), δ = x − μ, as a batched MatMul over positions.
 * Returns patch scores [B, h, w].
 */
export function padimScores(g: GraphBuilder, parts: PadimParts): string {
  const [first] = parts.layers;
  const d = parts.channelIndex.length;
  const hw = first!.h * first!.w;
  if (parts.mean.length !== hw * d || parts.invCovariance.length !== hw * d * d) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `PaDiM export: statistics do not cover the ${first!.h}×${first!.w} grid with ${d} channels`);
  }
  const emb = embedding(g, parts);
  const byPosition = g.op('Transpose', [g.op('Reshape', [emb, g.intList([0, d, hw])])], { perm: [2, 0, 1] }); // [HW, B, d]
  const delta = g.op('Sub', [byPosition, g.floats('padim_mean', parts.mean, [hw, 1, d])]);
  const projected = g.op('MatMul', [delta, g.floats('padim_inv_covariance', parts.invCovariance, [hw, d, d])]);
  const squared = g.op('ReduceSum', [g.op('Mul', [projected, delta]), g.intList([2])], { keepdims: 0 }); // [HW, B]
  const dist = g.op('Sqrt', [g.op('Max', [squared, g.scalar(0)])]);
  return g.op('Reshape', [g.op('Transpose', [dist], { perm: [1, 0] }), g.intList([-1, first!.h, first!.w])], {}, 'patch_scores');
}
