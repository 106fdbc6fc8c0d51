import { SpotdiffError } from '../util/errors.js';

/**
 * torchvision's size rules for `transforms.Resize` and `transforms.CenterCrop`, written out so
 * that images and masks go through exactly the same geometry.
 */

/** A resize target: one number resizes the shorter side (torchvision `Resize(N)`); a pair is [height, width]. */
export type ResizeSpec = number | readonly [number, number];
/** A crop size: one number is a square; a pair is [height, width]. */
export type CropSpec = number | readonly [number, number];

export interface Size2 {
  width: number;
  height: number;
}

/** The output size of torchvision's Resize(spec) for an image of the given size (torchvision 0.14, max_size unset). */
export function resizedSize(width: number, height: number, spec: ResizeSpec): Size2 {
  if (typeof spec === 'number') {
    checkPositive(spec, 'resize');
    const wIsShort = width <= height;
    const short = wIsShort ? width : height;
    const long = wIsShort ? height : width;
    // Python: int(size * long / short), evaluated left to right in doubles, then truncated.
    const newLong = Math.trunc((spec * long) / short);
    return wIsShort ? { width: spec, height: newLong } : { width: newLong, height: spec };
  }
  checkPositive(spec[0], 'resize height');
  checkPositive(spec[1], 'resize width');
  return { width: spec[1], height: spec[0] };
}

/**
 * Where torchvision's CenterCrop takes its window: the offsets of the crop's top-left corner in
 * the image. Negative offsets mean the crop is larger than the image and the outside is zero
 * padding, as torchvision pads ((crop - size) // 2 before, the rest after).
 */
export interface CropWindow {
  top: number;
  left: number;
  width: number;
  height: number;
}

export function centerCropWindow(width: number, height: number, spec: CropSpec): CropWindow {
  const cropH = typeof spec === 'number' ? spec : spec[0];
  const cropW = typeof spec === 'number' ? spec : spec[1];
  checkPositive(cropH, 'crop height');
  checkPositive(cropW, 'crop width');
  // torchvision pads first when the crop is larger, then takes int(round((h - ch) / 2)) with Python's round.
  const padLeft = cropW > width ? Math.floor((cropW - width) / 2) : 0;
  const padTop = cropH > height ? Math.floor((cropH - height) / 2) : 0;
  const paddedW = cropW > width ? cropW : width;
  const paddedH = cropH > height ? cropH : height;
  const top = roundHalfEven((paddedH - cropH) / 2) - padTop;
  const left = roundHalfEven((paddedW - cropW) / 2) - padLeft;
  return { top, left, width: cropW, height: cropH };
}

/** Python 3's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function checkPositive(n: number, what: string): void {
  if (!Number.isInteger(n) || n <= 0) throw new SpotdiffError('ERR_BAD_INPUT', `${what} must be a positive integer, got ${n}`);
}
