import { Random, hashSeed } from '../../util/random.js';
import { develop, noisePool, sampleCamera } from './lighting.js';
import type { Canvas } from './raster.js';
import type { SynthObject } from './types.js';

/**
 * Renders one synthetic image and its defect-free twin. The twin is the same scene, pose,
 * lighting and sensor noise without the defects, so the two differ exactly where a defect was
 * drawn: the class-id mask is computed from that difference, one defect at a time.
 */

export interface RenderRequest {
  seed: number;
  size: number;
  /** Position of the image among its object's normal or anomalous images. */
  index: number;
  /** Defect class ids to draw, in order; [] for a normal image. */
  defects: readonly number[];
}

export interface RenderedSample {
  width: number;
  height: number;
  /** 8-bit RGB, interleaved. */
  image: Uint8Array;
  /** The same image without its defects (equal to `image` for a normal one). */
  twin: Uint8Array;
  /** Per pixel the defect class id (0 background); null for a normal image. */
  classMask: Uint8Array | null;
}

/** A defect must change at least this many pixels, or the image is drawn again with another stream. */
const MIN_DEFECT_PIXELS = 6;

function changedPixels(a: Canvas, b: Canvas, mask: Uint8Array, id: number): number {
  let n = 0;
  const da = a.data;
  const db = b.data;
  for (let p = 0, i = 0; p < mask.length; p++, i += 3) {
    if (da[i] !== db[i] || da[i + 1] !== db[i + 1] || da[i + 2] !== db[i + 2]) {
      mask[p] = id;
      n++;
    }
  }
  return n;
}

/**
 * Fills enclosed holes of the mask (unchanged pixels surrounded by changed ones, e.g. where a
 * bent capsule overlaps its straight self) with the class on their left, as an annotator would
 * outline the whole defect. The mask only grows, so it still covers every changed pixel.
 */
export function fillHoles(mask: Uint8Array, width: number, height: number): void {
  const outside = new Uint8Array(mask.length);
  const stack: number[] = [];
  const push = (i: number): void => {
    if (mask[i] === 0 && outside[i] === 0) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < width; x++) {
    push(x);
    push((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    push(y * width);
    push(y * width + width - 1);
  }
  while (stack.length > 0) {
    const i = stack.pop() as number;
    const x = i % width;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (i >= width) push(i - width);
    if (i < mask.length - width) push(i + width);
  }
  for (let i = 0; i < mask.length; i++) {
    // a hole pixel is never in column 0, and its left neighbour is mask or an earlier-filled hole
    if (mask[i] === 0 && outside[i] === 0) mask[i] = mask[i - 1] as number;
  }
}

export function renderSample(object: SynthObject, req: RenderRequest): RenderedSample {
  const { size } = req;
  const designSeed = hashSeed(req.seed, [object.name, 'design']);
  const kind = req.defects.length > 0 ? 'anomaly' : 'normal';
  for (let attempt = 0; attempt < 20; attempt++) {
    const rng = Random.derive(req.seed, object.name, kind, req.index, attempt);
    const scene = object.scene({ rng, size, designSeed, defects: req.defects });
    const camera = sampleCamera(rng);
    const noise = noisePool(designSeed);
    const clean = scene.render(0);
    const twin = develop(clean.data, size, size, camera, noise);
    if (req.defects.length === 0) return { width: size, height: size, image: twin, twin, classMask: null };
    const classMask = new Uint8Array(size * size);
    let prev = clean;
    let visible = true;
    for (let k = 1; k <= req.defects.length; k++) {
      const next = scene.render(k);
      if (changedPixels(prev, next, classMask, req.defects[k - 1] as number) < MIN_DEFECT_PIXELS) visible = false;
      prev = next;
    }
    if (!visible) continue;
    fillHoles(classMask, size, size);
    return { width: size, height: size, image: develop(prev.data, size, size, camera, noise), twin, classMask };
  }
  throw new Error(`${object.name}: could not draw a visible defect ${req.defects.join(',')} in 20 attempts`);
}
