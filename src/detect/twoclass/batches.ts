import * as T from '../../tensor/index.js';
import { DataLoader, type Batch } from '../../data/loader.js';
import { prefetched } from '../../data/prefetch.js';
import type { Sample } from '../../data/datasets/sample.js';
import { defaultCacheBytes } from '../../data/image-cache.js';
import type { TwoClassTask } from './loss.js';
import type { StepPlan } from './plan.js';

/**
 * The batches of a 2-class run from a given step on: the plan's images decoded once into the
 * loader's 8-bit cache at the model size, decoded ahead on sharp's threads, and each step's
 * tensors put on the device while the previous step runs. Images are [B, 3, H, W] float32 in
 * [0, 1] (augmentation comes next, then ImageNet normalisation); labels [B] int64 (1 =
 * anomaly); masks [B, 1, H, W] float32 in {0, 1} for the segmenter (all 0 for a normal image,
 * resized nearest-neighbour so they stay binary), else null.
 */
export interface StepTensors {
  /** 0-based step. */
  step: number;
  samples: Sample[];
  images: T.Tensor;
  labels: T.Tensor;
  masks: T.Tensor | null;
}

export interface BatchSourceOptions {
  task: TwoClassTask;
  imageSize: readonly [number, number];
  batchSize: number;
  device: T.Device;
  /** Bytes of decoded images to keep (default: a quarter of the free memory). */
  cacheBytes?: number;
  /** Data-parallel: only rows [from, to) of each step's batch of `batchSize` (this rank's share). */
  share?: { from: number; to: number };
}

/** The steps [start, plan.totalSteps) in order; each step's tensors are freed when the next is asked for. */
export function stepBatches(samples: readonly Sample[], plan: StepPlan, start: number, o: BatchSourceOptions): AsyncGenerator<StepTensors> {
  const sh = o.share ?? { from: 0, to: o.batchSize };
  const sequence = plan
    .indices(start, plan.totalSteps)
    .filter((_, p) => p % o.batchSize >= sh.from && p % o.batchSize < sh.to)
    .map((i) => samples[i] as Sample);
  if (sequence.length === 0) return (async function* () {})();
  // One pass over the plan's sequence in order: the loader's cache still decodes each file once.
  const loader = new DataLoader(sequence, {
    batchSize: sh.to - sh.from,
    preprocess: { resize: [o.imageSize[0], o.imageSize[1]], normalize: null },
    shuffle: false,
    dropLast: true,
    masks: o.task === 'segmenter',
    cacheBytes: o.cacheBytes ?? defaultCacheBytes(),
  });
  return prefetched(loader.epoch(0), (b) => toDevice(b, start + b.index, o.device), release, 1);
}

function toDevice(b: Batch, step: number, device: T.Device): StepTensors {
  const [n, , h, w] = b.shape;
  return T.tidy(() => {
    const images = T.keep(T.tensor(b.images, [...b.shape], { device }));
    const labels = T.keep(T.tensor(BigInt64Array.from(b.labels, (l) => BigInt(l)), [n], { device }));
    const masks = b.masks === null ? null : T.keep(T.toDtype(T.tensor(b.masks, [n, 1, h, w], { dtype: 'uint8', device }), 'float32'));
    return { step, samples: b.samples, images, labels, masks };
  });
}

function release(s: StepTensors): void {
  s.images.dispose();
  s.labels.dispose();
  s.masks?.dispose();
}
