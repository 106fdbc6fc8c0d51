import * as T from '../tensor/index.js';
import type { Random } from '../util/random.js';
import { checkImages, checkInterval, checkPerImage, checkRange } from './check.js';
import { checkJitterStrength, sampleColorJitter, type ColorJitterParams, type ColorJitterStrength } from './color-jitter.js';
import { gaussianRadius, gaussianWeights, paddedIndices } from './gaussian-blur.js';
import { samplePatchSize, samplePosition, type Box } from './patch.js';
import { boxPositions, gatherRows, padRows, rowIndex, scatterRows } from './box-pixels.js';
import { jitterRegions } from './region-jitter.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * SmoothBlend, the local perturbation of SPD (Zou et al., ECCV 2022): a small patch of the
 * image is cut from a random place, colour-jittered, pasted at another random place into a
 * layer u, and blended in with an alpha mask that is 1 on the pasted patch and then
 * Gaussian-blurred (σ = 8): x̄ = (1 − α)·x + α·u. One patch per image.
 *
 * What u holds outside the patch. The paper pastes into "an empty layer u". Taken literally as
 * u = 0 outside the patch ('zero'), the blurred α, which reaches 4σ = 32 px beyond the patch,
 * mixes black into a ring around it: the image darkens by up to a third over several times the
 * patch area. That is neither local nor subtle, and "always darker around the spot" is a cue a
 * network can learn instead of spotting the difference. We read "empty" as a transparent layer,
 * as in image editors: outside the patch u shows x itself ('image', the default). Then
 * x̄ = x + α·(u − x) changes the pasted patch only, and the patch fades in from its border
 * instead of showing a hard cut-out (for a 16–22 px patch at σ = 8, α is about 0.45–0.7 at its
 * centre and 0.2–0.35 on its edge). The official code is not public; fill 'zero' keeps the
 * literal reading available for comparison.
 */
export type SmoothBlendFill = 'image' | 'zero';

export interface SmoothBlendConfig {
  /** Patch area as a fraction of the image (default [0.005, 0.01]). */
  area: readonly [number, number];
  /** Patch aspect ratio width/height, drawn log-uniformly (default [0.3, 3]). */
  aspect: readonly [number, number];
  /** Colour jitter of the patch (default 0.1 for all four, as CutPaste). */
  jitter: ColorJitterStrength;
  /** σ of the alpha mask's blur in pixels (default 8, the paper's, for 224-px inputs: on smaller images it fades the patch more). */
  sigma: number;
  /** What the layer u holds outside the patch (default 'image', see above). */
  fill: SmoothBlendFill;
}

export const SMOOTH_BLEND_DEFAULTS: Readonly<SmoothBlendConfig> = Object.freeze({
  area: [0.005, 0.01] as const,
  aspect: [0.3, 3] as const,
  jitter: Object.freeze({ brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.1 }),
  sigma: 8,
  fill: 'image' as const,
});

/** One image's draw: where the patch comes from, where it goes, and its jitter. */
export interface SmoothBlendPatch {
  source: Box;
  target: Box;
  jitter: ColorJitterParams;
}

export interface SmoothBlendResult {
  /** The perturbed batch [N, 3, H, W]. */
  images: T.Tensor;
  /** The blurred alpha masks [N, 1, H, W] (the pre-blur mask is 1 on each patch's target box). */
  alpha: T.Tensor;
  patches: SmoothBlendPatch[];
}

function resolve(config: Partial<SmoothBlendConfig>): SmoothBlendConfig {
  const c = { ...SMOOTH_BLEND_DEFAULTS, ...config };
  checkInterval('smoothBlend', 'area', c.area, 0, 1);
  checkInterval('smoothBlend', 'aspect', c.aspect, 1e-6, 1e6);
  checkJitterStrength('smoothBlend', c.jitter);
  checkRange('smoothBlend', 'sigma', c.sigma, 0, 1e4);
  return c;
}

/** One image's patch: size, source and target drawn independently. */
export function sampleSmoothBlend(rng: Random, height: number, width: number, config: Partial<SmoothBlendConfig> = {}): SmoothBlendPatch {
  const c = resolve(config);
  const size = samplePatchSize(rng, height, width, c.area, c.aspect);
  const source = samplePosition(rng, height, width, size);
  const target = samplePosition(rng, height, width, size);
  return { source, target, jitter: sampleColorJitter(rng, c.jitter) };
}

// The 1-D factor of a blurred box: blurring is separable and so is the box's indicator. The
// terms of blurSignal's sum (scipy's 'symmetric' borders: the mask keeps its mass at the image
// edge) that are not zero: each padded position that reads a box pixel adds its kernel weight to
// the outputs within the radius, about size·(2r + 1) terms instead of length·(2r + 1).
function boxProfile(length: number, start: number, size: number, sigma: number): Float64Array {
  const r = gaussianRadius(sigma);
  const weights = gaussianWeights(sigma, r);
  const source = Int32Array.from(paddedIndices(length, r, 'symmetric'), Number);
  const out = new Float64Array(length);
  source.forEach((s, p) => {
    if (s < start || s >= start + size) return;
    // padded position p is read by outputs i = p − k, k = 0..2r
    for (let i = Math.max(0, p - 2 * r); i <= Math.min(length - 1, p); i++) out[i] = (out[i] as number) + (weights[p - i] as number);
  });
  return out;
}

// Boxes must lie inside the image, source and target of the same size.
function checkPatches(patches: readonly SmoothBlendPatch[], height: number, width: number): void {
  for (const p of patches) {
    for (const b of [p.source, p.target]) {
      const ok = [b.top, b.left, b.height, b.width].every(Number.isInteger) && b.top >= 0 && b.left >= 0 && b.height > 0 && b.width > 0;
      if (!ok || b.top + b.height > height || b.left + b.width > width) {
        throw new SpotdiffError('ERR_BAD_INPUT', `smoothBlend: box ${JSON.stringify(b)} is not inside a ${height}×${width} image`);
      }
    }
    if (p.source.height !== p.target.height || p.source.width !== p.target.width) {
      throw new SpotdiffError('ERR_BAD_INPUT', `smoothBlend: source ${p.source.height}×${p.source.width} and target ${p.target.height}×${p.target.width} differ in size`);
    }
  }
}

// The blurred masks [N, 1, H, W] as outer products of blurred 1-D box profiles (the same numbers
// as blurring the 2-D mask, at a fraction of the cost), and where they are non-zero.
function blurredMasks(patches: readonly SmoothBlendPatch[], height: number, width: number, sigma: number, opts: T.TensorOptions): { alpha: T.Tensor; reach: T.Tensor } {
  const n = patches.length;
  const rows = new Float64Array(n * height);
  const cols = new Float64Array(n * width);
  patches.forEach((p, i) => {
    rows.set(boxProfile(height, p.target.top, p.target.height, sigma), i * height);
    cols.set(boxProfile(width, p.target.left, p.target.width, sigma), i * width);
  });
  const [r, c] = [T.tensor(rows, [n, 1, height, 1], opts), T.tensor(cols, [n, 1, 1, width], opts)];
  return { alpha: T.mul(r, c), reach: T.logicalAnd(T.gt(r, 0), T.gt(c, 0)) };
}

/**
 * Applies given patches (one per image), batched whatever the batch size: the source boxes'
 * pixels are gathered as one batch of padded rows (exact copies), jittered together with
 * per-patch parameters (box-pixels.ts, region-jitter.ts), blended with α and scattered back;
 * with fill 'zero', u is the jittered patches scattered into zeros and the blend covers all
 * that α reaches.
 */
export function applySmoothBlend(images: T.Tensor, patches: readonly SmoothBlendPatch[], config: Partial<SmoothBlendConfig> = {}): { images: T.Tensor; alpha: T.Tensor } {
  checkImages('smoothBlend', images);
  checkPerImage('smoothBlend', 'patches', patches.length, images);
  const c = resolve(config);
  const [height, width] = [images.shape[2] as number, images.shape[3] as number];
  checkPatches(patches, height, width);
  return T.tidy(() => {
    const { alpha, reach } = blurredMasks(patches, height, width, c.sigma, { dtype: images.dtype, device: images.device });
    const source = padRows(patches.map((p) => boxPositions(p.source, width)));
    const patch = jitterRegions(gatherRows(images, rowIndex(source, images.device)), source.counts, patches.map((p) => p.jitter));
    const target = rowIndex(padRows(patches.map((p) => boxPositions(p.target, width))), images.device);
    // x + α·(u − x) is (1 − α)·x + α·u.
    const blend = (x: T.Tensor, a: T.Tensor, u: T.Tensor): T.Tensor => T.clamp(T.add(x, T.mul(a, T.sub(u, x))), 0, 1);
    if (c.fill === 'zero') {
      const u = scatterRows(T.zerosLike(images), target, patch);
      return { images: T.where(reach, blend(images, alpha, u), images), alpha };
    }
    // With u = x outside the patch only the patch changes.
    return { images: scatterRows(images, target, blend(gatherRows(images, target), gatherRows(alpha, target), patch)), alpha };
  });
}

/** SmoothBlend with each image's patch drawn from rng. */
export function smoothBlend(images: T.Tensor, rng: Random, config: Partial<SmoothBlendConfig> = {}): SmoothBlendResult {
  checkImages('smoothBlend', images);
  const [height, width] = [images.shape[2] as number, images.shape[3] as number];
  const patches = Array.from({ length: images.shape[0] as number }, () => sampleSmoothBlend(rng, height, width, config));
  return { ...applySmoothBlend(images, patches, config), patches };
}
