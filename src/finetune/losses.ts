import * as T from '../tensor/index.js';
import { infoNce, ntXent } from '../nn/index.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * The three terms of few-shot contrastive fine-tuning, on projections z [B, D] of a batch of
 * B normal images (two augmented views each) and, optionally, of B synthesized anomalies.
 *
 * 1. contrastive: NT-Xent between the two views (each view's positive is its other view, the
 *    other 2B − 2 views are negatives). It keeps the embedding informative: without it the
 *    other two terms are satisfied by mapping everything to one point.
 * 2. cross-instance: 1 − cos(z_i, z_j) for two DIFFERENT normal images i ≠ j, averaged. It pulls
 *    the normal class together (what the scoring's distances need), against term 1's spreading.
 *    Written as 1 − cos rather than −cos so that it is 0 for identical directions and ≥ 0.
 * 3. negative (optional): InfoNCE whose only negatives are the synthesized anomalies: for each
 *    normal view, its other view is the positive and the B anomaly projections are the
 *    negatives, symmetrised over the two views. We chose this over "minimise cos(normal,
 *    anomaly)": the softmax form is bounded (it stops pushing once an anomaly is far enough
 *    relative to the positive, instead of driving every cosine to −1, which a patch pasted into
 *    an otherwise identical image can only reach by distorting the whole embedding), it works
 *    at the same temperature as term 1, and the anomaly made from image b itself is the
 *    hardest negative of b's views: the network must spot the difference.
 */

/** Term 1: NT-Xent between two views [B, D] (B ≥ 1; with B = 1 it is 0: no negatives). */
export function contrastiveLoss(z1: T.Tensor, z2: T.Tensor, temperature: number): T.Tensor {
  return ntXent(z1, z2, { temperature });
}

/**
 * For each batch position b, the next position (cyclically) holding a different source image,
 * or null for all when every position holds the same image (k = 1: no cross-instance pair).
 */
export function crossInstancePartners(sources: readonly number[]): number[] | null {
  const n = sources.length;
  if (new Set(sources).size < 2) return null;
  return sources.map((s, b) => {
    for (let d = 1; d < n; d++) {
      const p = (b + d) % n;
      if (sources[p] !== s) return p;
    }
    throw new Error('unreachable: two distinct sources exist');
  });
}

/**
 * Term 2: mean over b of 1 − cos(a_b, b_{partner[b]}), where partner[b] holds a different
 * normal image than b. 0 when the paired embeddings point the same way, 2 when opposite.
 */
export function crossInstanceLoss(a: T.Tensor, b: T.Tensor, partners: readonly number[]): T.Tensor {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[0] !== partners.length || b.shape[0] !== partners.length || a.shape[1] !== b.shape[1]) {
    throw new SpotdiffError('ERR_SHAPE', `crossInstanceLoss: embeddings [${a.shape.join(', ')}] and [${b.shape.join(', ')}] must both be [${partners.length}, D] (one per partner index)`);
  }
  if (partners.some((p, i) => !Number.isInteger(p) || p < 0 || p >= partners.length || p === i)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `crossInstanceLoss: partner indices must name another batch position, got [${partners.join(', ')}]`);
  }
  return T.tidy(() => {
    const index = T.tensor(BigInt64Array.from(partners, (p) => BigInt(p)), [partners.length], { device: b.device });
    return T.mean(T.rsub(T.cosineSimilarity(a, T.indexSelect(b, 0, index), 1, 1e-8), 1));
  });
}

/** Term 3: ½·[InfoNCE(z1 → z2 | anomalies) + InfoNCE(z2 → z1 | anomalies)], anomalies [M, D] the only negatives. */
export function negativeLoss(z1: T.Tensor, z2: T.Tensor, anomalies: T.Tensor, temperature: number): T.Tensor {
  return T.tidy(() => T.mul(T.add(infoNce(z1, z2, { negatives: anomalies, temperature }), infoNce(z2, z1, { negatives: anomalies, temperature })), 0.5));
}

export interface LossWeights {
  /** Weight of the cross-instance term (default 1). */
  crossInstance: number;
  /** Weight of the negative term (default 1; ignored without synthesized anomalies). */
  negative: number;
  /** τ of the contrastive and negative terms (default 0.2). */
  temperature: number;
}

export const DEFAULT_LOSS_WEIGHTS: Readonly<LossWeights> = Object.freeze({ crossInstance: 1, negative: 1, temperature: 0.2 });

export interface FinetuneLossParts {
  /** contrastive + crossInstance·cross + negative·neg, with a graph to every trainable parameter. */
  total: T.Tensor;
  contrastive: number;
  /** Null when the batch holds one image only (k = 1). */
  cross: number | null;
  /** Null without synthesized anomalies. */
  negative: number | null;
}

/** The weighted sum of the terms for projections of view 1, view 2 and (optionally) anomalies. */
export function finetuneLossParts(z1: T.Tensor, z2: T.Tensor, anomalies: T.Tensor | null, partners: readonly number[] | null, w: LossWeights): FinetuneLossParts {
  return T.tidy(() => {
    const con = contrastiveLoss(z1, z2, w.temperature);
    let total = con;
    const cross = partners === null ? null : crossInstanceLoss(z1, z2, partners);
    if (cross !== null) total = T.add(total, T.mul(cross, w.crossInstance));
    const neg = anomalies === null ? null : negativeLoss(z1, z2, anomalies, w.temperature);
    if (neg !== null) total = T.add(total, T.mul(neg, w.negative));
    return { total, contrastive: con.item(), cross: cross?.item() ?? null, negative: neg?.item() ?? null };
  });
}

/**
 * True when an NT-Xent value over 2·batch views sits at log(2·batch − 1), its value when every
 * embedding is the same (each anchor's positive is no closer than its negatives): the
 * embedding has collapsed, typically from too high a learning rate.
 */
export function isCollapsedContrastive(value: number, batch: number): boolean {
  return value >= Math.log(2 * batch - 1) - 1e-3;
}
