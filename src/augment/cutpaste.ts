import * as T from '../tensor/index.js';
import type { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import { checkImages, checkInterval, checkPerImage } from './check.js';
import { checkJitterStrength, sampleColorJitter, type ColorJitterParams, type ColorJitterStrength } from './color-jitter.js';
import { samplePatchSize, samplePosition, type Box } from './patch.js';
import { boxPositions, gatherRows, padRows, rowIndex, scatterRows, type PixelRows } from './box-pixels.js';
import { jitterRegions } from './region-jitter.js';

/**
 * CutPaste (Li et al., CVPR 2021): a patch cut from the image, colour-jittered and pasted with
 * sharp edges somewhere else; and its "scar" variant, a thin long rectangle, jittered, rotated
 * and pasted. One patch per image; the result carries the mask of the pasted pixels.
 */

export interface CutPasteConfig {
  /** Patch area as a fraction of the image (default [0.02, 0.15]). */
  area: readonly [number, number];
  /** Aspect ratio width/height, drawn log-uniformly (default [0.3, 1/0.3]). */
  aspect: readonly [number, number];
  /** Colour jitter of the patch (default 0.1 for all four). */
  jitter: ColorJitterStrength;
}

export interface ScarConfig {
  /** Scar width in pixels before rotation, an integer drawn uniformly (default [2, 16]). */
  width: readonly [number, number];
  /** Scar height in pixels before rotation (default [10, 25]). */
  height: readonly [number, number];
  /** Rotation in degrees (default [-45, 45]). */
  rotation: readonly [number, number];
  jitter: ColorJitterStrength;
}

const JITTER_01: ColorJitterStrength = Object.freeze({ brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.1 });

export const CUTPASTE_DEFAULTS: Readonly<CutPasteConfig> = Object.freeze({ area: [0.02, 0.15] as const, aspect: [0.3, 1 / 0.3] as const, jitter: JITTER_01 });
export const SCAR_DEFAULTS: Readonly<ScarConfig> = Object.freeze({ width: [2, 16] as const, height: [10, 25] as const, rotation: [-45, 45] as const, jitter: JITTER_01 });

/** One image's draw. `target` is the bounding box of the pasted pixels; `angle` is 0 for the plain patch. */
export interface CutPastePatch {
  source: Box;
  target: Box;
  angle: number;
  jitter: ColorJitterParams;
}

export interface CutPasteResult {
  /** The augmented batch [N, 3, H, W]. */
  images: T.Tensor;
  /** 1 where a pasted pixel replaced the image, else 0: [N, 1, H, W]. */
  mask: T.Tensor;
  patches: CutPastePatch[];
}

/** One image's CutPaste patch. */
export function sampleCutPaste(rng: Random, height: number, width: number, config: Partial<CutPasteConfig> = {}): CutPastePatch {
  const c = { ...CUTPASTE_DEFAULTS, ...config };
  checkInterval('cutPaste', 'area', c.area, 0, 1);
  checkInterval('cutPaste', 'aspect', c.aspect, 1e-6, 1e6);
  checkJitterStrength('cutPaste', c.jitter);
  const size = samplePatchSize(rng, height, width, c.area, c.aspect);
  const source = samplePosition(rng, height, width, size);
  const target = samplePosition(rng, height, width, size);
  return { source, target, angle: 0, jitter: sampleColorJitter(rng, c.jitter) };
}

/**
 * Nearest-neighbour rotation of an h×w rectangle about its centre into its bounding box, as
 * PIL's rotate(expand=True) does: for each output pixel, the source pixel (or -1 outside).
 */
export function rotatedSourceMap(h: number, w: number, degrees: number): { height: number; width: number; source: Int32Array } {
  const a = (degrees * Math.PI) / 180;
  const [cos, sin] = [Math.cos(a), Math.sin(a)];
  // Tiny epsilons keep exact multiples of 90° from growing a pixel through rounding.
  const outW = Math.max(1, Math.ceil(Math.abs(w * cos) + Math.abs(h * sin) - 1e-9));
  const outH = Math.max(1, Math.ceil(Math.abs(w * sin) + Math.abs(h * cos) - 1e-9));
  const source = new Int32Array(outH * outW).fill(-1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const dx = x + 0.5 - outW / 2;
      const dy = y + 0.5 - outH / 2;
      // inverse rotation back into the rectangle's frame
      const sx = Math.floor(cos * dx + sin * dy + w / 2);
      const sy = Math.floor(-sin * dx + cos * dy + h / 2);
      if (sx >= 0 && sx < w && sy >= 0 && sy < h) source[y * outW + x] = sy * w + sx;
    }
  }
  return { height: outH, width: outW, source };
}

/** One image's scar: integer width and height, source inside the image, rotated bounding box pasted inside it. */
export function sampleScar(rng: Random, height: number, width: number, config: Partial<ScarConfig> = {}): CutPastePatch {
  const c = { ...SCAR_DEFAULTS, ...config };
  checkInterval('cutPasteScar', 'width', c.width, 1, 1e6);
  checkInterval('cutPasteScar', 'height', c.height, 1, 1e6);
  checkInterval('cutPasteScar', 'rotation', c.rotation, -360, 360);
  checkJitterStrength('cutPasteScar', c.jitter);
  const w = rng.intBetween(Math.ceil(c.width[0]), Math.floor(c.width[1]));
  const h = rng.intBetween(Math.ceil(c.height[0]), Math.floor(c.height[1]));
  const source = samplePosition(rng, height, width, { height: h, width: w });
  const jitter = sampleColorJitter(rng, c.jitter);
  const angle = rng.uniform(c.rotation[0], c.rotation[1]);
  const rotated = rotatedSourceMap(h, w, angle);
  if (rotated.height > height || rotated.width > width) {
    throw new SpotdiffError('ERR_SHAPE', `a ${h}×${w} scar rotated by ${angle.toFixed(1)}° does not fit a ${height}×${width} image; use larger images`);
  }
  const target = samplePosition(rng, height, width, rotated);
  return { source, target, angle, jitter };
}

// Each patch's rotation map (null: not rotated), after checking that its target box fits the image and the patch.
function checkedMaps(patches: readonly CutPastePatch[], height: number, width: number): (ReturnType<typeof rotatedSourceMap> | null)[] {
  return patches.map((p) => {
    const t = p.target;
    if (t.top < 0 || t.left < 0 || t.top + t.height > height || t.left + t.width > width) {
      throw new SpotdiffError('ERR_BAD_INPUT', `cutPaste: target box ${JSON.stringify(t)} is not inside a ${height}×${width} image`);
    }
    if (p.angle === 0) {
      if (t.height !== p.source.height || t.width !== p.source.width) {
        throw new SpotdiffError('ERR_BAD_INPUT', `cutPaste: source ${p.source.height}×${p.source.width} and target ${t.height}×${t.width} differ in size`);
      }
      return null;
    }
    const map = rotatedSourceMap(p.source.height, p.source.width, p.angle);
    if (map.height !== t.height || map.width !== t.width) {
      throw new SpotdiffError('ERR_BAD_INPUT', `cutPaste: target box ${t.height}×${t.width} is not the rotated patch's ${map.height}×${map.width}`);
    }
    return map;
  });
}

// The pasted pixels of a rotated patch: their positions in the image and the patch pixel each shows.
function rotatedPixels(target: Box, map: ReturnType<typeof rotatedSourceMap>, width: number): { positions: Float64Array; slots: Float64Array } {
  const [positions, slots] = [[] as number[], [] as number[]];
  map.source.forEach((s, k) => {
    if (s < 0) return;
    positions.push((target.top + Math.floor(k / map.width)) * width + target.left + (k % map.width));
    slots.push(s);
  });
  return { positions: Float64Array.from(positions), slots: Float64Array.from(slots) };
}

// 0, 1, …, count − 1: an unrotated patch shows its pixels in order.
const inOrder = (count: number): Float64Array => Float64Array.from({ length: count }, (_, k) => k);

/**
 * Pastes given patches (one per image), batched whatever the batch size: the source boxes'
 * pixels gathered as padded rows (exact copies, box-pixels.ts), jittered together with
 * per-patch parameters (region-jitter.ts), rotated by nearest neighbour where angled (a gather
 * of each pasted pixel's patch pixel), and scattered into a copy of the batch in one call.
 */
export function applyCutPaste(images: T.Tensor, patches: readonly CutPastePatch[]): { images: T.Tensor; mask: T.Tensor } {
  checkImages('cutPaste', images);
  checkPerImage('cutPaste', 'patches', patches.length, images);
  const [n, height, width] = [images.shape[0] as number, images.shape[2] as number, images.shape[3] as number];
  const maps = checkedMaps(patches, height, width);
  const pasted = patches.map((p, i) => {
    const map = maps[i];
    return map ? rotatedPixels(p.target, map, width) : { positions: boxPositions(p.target, width), slots: null };
  });
  return T.tidy(() => {
    const opts = { dtype: images.dtype, device: images.device };
    const source = padRows(patches.map((p) => boxPositions(p.source, width)));
    const jittered = jitterRegions(gatherRows(images, rowIndex(source, images.device)), source.counts, patches.map((p) => p.jitter));
    const slots = (): PixelRows => padRows(pasted.map((p) => p.slots ?? inOrder(p.positions.length)));
    const values = maps.every((m) => m === null) ? jittered : gatherRows(jittered, rowIndex(slots(), images.device));
    const target = padRows(pasted.map((p) => p.positions));
    const index = rowIndex(target, images.device);
    const mask = scatterRows(T.zeros([n, 1, height, width], opts), index, T.ones([n, 1, 1, target.length], opts));
    return { images: scatterRows(images, index, values), mask };
  });
}

/** CutPaste with each image's patch drawn from rng. */
export function cutPaste(images: T.Tensor, rng: Random, config: Partial<CutPasteConfig> = {}): CutPasteResult {
  checkImages('cutPaste', images);
  const [height, width] = [images.shape[2] as number, images.shape[3] as number];
  const patches = Array.from({ length: images.shape[0] as number }, () => sampleCutPaste(rng, height, width, config));
  return { ...applyCutPaste(images, patches), patches };
}

/** CutPaste-Scar with each image's scar drawn from rng. */
export function cutPasteScar(images: T.Tensor, rng: Random, config: Partial<ScarConfig> = {}): CutPasteResult {
  checkImages('cutPasteScar', images);
  const [height, width] = [images.shape[2] as number, images.shape[3] as number];
  const patches = Array.from({ length: images.shape[0] as number }, () => sampleScar(rng, height, width, config));
  return { ...applyCutPaste(images, patches), patches };
}
