import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * Every image of a training set at the training size, as one uint8 tensor [count, H, W, C] on
 * the training device: an image is written in when the first epoch that meets it decodes it, and
 * from then on its batches are gathered there (one index_select), with no decode and no copy from
 * the host. On a GPU this is the image cache in device memory (VisA at 224 px is ~1.6 GB); on the
 * CPU it is one host tensor, which is how the tests drive it. C is 3 for RGB images, 1 for
 * masks (one byte a pixel).
 *
 * Invariant: row i holds sample i's bytes exactly when held[i] is 1 (rows are only ever written
 * whole, by put(), and never cleared), so a batch gathered from the store is byte for byte the
 * batch the loader would have decoded.
 */
export class DeviceImageStore {
  private readonly pixels: T.Tensor;
  private readonly held: Uint8Array;
  private heldCount = 0;

  /** Bytes the store takes for `count` images of height × width × channels. */
  static bytesFor(count: number, height: number, width: number, channels = 3): number {
    return count * height * width * channels;
  }

  constructor(
    readonly device: T.Device,
    readonly count: number,
    readonly height: number,
    readonly width: number,
    readonly channels = 3,
  ) {
    for (const [name, v] of [['count', count], ['height', height], ['width', width], ['channels', channels]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new SpotdiffError('ERR_BAD_INPUT', `device image store: ${name} must be a positive integer, got ${v}`);
    }
    this.pixels = T.keep(T.zeros([count, height, width, channels], { dtype: 'uint8', device }));
    this.held = new Uint8Array(count);
  }

  get bytes(): number {
    return DeviceImageStore.bytesFor(this.count, this.height, this.width, this.channels);
  }

  /** Every image is in. */
  get complete(): boolean {
    return this.heldCount === this.count;
  }

  /** Are all these samples' images in? */
  holds(indices: readonly number[]): boolean {
    return indices.every((i) => this.held[this.checked(i)] === 1);
  }

  /** Writes the samples' images: `bytes` is uint8 [indices.length, H, W, C] on the store's device. */
  put(indices: readonly number[], bytes: T.Tensor): void {
    const want = [indices.length, this.height, this.width, this.channels];
    if (bytes.dtype !== 'uint8' || bytes.shape.join() !== want.join() || bytes.device !== this.pixels.device) {
      throw new SpotdiffError('ERR_SHAPE', `device image store: expected uint8 [${want.join(', ')}] on ${this.pixels.device}, got ${bytes.dtype} [${bytes.shape.join(', ')}] on ${bytes.device}`);
    }
    for (const i of indices) this.checked(i);
    T.tidy(() => T.indexPutInPlace(this.pixels, [this.indexTensor(indices)], bytes));
    for (const i of indices) {
      if (this.held[i] === 1) continue;
      this.held[i] = 1;
      this.heldCount++;
    }
  }

  /** The samples' images, uint8 [indices.length, H, W, C] on the device; all must be held. */
  gather(indices: readonly number[]): T.Tensor {
    if (!this.holds(indices)) throw new SpotdiffError('ERR_BAD_INPUT', 'device image store: gather of an image that was never put');
    return T.tidy(() => T.indexSelect(this.pixels, 0, this.indexTensor(indices)));
  }

  dispose(): void {
    this.pixels.dispose();
  }

  private indexTensor(indices: readonly number[]): T.Tensor {
    return T.tensor(BigInt64Array.from(indices, BigInt), [indices.length], { dtype: 'int64', device: this.device });
  }

  private checked(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new SpotdiffError('ERR_BAD_INPUT', `device image store: sample index ${i} is outside [0, ${this.count})`);
    return i;
  }
}
