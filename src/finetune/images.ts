import * as T from '../tensor/index.js';
import { DataLoader } from '../data/loader.js';
import type { Sample } from '../data/datasets/sample.js';
import { globalAugment, normalizeImages, WEAK_AUGMENT, type GlobalAugmentConfig } from '../augment/index.js';
import type { Random } from '../util/random.js';

/** Decoded, preprocessed images kept in memory (test sets are scored once per run). */
export interface ImageBatch {
  /** N × 3 × H × W float32, ImageNet-normalised. */
  images: Float32Array;
  shape: readonly [number, 3, number, number];
  labels: Uint8Array;
  /** N × H × W of 0/1 when masks were loaded. */
  masks: Uint8Array | null;
  samples: Sample[];
}

/** Reads and resizes images to size×size once, in batches. */
export async function loadImageBatches(samples: readonly Sample[], size: number, o: { masks?: boolean; batchSize?: number } = {}): Promise<ImageBatch[]> {
  const loader = new DataLoader(samples, { batchSize: o.batchSize ?? 16, preprocess: { resize: [size, size] }, masks: o.masks ?? false });
  const out: ImageBatch[] = [];
  for await (const b of loader) out.push({ images: b.images, shape: b.shape, labels: b.labels, masks: b.masks, samples: b.samples });
  return out;
}

/** The k shots as one tensor [k, 3, size, size] with values in [0, 1] (augmentations come before normalisation); the caller disposes it. */
export async function loadShots(samples: readonly Sample[], size: number): Promise<T.Tensor> {
  const loader = new DataLoader(samples, { batchSize: samples.length, preprocess: { resize: [size, size], normalize: null }, prefetch: 0 });
  for await (const b of loader) return T.keep(T.tensor(b.images, [...b.shape]));
  throw new Error('unreachable: a loader over at least one sample yields a batch');
}

/**
 * The support set's augmentation: SPD's weak views without the flip, so that position-wise
 * statistics (PaDiM) are not averaged over mirrored objects.
 */
export const SUPPORT_AUGMENT: Readonly<GlobalAugmentConfig> = Object.freeze({ ...WEAK_AUGMENT, flipP: 0 });

/**
 * The normal images the scorer is fitted on: the k shots themselves plus `views` mildly
 * augmented copies of each (a Gaussian in hundreds of dimensions, or PaDiM's per-position one,
 * needs more than k samples). ImageNet-normalised [k·(1 + views), 3, H, W].
 */
export function supportSet(shots: T.Tensor, rng: Random, views: number): T.Tensor {
  return T.tidy(() => {
    const parts = [shots];
    for (let v = 0; v < views; v++) parts.push(globalAugment(shots, rng, SUPPORT_AUGMENT).images);
    return normalizeImages(T.cat(parts, 0));
  });
}
