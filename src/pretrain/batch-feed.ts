import * as T from '../tensor/index.js';
import { DataLoader } from '../data/loader.js';
import { DeviceImages } from '../data/device-images.js';
import { prefetched } from '../data/prefetch.js';
import type { Sample } from '../data/datasets/sample.js';
import type { HeldBatch, PixelBatch } from '../data/pixel-batch.js';
import type { DeviceImageStore } from '../data/device-image-store.js';

/**
 * How the trainer's steps get their images: every image decoded and resized once — into the
 * loader's 8-bit host cache, or into a device image store (later epochs then gather their
 * batches on the device and neither decode nor copy) — batches decoded ahead on sharp's threads,
 * and each step's tensors on the device made before the previous step runs (prefetch depth 1),
 * so on CUDA the copy is queued while the host waits for that step.
 * The batches and values are those the float loader gave (seeded order; [0, 1] floats),
 * wherever the images were cached.
 */

/** One step's inputs, owned by the feed: freed when the next one is asked for. */
export interface StepBatch {
  /** Position of the batch in its epoch. */
  index: number;
  samples: Sample[];
  /** [N, 3, size, size] float32 in [0, 1] on the device. */
  images: T.Tensor;
  /** int64 class labels (supervised), else null. */
  labels: T.Tensor | null;
}

export class BatchFeed {
  private readonly images: DeviceImages;

  constructor(
    private readonly loader: DataLoader,
    private readonly device: T.Device,
    /** Object -> class label for supervised runs; null otherwise. */
    private readonly classOf: ReadonlyMap<string, number> | null,
    /** The device image cache, owned by the caller; null: the loader's host cache alone. */
    private readonly store: DeviceImageStore | null = null,
  ) {
    this.images = new DeviceImages(device);
  }

  /** The batches of one epoch in the loader's seeded order. */
  epoch(epoch: number): AsyncGenerator<StepBatch> {
    const store = this.store;
    const batches = store === null ? this.loader.pixelEpoch(epoch) : this.loader.pixelEpoch(epoch, (indices) => store.holds(indices));
    return prefetched(batches, (b) => this.prepare(b), release, 1);
  }

  dispose(): void {
    this.images.dispose();
  }

  private prepare(batch: PixelBatch | HeldBatch): StepBatch {
    const images = T.keep(T.tidy(() => this.images.toFloat(this.bytesOf(batch))));
    const labels = this.classOf === null ? null : T.keep(T.tensor(labelsOf(batch.samples, this.classOf), [batch.samples.length], { dtype: 'int64', device: this.device }));
    return { index: batch.index, samples: batch.samples, images, labels };
  }

  /** The batch's uint8 [N, H, W, 3] on the device: gathered from the store, or uploaded (and stored). */
  private bytesOf(batch: PixelBatch | HeldBatch): T.Tensor {
    if (batch.pixels === null) return (this.store as DeviceImageStore).gather(batch.indices);
    const bytes = this.images.upload(batch);
    this.store?.put(batch.indices, bytes);
    return bytes;
  }
}

function labelsOf(samples: readonly Sample[], classOf: ReadonlyMap<string, number>): BigInt64Array {
  return BigInt64Array.from(samples, (s) => BigInt(classOf.get(s.object) as number));
}

function release(s: StepBatch): void {
  s.images.dispose();
  s.labels?.dispose();
}
