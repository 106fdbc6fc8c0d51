import { freemem } from 'node:os';
import { SpotdiffError } from '../util/errors.js';
import type { RgbImage } from './image.js';

/**
 * Decoded images at the training size, kept as 8-bit planes in host memory (RGB images, or
 * masks: the same width/height/bytes shape): an image is decoded
 * and resized once, and every later epoch reads it from here, so epoch 2+ decodes nothing.
 *
 * Past `maxBytes`, images that do not fit are not cached: they are decoded again each time
 * they are asked for, and the ones cached stay (no eviction). Not LRU on purpose: training
 * visits every image once an epoch in a new shuffled order, a cyclic scan on which an LRU
 * smaller than the data misses nearly every time; keeping the first images that fit serves
 * maxBytes / total of every epoch from memory.
 *
 * Concurrent requests for one image share one decode; a failed decode is not kept (the next
 * request tries again and fails the same way, naming the file).
 */
export type ImageDecoder = (path: string) => Promise<RgbImage>;

export interface ImageCacheStats {
  /** Decodes started (cache misses, shared concurrent requests counted once). */
  decodes: number;
  /** Requests served from memory. */
  hits: number;
  /** Images held and their bytes. */
  images: number;
  bytes: number;
}

export class ImageCache {
  private readonly held = new Map<string, RgbImage>();
  private readonly pending = new Map<string, Promise<RgbImage>>();
  private heldBytes = 0;
  private decodes = 0;
  private hits = 0;

  constructor(
    private readonly decode: ImageDecoder,
    readonly maxBytes: number,
  ) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new SpotdiffError('ERR_BAD_INPUT', `cache size must be a whole number of bytes >= 0, got ${maxBytes}`);
  }

  /** The image at `path`, decoded at the training size (from memory when held). */
  get(path: string): Promise<RgbImage> {
    const image = this.held.get(path);
    if (image !== undefined) {
      this.hits++;
      return Promise.resolve(image);
    }
    const shared = this.pending.get(path);
    if (shared !== undefined) return shared;
    this.decodes++;
    const decoding = this.decode(path)
      .then((img) => {
        this.keepIfRoom(path, img);
        return img;
      })
      .finally(() => this.pending.delete(path));
    this.pending.set(path, decoding);
    return decoding;
  }

  get stats(): ImageCacheStats {
    return { decodes: this.decodes, hits: this.hits, images: this.held.size, bytes: this.heldBytes };
  }

  private keepIfRoom(path: string, img: RgbImage): void {
    const bytes = img.data.byteLength;
    if (this.heldBytes + bytes > this.maxBytes) return;
    // A view into a larger buffer would hold more memory than it counts: keep an exact copy.
    const data = img.data.byteOffset === 0 && img.data.buffer.byteLength === bytes ? img.data : img.data.slice();
    this.held.set(path, { width: img.width, height: img.height, data });
    this.heldBytes += bytes;
  }
}

/** The cache size a training run uses unless told: a quarter of the memory free now. */
export function defaultCacheBytes(): number {
  return Math.floor(freemem() / 4);
}
