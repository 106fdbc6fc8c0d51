import { SpotdiffError } from '../util/errors.js';
import type { Sample } from './datasets/sample.js';
import type { CropWindow } from './geometry.js';
import type { RgbImage } from './image.js';

/**
 * A batch as 8-bit RGB, channels last (N × H × W × 3), as decoded: a quarter of the float
 * batch's bytes, stacked with row copies instead of a per-value conversion, for a device to
 * convert (device-images.ts) after the copy.
 */
export interface PixelBatch {
  /** Position of the batch in its epoch. */
  index: number;
  /** The samples' positions in the loader's list (what a device cache keys them by). */
  indices: number[];
  pixels: Uint8Array;
  shape: readonly [number, number, number, 3];
  /** Per image: 0 normal, 1 anomaly. */
  labels: Uint8Array;
  /** N × H × W of 0/1 (zeros where an image has no mask), or null when the loader was not asked for masks. */
  masks: Uint8Array | null;
  samples: Sample[];
}

/**
 * A batch whose images the consumer said it already holds (a device cache: data/device-image-store.ts):
 * nothing was decoded for it.
 */
export interface HeldBatch {
  index: number;
  indices: number[];
  pixels: null;
  samples: Sample[];
}

/**
 * Writes the crop `window` of `img` into `out` at `offset` as H × W × 3 (pixels outside the
 * image are zero, as writeChw's are before normalisation).
 */
export function writeHwc(img: RgbImage, out: Uint8Array, offset: number, window: CropWindow): void {
  const { width: cw, height: ch, top, left } = window;
  if (offset + ch * cw * 3 > out.length) throw new SpotdiffError('ERR_SHAPE', `output buffer too small for a ${ch}×${cw}×3 image at offset ${offset}`);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(cw, img.width - left);
  for (let y = 0; y < ch; y++) {
    const row = offset + y * cw * 3;
    const sy = y + top;
    if (sy < 0 || sy >= img.height || x1 <= x0) {
      out.fill(0, row, row + cw * 3);
      continue;
    }
    out.fill(0, row, row + x0 * 3);
    const src = (sy * img.width + left + x0) * 3;
    out.set(img.data.subarray(src, src + (x1 - x0) * 3), row + x0 * 3);
    out.fill(0, row + x1 * 3, row + cw * 3);
  }
}
