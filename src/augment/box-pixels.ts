import * as T from '../tensor/index.js';
import type { Box } from './patch.js';

/**
 * A list of pixels per image (a box's pixels, say), batched: row n holds image n's pixel
 * positions (flat indices into its H×W plane), padded to the longest list by repeating its last
 * position. Gathered from a batch [N, C, H, W], the rows form a tensor [N, C, 1, L] on which
 * the colour operations run with per-image factors; pixel-wise results on the padding repeat
 * those of the last pixel exactly, so scattering the rows back writes the padding's positions
 * with the very values already written there. Copies in and out are exact (no resampling).
 */
export interface PixelRows {
  /** How many pixels each image's list holds (the rest of its row is padding). */
  counts: number[];
  /** The padded row length L: the longest list. */
  length: number;
  /** [N·L] plane positions, row by row. */
  positions: Float64Array;
}

/** Each list padded to the longest one with its last entry. Every list must hold at least one. */
export function padRows(lists: readonly ArrayLike<number>[]): PixelRows {
  const counts = lists.map((l) => l.length);
  const length = Math.max(...counts);
  const positions = new Float64Array(lists.length * length);
  lists.forEach((list, n) => {
    const row = n * length;
    for (let i = 0; i < list.length; i++) positions[row + i] = list[i] as number;
    positions.fill(list[list.length - 1] as number, row + list.length, row + length);
  });
  return { counts, length, positions };
}

/** A box's pixels, row-major, as positions in a plane `width` pixels wide. */
export function boxPositions(box: Box, width: number): Float64Array {
  const positions = new Float64Array(box.height * box.width);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) positions[y * box.width + x] = (box.top + y) * width + box.left + x;
  }
  return positions;
}

/** The rows' positions as an int64 index [N, 1, L] on the device. */
export function rowIndex(rows: PixelRows, device: T.Device): T.Tensor {
  return T.tensor(rows.positions, [rows.counts.length, 1, rows.length], { dtype: 'int64', device });
}

/** The pixels of a batch [N, C, H, W] at index [N, 1, L] (from rowIndex): [N, C, 1, L]. */
export function gatherRows(images: T.Tensor, index: T.Tensor): T.Tensor {
  const [n, c, h, w] = images.shape as [number, number, number, number];
  const l = index.shape[2] as number;
  return T.tidy(() => T.reshape(T.gather(T.reshape(images, [n, c, h * w]), 2, T.expand(index, [n, c, l])), [n, c, 1, l]));
}

/** A copy of the batch with the pixels at index [N, 1, L] replaced by values [N, C, 1, L]. */
export function scatterRows(images: T.Tensor, index: T.Tensor, values: T.Tensor): T.Tensor {
  const [n, c, h, w] = images.shape as [number, number, number, number];
  const l = index.shape[2] as number;
  return T.tidy(() => T.reshape(T.scatter(T.reshape(images, [n, c, h * w]), 2, T.expand(index, [n, c, l]), T.reshape(values, [n, c, l])), images.shape));
}
