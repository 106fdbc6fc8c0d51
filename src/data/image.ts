import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { SpotdiffError } from '../util/errors.js';
import { centerCropWindow, resizedSize, type CropSpec, type CropWindow, type ResizeSpec, type Size2 } from './geometry.js';
import { resamplePilBilinear } from './pil-resample.js';

/**
 * Image decoding and torchvision-style preprocessing on plain typed arrays:
 * decode (sharp) -> RGB -> Resize (bilinear) -> CenterCrop -> float CHW in [0,1] -> Normalize.
 */

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** 8-bit RGB pixels, interleaved (height × width × 3). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A preprocessed image: float32, channels first (3 × height × width). */
export interface ImageTensor {
  width: number;
  height: number;
  data: Float32Array;
}

export interface Preprocess {
  /** torchvision Resize: a number resizes the shorter side, [h, w] resizes to exactly that. Unset: keep the size. */
  resize?: ResizeSpec;
  /** torchvision CenterCrop after the resize. Unset: no crop. */
  crop?: CropSpec;
  /** Subtract the mean and divide by the std per channel (default: ImageNet's). null: leave values in [0, 1]. */
  normalize?: { mean: readonly number[]; std: readonly number[] } | null;
}

/** Reads a whole file, mapping a missing or unreadable file to a clear error that names it. */
export async function readImageFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SpotdiffError('ERR_NOT_FOUND', `image not found: ${path}`, { cause: e });
    throw new SpotdiffError('ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** ERR_BAD_IMAGE for bytes sharp could not decode, naming the file. */
export function badImage(path: string, e: unknown): SpotdiffError {
  const reason = ((e as Error)?.message ?? String(e)).split('\n')[0];
  return new SpotdiffError('ERR_BAD_IMAGE', `cannot decode image ${path}: ${reason} (corrupt, truncated or not an image format sharp reads)`, { cause: e });
}

/**
 * The error for a file sharp could not read: missing (ERR_NOT_FOUND) or not a decodable image
 * (ERR_BAD_IMAGE), naming the file either way.
 */
export function decodeError(path: string, e: unknown): SpotdiffError {
  const reason = ((e as Error)?.message ?? String(e)).split('\n')[0] as string;
  if (/Input file is missing/.test(reason)) return new SpotdiffError('ERR_NOT_FOUND', `image not found: ${path}`, { cause: e });
  return badImage(path, e);
}

/**
 * Decodes any format sharp reads into 8-bit RGB, as PIL's `convert('RGB')` does for the usual
 * cases: greyscale is replicated into three channels, alpha is dropped (not composited). The
 * embedded ICC profile is ignored and EXIF orientation is not applied, as PIL and torchvision
 * do neither. 16-bit images are scaled to 8 bits (PIL would clip them instead).
 * sharp reads the file itself, so reading and decoding are one trip to the thread pool.
 */
export async function readRgb(path: string): Promise<RgbImage> {
  return decodeRgb(path, path);
}

/** readRgb for a file or for image bytes already in memory (an upload); errors name it `name`. */
export async function decodeRgb(input: string | Uint8Array, name: string): Promise<RgbImage> {
  try {
    // failOn 'error': truncated or broken files fail; harmless libjpeg warnings do not.
    const { data, info } = await sharp(input, { failOn: 'error', ignoreIcc: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw decodeError(name, e);
  }
}

/**
 * Resizes like PIL's bilinear with antialiasing (what torchvision's Resize does on PIL images).
 * - Axes that shrink go through sharp with kernel 'linear': libvips' reduce with a triangle
 *   filter widened by the shrink factor, the same filter as Pillow's; it runs on libuv threads,
 *   so decoding overlaps compute. Closest of sharp's kernels to PIL (measured on a 640×480 test
 *   image shrunk to 341×256: mean |diff| 0.23 grey levels, max 3; 'mitchell' 0.46/7,
 *   'cubic' and 'lanczos3' 1-1.7/23-30). The test compares against PIL with those tolerances.
 * - Axes that grow go through Pillow's own algorithm in JS (pil-resample.ts): libvips upsamples
 *   on a grid shifted by a quarter pixel from Pillow's (mean |diff| about 3, max 50+), and
 *   upscaling is rare here (small user images), so exactness wins over threading.
 * An image already at the target size is returned unchanged, as torchvision does.
 */
export async function resizeRgb(img: RgbImage, size: Size2): Promise<RgbImage> {
  if (size.width === img.width && size.height === img.height) return img;
  let cur = img;
  const shrinkW = Math.min(size.width, cur.width);
  const shrinkH = Math.min(size.height, cur.height);
  if (shrinkW !== cur.width || shrinkH !== cur.height) {
    const { data, info } = await sharp(cur.data, { raw: { width: cur.width, height: cur.height, channels: 3 } })
      .resize(shrinkW, shrinkH, { kernel: 'linear', fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    cur = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  }
  if (size.width !== cur.width || size.height !== cur.height) {
    cur = { width: size.width, height: size.height, data: resamplePilBilinear(cur.data, cur.width, cur.height, 3, size.width, size.height) };
  }
  return cur;
}

/** The size an image of width × height has after `preprocess` (resize, then crop). */
export function preprocessedSize(width: number, height: number, preprocess: Preprocess): Size2 {
  const r = preprocess.resize === undefined ? { width, height } : resizedSize(width, height, preprocess.resize);
  if (preprocess.crop === undefined) return r;
  const w = centerCropWindow(r.width, r.height, preprocess.crop);
  return { width: w.width, height: w.height };
}

/**
 * Writes `img` as normalised float CHW into `out` at `offset`, taking the crop `window`
 * (pixels outside the image are zero before normalisation, as torchvision's padding is).
 */
export function writeChw(img: RgbImage, out: Float32Array, offset: number, window: CropWindow, normalize: Preprocess['normalize']): void {
  const { width: cw, height: ch } = window;
  const plane = cw * ch;
  if (offset + 3 * plane > out.length) throw new SpotdiffError('ERR_SHAPE', `output buffer too small for a 3×${ch}×${cw} image at offset ${offset}`);
  const norm = normalize === undefined ? { mean: IMAGENET_MEAN, std: IMAGENET_STD } : normalize;
  for (let c = 0; c < 3; c++) {
    const mean = norm ? (norm.mean[c] as number) : 0;
    const invStd = norm ? 1 / (norm.std[c] as number) : 1;
    const base = offset + c * plane;
    for (let y = 0; y < ch; y++) {
      const sy = y + window.top;
      const rowOut = base + y * cw;
      for (let x = 0; x < cw; x++) {
        const sx = x + window.left;
        const v = sy >= 0 && sy < img.height && sx >= 0 && sx < img.width ? (img.data[(sy * img.width + sx) * 3 + c] as number) / 255 : 0;
        // torchvision: ToTensor divides by 255 in float32, Normalize computes (x - mean) / std.
        out[rowOut + x] = norm ? (Math.fround(v) - mean) * invStd : v;
      }
    }
  }
}

/** The crop window for an image of the given size (the whole image when no crop is asked). */
export function cropWindowFor(width: number, height: number, crop: CropSpec | undefined): CropWindow {
  return crop === undefined ? { top: 0, left: 0, width, height } : centerCropWindow(width, height, crop);
}

/** Decodes, resizes, crops and normalises one image into a new 3 × H × W Float32Array. */
export async function loadImage(path: string, preprocess: Preprocess = {}): Promise<ImageTensor> {
  let img = await readRgb(path);
  if (preprocess.resize !== undefined) img = await resizeRgb(img, resizedSize(img.width, img.height, preprocess.resize));
  const window = cropWindowFor(img.width, img.height, preprocess.crop);
  const data = new Float32Array(3 * window.width * window.height);
  writeChw(img, data, 0, window, preprocess.normalize);
  return { width: window.width, height: window.height, data };
}
