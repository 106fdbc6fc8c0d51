import sharp from 'sharp';
import { cropWindowFor, decodeError, type Preprocess } from './image.js';
import { resizedSize, type CropWindow, type Size2 } from './geometry.js';

/** A binary mask: 1 where a defect is, 0 elsewhere (height × width). */
export interface MaskImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Reads a mask image: any non-zero pixel is a defect (1). Works for 0/255 masks (MVTec AD,
 * prepared VisA), class-id masks (raw VisA, pixel value = defect id), 16-bit greyscale and colour
 * masks; alpha is ignored. Decoded as 16-bit luminance in one pass, so that small class ids in
 * 16-bit files stay non-zero, and any non-black 8-bit colour too (its luminance is at least
 * 0.07 × 257 ≈ 19). Palette PNGs are read through their colours: a black palette entry is background.
 */
export async function readMask(path: string): Promise<MaskImage> {
  try {
    const { data, info } = await sharp(path, { failOn: 'error', ignoreIcc: true })
      .removeAlpha()
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`decoded to ${info.channels} channels`);
    const values = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
    const out = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = values[i] !== 0 ? 1 : 0;
    return { width: info.width, height: info.height, data: out };
  } catch (e) {
    throw decodeError(path, e);
  }
}

/**
 * Nearest-neighbour resize with PIL's pixel-centre rule (what torchvision's Resize with
 * InterpolationMode.NEAREST does on a PIL mask): output pixel x takes input floor((x + 0.5) * in / out).
 */
export function resizeMaskNearest(mask: MaskImage, size: Size2): MaskImage {
  if (size.width === mask.width && size.height === mask.height) return mask;
  const sx = mask.width / size.width;
  const sy = mask.height / size.height;
  const cols = new Int32Array(size.width);
  for (let x = 0; x < size.width; x++) cols[x] = Math.min(mask.width - 1, Math.floor((x + 0.5) * sx));
  const out = new Uint8Array(size.width * size.height);
  for (let y = 0; y < size.height; y++) {
    const row = Math.min(mask.height - 1, Math.floor((y + 0.5) * sy)) * mask.width;
    for (let x = 0; x < size.width; x++) out[y * size.width + x] = mask.data[row + (cols[x] as number)] as number;
  }
  return { width: size.width, height: size.height, data: out };
}

/** Copies the crop window out of a mask into `out` at `offset` (outside the mask: 0). */
export function writeMaskCrop(mask: MaskImage, out: Uint8Array, offset: number, window: CropWindow): void {
  for (let y = 0; y < window.height; y++) {
    const sy = y + window.top;
    for (let x = 0; x < window.width; x++) {
      const sx = x + window.left;
      out[offset + y * window.width + x] = sy >= 0 && sy < mask.height && sx >= 0 && sx < mask.width ? (mask.data[sy * mask.width + sx] as number) : 0;
    }
  }
}

/** Reads a mask and gives it the same geometry `preprocess` gives its image (resize nearest, then crop). */
export async function loadMask(path: string, preprocess: Preprocess = {}): Promise<MaskImage> {
  let mask = await readMask(path);
  if (preprocess.resize !== undefined) mask = resizeMaskNearest(mask, resizedSize(mask.width, mask.height, preprocess.resize));
  const window = cropWindowFor(mask.width, mask.height, preprocess.crop);
  if (window.top === 0 && window.left === 0 && window.width === mask.width && window.height === mask.height) return mask;
  const data = new Uint8Array(window.width * window.height);
  writeMaskCrop(mask, data, 0, window);
  return { width: window.width, height: window.height, data };
}
