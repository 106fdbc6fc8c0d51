import sharp from 'sharp';
import { SYNTH_OBJECTS } from './objects/index.js';
import { renderSample, type RenderRequest } from './render.js';

/** One image to draw and encode: the object by name, so the job can cross to a worker thread. */
export interface RenderJob extends RenderRequest {
  object: string;
}

export interface EncodedSample {
  jpeg: Uint8Array;
  /** The class-id mask as an 8-bit greyscale PNG; null for a normal image. */
  maskPng: Uint8Array | null;
}

const JPEG_QUALITY = 92;

/** The JPEG encoding every synthetic image gets (baseline, 4:2:0, quality 92). */
export async function encodeJpeg(rgb: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  return new Uint8Array(await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: JPEG_QUALITY }).toBuffer());
}

export async function renderAndEncode(job: RenderJob): Promise<EncodedSample> {
  const object = SYNTH_OBJECTS[job.object];
  if (!object) throw new Error(`unknown synthetic object ${job.object}`);
  const r = renderSample(object, job);
  const raw = { width: r.width, height: r.height };
  const jpeg = await encodeJpeg(r.image, r.width, r.height);
  const maskPng = r.classMask ? await sharp(r.classMask, { raw: { ...raw, channels: 1 } }).toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer() : null;
  return { jpeg, maskPng: maskPng ? new Uint8Array(maskPng) : null };
}
