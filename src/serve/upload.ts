import sharp from 'sharp';
import { badImage, cropWindowFor, decodeRgb, resizeRgb, writeChw, type RgbImage } from '../data/image.js';
import type { InputImages } from '../detect/run/model-folder.js';
import { SpotdiffError } from '../util/errors.js';

/** An uploaded image ready to score. */
export interface PreparedImage {
  /** Its size and colour channels as uploaded. */
  info: InputImages;
  /** RGB at the model's preprocessing size (what the heatmap is drawn over). */
  rgb: RgbImage;
  /** 3 × H × W, normalised as the scorer takes it: its input. */
  chw: Float32Array;
}

const NAME = 'upload';

const describe = (i: InputImages): string => `${i.width}×${i.height} ${i.channels === 1 ? 'greyscale' : i.channels === 3 ? 'RGB' : `${i.channels}-channel`}`;

/** Size and colour channels (alpha not counted) from the header: wrong sizes are refused before decoding. */
async function uploadInfo(bytes: Uint8Array): Promise<InputImages> {
  if (bytes.length === 0) throw new SpotdiffError('ERR_BAD_IMAGE', 'the request has no body: send the image bytes as the body');
  try {
    const m = await sharp(bytes).metadata();
    return { width: m.width ?? 0, height: m.height ?? 0, channels: (m.channels ?? 0) - (m.hasAlpha ? 1 : 0) };
  } catch (e) {
    throw badImage(NAME, e);
  }
}

/**
 * Decodes an upload and preprocesses it as predict does (RGB, resize to `resize` = [h, w],
 * ImageNet normalisation unless `normalize` is 'none': values in [0, 1]). An image whose size or colour type differs from the images the
 * model was fitted on is an error, as in predict: resizing it silently would score something
 * the threshold was never chosen for.
 */
export async function prepareUpload(bytes: Uint8Array, expected: InputImages, resize: readonly [number, number], normalize: 'imagenet' | 'none' = 'imagenet'): Promise<PreparedImage> {
  const info = await uploadInfo(bytes);
  if (info.width !== expected.width || info.height !== expected.height || info.channels !== expected.channels) {
    throw new SpotdiffError('ERR_SHAPE', `the image is ${describe(info)}, but the model was fitted on ${describe(expected)} images; send images of that size and colour type`);
  }
  const [height, width] = resize;
  const rgb = await resizeRgb(await decodeRgb(bytes, NAME), { width, height });
  const chw = new Float32Array(3 * width * height);
  // writeChw: undefined = ImageNet's mean and std, null = no normalisation.
  writeChw(rgb, chw, 0, cropWindowFor(width, height, undefined), normalize === 'imagenet' ? undefined : null);
  return { info, rgb, chw };
}
