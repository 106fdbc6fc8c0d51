import sharp from 'sharp';
import { decodeError } from '../../data/image.js';
import { SpotdiffError } from '../../util/errors.js';
import type { InputImages } from './model-folder.js';

/** An image's size and colour channels (alpha not counted), from its header only. */
export async function imageInfo(path: string): Promise<InputImages> {
  try {
    const m = await sharp(path).metadata();
    return { width: m.width ?? 0, height: m.height ?? 0, channels: (m.channels ?? 0) - (m.hasAlpha ? 1 : 0) };
  } catch (e) {
    throw decodeError(path, e);
  }
}

const describe = (i: InputImages): string => `${i.width}×${i.height}, ${i.channels === 1 ? 'greyscale' : i.channels === 3 ? 'RGB' : `${i.channels} channels`}`;

/**
 * Checks that every image has the same size and channel count as `expected` (or as the first
 * image); images of another size or colour type are an error, not a silent resize.
 */
export async function checkInputImages(paths: readonly string[], expected: InputImages | null, what: string): Promise<InputImages> {
  let ref = expected;
  let refName = 'the images the model was fitted on';
  for (let i = 0; i < paths.length; i += 16) {
    const infos = await Promise.all(paths.slice(i, i + 16).map((p) => imageInfo(p)));
    infos.forEach((info, k) => {
      const path = paths[i + k] as string;
      if (ref === null) {
        ref = info;
        refName = path;
        return;
      }
      if (info.width !== ref.width || info.height !== ref.height || info.channels !== ref.channels) {
        throw new SpotdiffError('ERR_SHAPE', `${what}: ${path} is ${describe(info)}, but ${refName} ${expected !== null && refName.startsWith('the images') ? 'are' : 'is'} ${describe(ref)}; all images must have one size and colour type`);
      }
    });
  }
  if (ref === null) throw new SpotdiffError('ERR_BAD_INPUT', `${what}: no images`);
  return ref;
}
