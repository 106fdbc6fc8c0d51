import * as T from '../tensor/index.js';
import { cutPaste, normalizeImages, smoothBlend, strongAugment, weakAugment } from '../augment/index.js';
import type { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import { crossInstancePartners } from './losses.js';

export const VIEW_KINDS = ['weak', 'strong'] as const;
export type ViewKind = (typeof VIEW_KINDS)[number];
export const NEGATIVE_KINDS = ['cutpaste', 'smoothblend', 'none'] as const;
export type NegativeKind = (typeof NEGATIVE_KINDS)[number];

/**
 * The views of one fine-tuning step, drawn on the host from a seeded Random, so that a step is
 * a pure function of these tensors and the weights (and can be replayed in PyTorch).
 */
export interface FinetuneViews {
  /** First and second augmented view of each batch image, ImageNet-normalised [B, 3, H, W]. */
  first: T.Tensor;
  second: T.Tensor;
  /** Synthesized anomalies made from `first` (before normalisation), normalised [B, 3, H, W]; null for negatives 'none'. */
  anomalies: T.Tensor | null;
  /** Which shot each batch position shows. */
  sources: number[];
  /** Cross-instance partner of each position (another shot), null when the batch shows one image only. */
  partners: number[] | null;
}

export interface ViewOptions {
  /** Images (view pairs) per step, ≥ 2. */
  batch: number;
  views: ViewKind;
  negatives: NegativeKind;
}

/**
 * Which shot each batch position shows: the shots in a shuffled order, reshuffled after each
 * pass, so every shot appears about equally often and (k ≥ 2) at least two differ.
 */
export function drawSources(rng: Random, shots: number, batch: number): number[] {
  const sources: number[] = [];
  const all = Array.from({ length: shots }, (_, i) => i);
  while (sources.length < batch) sources.push(...rng.shuffled(all));
  return sources.slice(0, batch);
}

/** Draws one step's views from the k shots [k, 3, H, W] (values in [0, 1]). */
export function makeViews(shots: T.Tensor, rng: Random, o: ViewOptions): FinetuneViews {
  if (!Number.isInteger(o.batch) || o.batch < 2) throw new SpotdiffError('ERR_BAD_INPUT', `fine-tuning batch must be an integer ≥ 2 (the contrastive loss needs negatives), got ${o.batch}`);
  if (shots.rank !== 4 || shots.shape[0]! < 1) throw new SpotdiffError('ERR_SHAPE', `makeViews: shots must be [k, 3, H, W], got [${shots.shape.join(', ')}]`);
  const sources = drawSources(rng, shots.shape[0]!, o.batch);
  const augment = o.views === 'weak' ? weakAugment : strongAugment;
  return T.tidy(() => {
    const index = T.tensor(BigInt64Array.from(sources, (s) => BigInt(s)), [sources.length], { device: shots.device });
    const images = T.indexSelect(shots, 0, index);
    const first = augment(images, rng).images;
    const second = augment(images, rng).images;
    const anomalies = o.negatives === 'cutpaste' ? cutPaste(first, rng).images : o.negatives === 'smoothblend' ? smoothBlend(first, rng).images : null;
    return {
      first: normalizeImages(first),
      second: normalizeImages(second),
      anomalies: anomalies === null ? null : normalizeImages(anomalies),
      sources,
      partners: crossInstancePartners(sources),
    };
  });
}

/** The view kind for `auto`: weak views for k ≤ 2 (strong crops of one or two images mostly teach where a crop came from), strong otherwise. */
export function autoViewKind(k: number): ViewKind {
  return k <= 2 ? 'weak' : 'strong';
}
