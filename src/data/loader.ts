import { SpotdiffError } from '../util/errors.js';
import { Random } from '../util/random.js';
import { resizedSize } from './geometry.js';
import { cropWindowFor, readRgb, resizeRgb, writeChw, type Preprocess, type RgbImage } from './image.js';
import { readMask, resizeMaskNearest, writeMaskCrop, type MaskImage } from './mask.js';
import type { Sample } from './datasets/sample.js';
import type { CropWindow } from './geometry.js';

/**
 * Batches of preprocessed images as plain typed arrays, in a seeded order, decoded ahead of use.
 *
 * Prefetch: `prefetch` batches are always being decoded while the consumer works on the one it
 * holds. sharp decodes and resizes on libuv's thread pool (UV_THREADPOOL_SIZE, 4 by default), so
 * this overlaps with compute on the main thread; batches are still handed out in order.
 */

export interface LoaderOptions {
  batchSize: number;
  /** Resize / crop / normalise; every image of a batch must end up the same size. */
  preprocess: Preprocess;
  /** Shuffle each epoch (seeded by `seed` and the epoch number). Default false. */
  shuffle?: boolean;
  seed?: number;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Batches decoded ahead of the one being consumed. Default 2. */
  prefetch?: number;
  /** Load masks (zeros for normal images and for anomalies without a mask). Default false. */
  masks?: boolean;
  /** Observes batch decoding ('start' when its decoding begins, 'done' when it is ready). */
  onEvent?: (event: { type: 'start' | 'done'; batch: number; epoch: number }) => void;
}

export interface Batch {
  /** Position of the batch in its epoch. */
  index: number;
  /** N × 3 × H × W, float32, preprocessed. */
  images: Float32Array;
  shape: readonly [number, 3, number, number];
  /** Per image: 0 normal, 1 anomaly. */
  labels: Uint8Array;
  /** N × H × W of 0/1, or null when masks were not asked for. */
  masks: Uint8Array | null;
  samples: Sample[];
}

interface Decoded {
  img: RgbImage;
  window: CropWindow;
  mask: MaskImage | null;
}

export class DataLoader implements AsyncIterable<Batch> {
  private readonly samples: readonly Sample[];
  private readonly opts: Required<Omit<LoaderOptions, 'onEvent'>> & Pick<LoaderOptions, 'onEvent'>;
  private nextEpoch = 0;

  constructor(samples: readonly Sample[], options: LoaderOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new SpotdiffError('ERR_BAD_INPUT', `batchSize must be a positive integer, got ${options.batchSize}`);
    }
    const prefetch = options.prefetch ?? 2;
    if (!Number.isInteger(prefetch) || prefetch < 0) throw new SpotdiffError('ERR_BAD_INPUT', `prefetch must be an integer >= 0, got ${prefetch}`);
    if (samples.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no samples to load');
    this.samples = samples;
    this.opts = {
      batchSize: options.batchSize,
      preprocess: options.preprocess,
      shuffle: options.shuffle ?? false,
      seed: options.seed ?? 0,
      dropLast: options.dropLast ?? false,
      prefetch,
      masks: options.masks ?? false,
      onEvent: options.onEvent,
    };
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.samples.length / this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The sample indices of an epoch, in the order they are served. */
  order(epoch: number): number[] {
    const idx = this.samples.map((_, i) => i);
    return this.opts.shuffle ? Random.derive(this.opts.seed, 'loader-epoch', epoch).shuffle(idx) : idx;
  }

  /** Iterating the loader itself runs epoch 0, then 1, ... on each new iteration. */
  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.epoch(this.nextEpoch++)[Symbol.asyncIterator]();
  }

  async *epoch(epoch: number): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const { batchSize } = this.opts;
    const count = this.length;
    const inFlight: Promise<Batch>[] = [];
    let launched = 0;
    const launch = (): void => {
      const b = launched++;
      const p = this.loadBatch(order.slice(b * batchSize, (b + 1) * batchSize), b, epoch);
      p.catch(() => undefined); // rejections surface when awaited in order, never as "unhandled"
      inFlight.push(p);
    };
    while (launched < count && inFlight.length < Math.max(1, this.opts.prefetch)) launch();
    while (inFlight.length > 0) {
      const batch = await (inFlight.shift() as Promise<Batch>);
      // Refill before handing the batch out, so `prefetch` batches decode while it is used.
      while (launched < count && inFlight.length < this.opts.prefetch) launch();
      yield batch;
      if (launched < count && inFlight.length === 0) launch(); // prefetch 0: load on demand
    }
  }

  private async decode(sample: Sample): Promise<Decoded> {
    const { preprocess } = this.opts;
    let img = await readRgb(sample.image);
    if (preprocess.resize !== undefined) img = await resizeRgb(img, resizedSize(img.width, img.height, preprocess.resize));
    const window = cropWindowFor(img.width, img.height, preprocess.crop);
    let mask: MaskImage | null = null;
    if (this.opts.masks && sample.mask !== null) {
      mask = await readMask(sample.mask);
      if (preprocess.resize !== undefined) mask = resizeMaskNearest(mask, resizedSize(mask.width, mask.height, preprocess.resize));
      if (mask.width !== img.width || mask.height !== img.height) {
        throw new SpotdiffError('ERR_SHAPE', `mask ${sample.mask} is ${mask.width}×${mask.height} after resizing, its image ${sample.image} is ${img.width}×${img.height}`);
      }
    }
    return { img, window, mask };
  }

  private async loadBatch(indices: number[], index: number, epoch: number): Promise<Batch> {
    this.opts.onEvent?.({ type: 'start', batch: index, epoch });
    const samples = indices.map((i) => this.samples[i] as Sample);
    const decoded = await Promise.all(samples.map((s) => this.decode(s)));
    const first = decoded[0] as Decoded;
    const h = first.window.height;
    const w = first.window.width;
    decoded.forEach((d, i) => {
      if (d.window.width !== w || d.window.height !== h) {
        throw new SpotdiffError(
          'ERR_SHAPE',
          `images of one batch differ in size: ${samples[0]?.image} gives ${w}×${h}, ${samples[i]?.image} gives ${d.window.width}×${d.window.height}; resize to [h, w] or add a crop`,
        );
      }
    });
    const n = samples.length;
    const plane = h * w;
    const images = new Float32Array(n * 3 * plane);
    const labels = new Uint8Array(n);
    const masks = this.opts.masks ? new Uint8Array(n * plane) : null;
    decoded.forEach((d, i) => {
      writeChw(d.img, images, i * 3 * plane, d.window, this.opts.preprocess.normalize);
      labels[i] = samples[i]?.label === 'anomaly' ? 1 : 0;
      if (masks && d.mask) writeMaskCrop(d.mask, masks, i * plane, d.window);
    });
    this.opts.onEvent?.({ type: 'done', batch: index, epoch });
    return { index, images, shape: [n, 3, h, w], labels, masks, samples };
  }
}
