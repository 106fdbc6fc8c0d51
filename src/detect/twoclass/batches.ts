import * as T from '../../tensor/index.js';
import { DataLoader } from '../../data/loader.js';
import { DeviceImages } from '../../data/device-images.js';
import { DeviceImageStore } from '../../data/device-image-store.js';
import { planImageCache, type CachePlace } from '../../data/cache-plan.js';
import type { HeldBatch, PixelBatch } from '../../data/pixel-batch.js';
import { prefetched } from '../../data/prefetch.js';
import type { Sample } from '../../data/datasets/sample.js';
import type { TwoClassTask } from './loss.js';
import type { StepPlan } from './plan.js';

/**
 * The batches of a 2-class run from a given step on: the plan's images (and masks) decoded once
 * at the model size — into a device image store when it fits (data/cache-plan.ts; later steps
 * then gather them on the device, nothing decoded or copied), else the loader's 8-bit host
 * cache — decoded ahead on sharp's threads, and each step's tensors made on the device while the
 * previous step runs. Images are [B, 3, H, W] float32 in [0, 1] (augmentation comes next, then
 * ImageNet normalisation); labels [B] int64 (1 = anomaly); masks [B, 1, H, W] float32 in {0, 1}
 * for the segmenter (all 0 for a normal image, resized nearest-neighbour so they stay binary),
 * else null. The values do not depend on where the images are kept.
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
  /** Bytes of decoded images to keep (default: a quarter of the free memory; 0: none). */
  cacheBytes?: number;
  /** Where to keep them (default auto: the device when it is a GPU and they fit). */
  cacheOn?: CachePlace;
  /** Data-parallel: only rows [from, to) of each step's batch of `batchSize` (this rank's share). */
  share?: { from: number; to: number };
}

/** The steps [start, plan.totalSteps) in order; each step's tensors are freed when the next is asked for. */
export function stepBatches(samples: readonly Sample[], plan: StepPlan, start: number, o: BatchSourceOptions): AsyncGenerator<StepTensors> {
  const sh = o.share ?? { from: 0, to: o.batchSize };
  // The sample index of each position of the run's one pass, this rank's rows only.
  const order = plan.indices(start, plan.totalSteps).filter((_, p) => p % o.batchSize >= sh.from && p % o.batchSize < sh.to);
  if (order.length === 0) return (async function* () {})();
  return run(samples, order, start, { ...o, batchSize: sh.to - sh.from });
}

async function* run(samples: readonly Sample[], order: readonly number[], start: number, o: BatchSourceOptions): AsyncGenerator<StepTensors> {
  const [h, w] = o.imageSize;
  const withMasks = o.task === 'segmenter';
  const cache = planImageCache({
    place: o.cacheOn ?? 'auto',
    device: o.device,
    images: samples.length,
    imageBytes: DeviceImageStore.bytesFor(1, h, w, withMasks ? 4 : 3),
    ...(o.cacheBytes !== undefined ? { limitBytes: o.cacheBytes } : {}),
    deviceMemory: () => T.cudaMemoryInfo(o.device),
  });
  // One pass over the plan's sequence in order: a cache still decodes each file once.
  const loader = new DataLoader(
    order.map((i) => samples[i] as Sample),
    { batchSize: o.batchSize, preprocess: { resize: [h, w], normalize: null }, shuffle: false, dropLast: true, masks: withMasks, cacheBytes: cache.place === 'host' ? cache.bytes : 0 },
  );
  const feed = new StepFeed(o.device, cache.place === 'device' ? { count: samples.length, h, w, withMasks } : null);
  const sampleIndices = (positions: readonly number[]): number[] => positions.map((p) => order[p] as number);
  try {
    const batches = feed.stores === null ? loader.pixelEpoch(0) : loader.pixelEpoch(0, (positions) => feed.holds(sampleIndices(positions)));
    yield* prefetched(batches, (b) => feed.prepare(b, start + b.index, sampleIndices(b.indices)), release, 1);
  } finally {
    feed.dispose();
  }
}

/** Makes each step's tensors on the device, from the batch's bytes or from the device stores. */
class StepFeed {
  private readonly images: DeviceImages;
  readonly stores: { images: DeviceImageStore; masks: DeviceImageStore | null } | null;

  constructor(
    private readonly device: T.Device,
    store: { count: number; h: number; w: number; withMasks: boolean } | null,
  ) {
    this.images = new DeviceImages(device);
    this.stores =
      store === null
        ? null
        : { images: new DeviceImageStore(device, store.count, store.h, store.w), masks: store.withMasks ? new DeviceImageStore(device, store.count, store.h, store.w, 1) : null };
  }

  holds(indices: readonly number[]): boolean {
    return this.stores !== null && this.stores.images.holds(indices);
  }

  /** `indices`: the batch's samples' positions in the run's sample list (the stores' keys). */
  prepare(b: PixelBatch | HeldBatch, step: number, indices: readonly number[]): StepTensors {
    const n = b.samples.length;
    const [h, w] = this.imageSize(b);
    return T.tidy(() => {
      const [bytes, maskBytes] = b.pixels === null ? this.gather(indices) : this.upload(b, indices);
      const images = T.keep(this.images.toFloat(bytes));
      const labels = T.keep(T.tensor(BigInt64Array.from(b.samples, (s) => (s.label === 'anomaly' ? 1n : 0n)), [n], { dtype: 'int64', device: this.device }));
      const masks = maskBytes === null ? null : T.keep(T.toDtype(T.reshape(maskBytes, [n, 1, h, w]), 'float32'));
      return { step, samples: b.samples, images, labels, masks };
    });
  }

  dispose(): void {
    this.images.dispose();
    this.stores?.images.dispose();
    this.stores?.masks?.dispose();
  }

  private imageSize(b: PixelBatch | HeldBatch): [number, number] {
    if (b.pixels !== null) return [b.shape[1], b.shape[2]];
    const s = this.stores as NonNullable<StepFeed['stores']>;
    return [s.images.height, s.images.width];
  }

  private gather(indices: readonly number[]): [T.Tensor, T.Tensor | null] {
    const s = this.stores as NonNullable<StepFeed['stores']>;
    return [s.images.gather(indices), s.masks?.gather(indices) ?? null];
  }

  private upload(b: PixelBatch, indices: readonly number[]): [T.Tensor, T.Tensor | null] {
    const [n, h, w] = b.shape;
    const bytes = this.images.upload(b);
    const maskBytes = b.masks === null ? null : this.images.bytesToDevice(b.masks, [n, h, w, 1]);
    this.stores?.images.put(indices, bytes);
    if (maskBytes !== null) this.stores?.masks?.put(indices, maskBytes);
    return [bytes, maskBytes];
  }
}

function release(s: StepTensors): void {
  s.images.dispose();
  s.labels.dispose();
  s.masks?.dispose();
}
