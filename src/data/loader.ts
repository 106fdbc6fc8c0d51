import { isSpotdiffError, SpotdiffError } from '../util/errors.js';
import { Random } from '../util/random.js';
import { resizedSize } from './geometry.js';
import { cropWindowFor, decodeError, readRgb, resizeRgb, writeChw, type Preprocess, type RgbImage } from './image.js';
import { DecodeSlots, defaultDecodeSlots } from './decode-slots.js';
import { ImageCache, type ImageCacheStats, type ImageDecoder } from './image-cache.js';
import { writeHwc, type HeldBatch, type PixelBatch } from './pixel-batch.js';
import { readMask, resizeMaskNearest, writeMaskCrop, type MaskImage } from './mask.js';
import type { Sample } from './datasets/sample.js';
import type { CropWindow } from './geometry.js';

/**
 * Batches of preprocessed images as plain typed arrays, in a seeded order, decoded ahead of use.
 *
 * Prefetch: `prefetch` batches are always being decoded while the consumer works on the one it
 * holds. sharp decodes and resizes on libuv's thread pool (UV_THREADPOOL_SIZE, 4 by default), so
 * this overlaps with compute on the main thread; batches are still handed out in order. At most
 * `decodeSlots` images decode at once, the earlier batches' first.
 *
 * Cache (`cacheBytes` > 0): each image is decoded and resized once and kept as 8-bit RGB
 * (image-cache.ts), so later epochs decode nothing; images past the limit are decoded each
 * time. Masks are not cached. Cached or not, a batch holds the same values.
 */

export interface LoaderOptions {
  batchSize: number;
  /** Resize / crop / normalise; every image of a batch must end up the same size. */
  preprocess: Preprocess;
  /** Shuffle each epoch (seeded by `seed` and the epoch number). Default false. */
  shuffle?: boolean;
  seed?: number;
  /**
   * This process's share of each epoch (distributed/sampler.ts): its indices replace the
   * shuffled order, and `perRank` samples make an epoch.
   */
  shard?: { indices(epoch: number): number[]; readonly perRank: number };
  /** Drop a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Batches decoded ahead of the one being consumed. Default 2. */
  prefetch?: number;
  /** Load masks (zeros for normal images and for anomalies without a mask). Default false. */
  masks?: boolean;
  /** Bytes of decoded, resized images to keep for later epochs. Default 0 (none). */
  cacheBytes?: number;
  /** Images decoding at once. Default twice libuv's thread pool. */
  decodeSlots?: number;
  /** Decodes one file to RGB at its own size (default readRgb); tests count decodes through it. */
  readImage?: ImageDecoder;
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

type CoreOptions = Omit<LoaderOptions, 'onEvent' | 'cacheBytes' | 'decodeSlots' | 'readImage' | 'shard'>;

export class DataLoader implements AsyncIterable<Batch> {
  private readonly samples: readonly Sample[];
  private readonly opts: Required<CoreOptions> & Pick<LoaderOptions, 'onEvent' | 'shard'>;
  private readonly slots: DecodeSlots;
  private readonly readImage: ImageDecoder;
  private readonly cache: ImageCache | null;
  /** Masks at the training size (one byte a pixel), when caching: a segmenter reads them every epoch too. */
  private readonly maskCache: ImageCache | null;
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
      shard: options.shard,
    };
    this.slots = new DecodeSlots(options.decodeSlots ?? defaultDecodeSlots());
    this.readImage = options.readImage ?? readRgb;
    const cacheBytes = options.cacheBytes ?? 0;
    this.cache = cacheBytes > 0 ? new ImageCache((path) => this.slots.run(() => this.decodeAtSize(path)), cacheBytes) : null;
    // Its own budget of the same size: a mask is a third of its image, so this rarely binds first.
    this.maskCache = cacheBytes > 0 && this.opts.masks ? new ImageCache((path) => this.slots.run(() => this.maskAtSize(path)), cacheBytes) : null;
  }

  /** What the cache holds and how often it decoded (null without a cache). */
  get cacheStats(): ImageCacheStats | null {
    return this.cache?.stats ?? null;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = (this.opts.shard?.perRank ?? this.samples.length) / this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The sample indices of an epoch, in the order they are served. */
  order(epoch: number): number[] {
    if (this.opts.shard !== undefined) return this.opts.shard.indices(epoch);
    const idx = this.samples.map((_, i) => i);
    return this.opts.shuffle ? Random.derive(this.opts.seed, 'loader-epoch', epoch).shuffle(idx) : idx;
  }

  /** Iterating the loader itself runs epoch 0, then 1, ... on each new iteration. */
  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.epoch(this.nextEpoch++)[Symbol.asyncIterator]();
  }

  async *epoch(epoch: number): AsyncGenerator<Batch> {
    yield* this.run(epoch, (indices, index) => this.loadBatch(indices, index, epoch));
  }

  /** The same batches as `epoch`, as 8-bit RGB channels last (no normalisation; masks when the loader takes them). */
  pixelEpoch(epoch: number): AsyncGenerator<PixelBatch>;
  /**
   * ... except the batches whose sample indices `isHeld` accepts when their turn to load comes:
   * those come out as HeldBatch, nothing decoded (the consumer holds their images already).
   */
  pixelEpoch(epoch: number, isHeld: (indices: readonly number[]) => boolean): AsyncGenerator<PixelBatch | HeldBatch>;
  async *pixelEpoch(epoch: number, isHeld?: (indices: readonly number[]) => boolean): AsyncGenerator<PixelBatch | HeldBatch> {
    yield* this.run<PixelBatch | HeldBatch>(epoch, (indices, index) =>
      isHeld?.(indices) === true ? Promise.resolve({ index, indices, pixels: null, samples: this.samplesAt(indices) }) : this.loadPixelBatch(indices, index, epoch),
    );
  }

  private async *run<B>(epoch: number, load: (indices: number[], index: number) => Promise<B>): AsyncGenerator<B> {
    const order = this.order(epoch);
    const { batchSize } = this.opts;
    const count = this.length;
    const inFlight: Promise<B>[] = [];
    let launched = 0;
    const launch = (): void => {
      const b = launched++;
      const p = load(order.slice(b * batchSize, (b + 1) * batchSize), b);
      p.catch(() => undefined); // rejections surface when awaited in order, never as "unhandled"
      inFlight.push(p);
    };
    while (launched < count && inFlight.length < Math.max(1, this.opts.prefetch)) launch();
    while (inFlight.length > 0) {
      const batch = await (inFlight.shift() as Promise<B>);
      // Refill before handing the batch out, so `prefetch` batches decode while it is used.
      while (launched < count && inFlight.length < this.opts.prefetch) launch();
      yield batch;
      if (launched < count && inFlight.length === 0) launch(); // prefetch 0: load on demand
    }
  }

  /** Reads and resizes one image (no cache); errors name the file. */
  private async decodeAtSize(path: string): Promise<RgbImage> {
    const { resize } = this.opts.preprocess;
    try {
      const img = await this.readImage(path);
      return resize === undefined ? img : await resizeRgb(img, resizedSize(img.width, img.height, resize));
    } catch (e) {
      throw isSpotdiffError(e) ? e : decodeError(path, e);
    }
  }

  /** Reads one mask and resizes it nearest-neighbour (it stays binary); no cache. */
  private async maskAtSize(path: string): Promise<MaskImage> {
    const { resize } = this.opts.preprocess;
    const mask = await readMask(path);
    return resize === undefined ? mask : resizeMaskNearest(mask, resizedSize(mask.width, mask.height, resize));
  }

  private imageAtSize(path: string): Promise<RgbImage> {
    return this.cache !== null ? this.cache.get(path) : this.slots.run(() => this.decodeAtSize(path));
  }

  private async decode(sample: Sample, masks: boolean): Promise<Decoded> {
    const { preprocess } = this.opts;
    const img = await this.imageAtSize(sample.image);
    const window = cropWindowFor(img.width, img.height, preprocess.crop);
    let mask: MaskImage | null = null;
    if (masks && sample.mask !== null) {
      const path = sample.mask;
      mask = this.maskCache !== null ? await this.maskCache.get(path) : await this.slots.run(() => this.maskAtSize(path));
      if (mask.width !== img.width || mask.height !== img.height) {
        throw new SpotdiffError('ERR_SHAPE', `mask ${sample.mask} is ${mask.width}×${mask.height} after resizing, its image ${sample.image} is ${img.width}×${img.height}`);
      }
    }
    return { img, window, mask };
  }

  /** Decodes a batch's images (and masks when asked); they must share one size. */
  private async decodeBatch(samples: Sample[], masks: boolean): Promise<{ decoded: Decoded[]; h: number; w: number }> {
    const decoded = await Promise.all(samples.map((s) => this.decode(s, masks)));
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
    return { decoded, h, w };
  }

  private async loadBatch(indices: number[], index: number, epoch: number): Promise<Batch> {
    this.opts.onEvent?.({ type: 'start', batch: index, epoch });
    const samples = this.samplesAt(indices);
    const { decoded, h, w } = await this.decodeBatch(samples, this.opts.masks);
    const n = samples.length;
    const plane = h * w;
    const images = new Float32Array(n * 3 * plane);
    const masks = this.opts.masks ? new Uint8Array(n * plane) : null;
    decoded.forEach((d, i) => {
      writeChw(d.img, images, i * 3 * plane, d.window, this.opts.preprocess.normalize);
      if (masks && d.mask) writeMaskCrop(d.mask, masks, i * plane, d.window);
    });
    this.opts.onEvent?.({ type: 'done', batch: index, epoch });
    return { index, images, shape: [n, 3, h, w], labels: labelsOf(samples), masks, samples };
  }

  private samplesAt(indices: readonly number[]): Sample[] {
    return indices.map((i) => this.samples[i] as Sample);
  }

  private async loadPixelBatch(indices: number[], index: number, epoch: number): Promise<PixelBatch> {
    this.opts.onEvent?.({ type: 'start', batch: index, epoch });
    const samples = this.samplesAt(indices);
    const { decoded, h, w } = await this.decodeBatch(samples, this.opts.masks);
    const n = samples.length;
    const pixels = new Uint8Array(n * h * w * 3);
    const masks = this.opts.masks ? new Uint8Array(n * h * w) : null;
    decoded.forEach((d, i) => {
      writeHwc(d.img, pixels, i * h * w * 3, d.window);
      if (masks && d.mask) writeMaskCrop(d.mask, masks, i * h * w, d.window);
    });
    this.opts.onEvent?.({ type: 'done', batch: index, epoch });
    return { index, indices, pixels, shape: [n, h, w, 3], labels: labelsOf(samples), masks, samples };
  }
}

function labelsOf(samples: readonly Sample[]): Uint8Array {
  return Uint8Array.from(samples, (s) => (s.label === 'anomaly' ? 1 : 0));
}
