import * as T from '../tensor/index.js';
import type { PixelBatch } from './pixel-batch.js';

/**
 * Pixel batches (8-bit RGB, channels last) to float images [N, 3, H, W] in [0, 1] on a
 * device: the bytes are copied (a quarter of the floats' size), then converted there.
 * On CUDA the bytes go through pinned host memory with a non-blocking copy, so the call
 * returns while the copy is queued behind the work already on the stream.
 *
 * The values are exactly those writeChw gives with `normalize: null` (float32(v / 255)): the
 * conversion looks each byte up in a table of those 256 floats rather than dividing on the
 * device, where a division by a scalar may be a multiplication by its reciprocal (CUDA's is),
 * a last bit off.
 */
export class DeviceImages {
  private readonly table: T.Tensor;

  constructor(readonly device: T.Device) {
    const unit = Float32Array.from({ length: 256 }, (_, v) => v / 255);
    this.table = T.keep(T.tensor(unit, [256], { device }));
  }

  /** A new tensor the caller owns (outside any tidy scope it belongs to no one). */
  fromPixels(batch: PixelBatch): T.Tensor {
    return T.tidy(() => this.toFloat(this.upload(batch)));
  }

  /** The batch's bytes on the device: uint8 [N, H, W, 3] (what a device cache keeps). */
  upload(batch: PixelBatch): T.Tensor {
    return this.bytesToDevice(batch.pixels, batch.shape);
  }

  /** Any bytes (images, masks) as a uint8 tensor of `shape` on the device, through pinned memory on CUDA. */
  bytesToDevice(bytes: Uint8Array, shape: readonly number[]): T.Tensor {
    return T.tidy(() => {
      // On the host whatever the default device (a training run makes it the GPU): pinned, then copied.
      const host = T.tensor(bytes, shape, { dtype: 'uint8', device: 'cpu' });
      return this.device.startsWith('cuda') ? T.toDevice(T.pinMemory(host), this.device, { nonBlocking: true }) : host;
    });
  }

  /** uint8 [N, H, W, C] on the device to float32 [N, C, H, W] in [0, 1]. */
  toFloat(bytes: T.Tensor): T.Tensor {
    const [n, h, w, c] = bytes.shape as [number, number, number, number];
    return T.tidy(() => {
      const values = T.indexSelect(this.table, 0, T.reshape(T.toDtype(bytes, 'int64'), [-1]));
      return T.contiguous(T.permute(T.reshape(values, [n, h, w, c]), [0, 3, 1, 2]));
    });
  }

  dispose(): void {
    this.table.dispose();
  }
}
