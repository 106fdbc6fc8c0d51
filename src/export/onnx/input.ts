import { cropWindowFor, decodeRgb, resizeRgb, writeChw } from '../../data/image.js';

/**
 * One image (a path, or encoded bytes such as an upload) as an exported graph's input: decoded
 * to RGB, resized to [height, width] as the data loader does (PIL-style bilinear), float32
 * CHW in [0, 1], not normalised (the graph normalises). Concatenate several for a batch.
 */
export async function onnxInput(image: string | Uint8Array, size: readonly [number, number], name = typeof image === 'string' ? image : 'image'): Promise<Float32Array> {
  const [height, width] = size;
  const rgb = await resizeRgb(await decodeRgb(image, name), { width, height });
  const out = new Float32Array(3 * width * height);
  writeChw(rgb, out, 0, cropWindowFor(width, height, undefined), null);
  return out;
}
