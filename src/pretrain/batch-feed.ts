import * as T from '../tensor/index.js';
import { DataLoader } from '../data/loader.js';
import { DeviceImages } from '../data/device-images.js';
import { prefetched } from '../data/prefetch.js';
import type { Sample } from '../data/datasets/sample.js';
import type { PixelBatch } from '../data/pixel-batch.js';

/**
 * How the trainer's steps get their images: every image decoded and resized once into the
 * loader's 8-bit cache (later epochs decode nothing), batches decoded ahead on sharp's threads,
 * and each step's tensors on the device made before the previous step runs (prefetch depth 1),
 * so on CUDA the copy is queued while the host waits for that step.
 * The batches and values are those the float loader gave (seeded order; [0, 1] floats).
 */

/** One step's inputs, owned by the feed: freed when the next one is asked for. */
export interface StepBatch {
  batch: PixelBatch;
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
  ) {
    this.images = new DeviceImages(device);
  }

  /** The batches of one epoch in the loader's seeded order. */
  epoch(epoch: number): AsyncGenerator<StepBatch> {
    return prefetched(this.loader.pixelEpoch(epoch), (b) => this.prepare(b), release, 1);
  }

  dispose(): void {
    this.images.dispose();
  }

  private prepare(batch: PixelBatch): StepBatch {
    const images = T.keep(this.images.fromPixels(batch));
    const labels = this.classOf === null ? null : T.keep(T.tensor(labelsOf(batch.samples, this.classOf), [batch.samples.length], { dtype: 'int64', device: this.device }));
    return { batch, images, labels };
  }
}

function labelsOf(samples: readonly Sample[], classOf: ReadonlyMap<string, number>): BigInt64Array {
  return BigInt64Array.from(samples, (s) => BigInt(classOf.get(s.object) as number));
}

function release(s: StepBatch): void {
  s.images.dispose();
  s.labels?.dispose();
}
