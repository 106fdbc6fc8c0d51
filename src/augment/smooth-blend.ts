import * as T from '../tensor/index.js';
import type { Random } from '../util/random.js';
import { checkImages, checkInterval, checkPerImage, checkRange } from './check.js';
import { applyColorJitter, checkJitterStrength, sampleColorJitter, type ColorJitterParams, type ColorJitterStrength } from './color-jitter.js';
import { blurSignal } from './gaussian-blur.js';
import { cutBox, samplePatchSize, samplePosition, type Box } from './patch.js';

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

// The 1-D factor of a blurred box: blurring is separable and so is the box's indicator.
function boxProfile(length: number, start: number, size: number, sigma: number): Float64Array {
  const indicator = new Float64Array(length);
  indicator.fill(1, start, start + size);
  // scipy's gaussian_filter borders ('symmetric'): the mask keeps its mass at the image edge.
  return blurSignal(indicator, sigma, { padding: 'symmetric' });
}

// The [lo, hi) range where a profile is non-zero.
function support(profile: Float64Array): [number, number] {
  let lo = 0;
  let hi = profile.length;
  while (lo < hi && profile[lo] === 0) lo++;
  while (hi > lo && profile[hi - 1] === 0) hi--;
  return [lo, hi];
}

/**
 * Applies given patches (one per image). The blurred mask is computed as the outer product of
 * two blurred 1-D box profiles (the same numbers as blurring the 2-D mask, at a fraction of the
 * cost), and only the pixels it reaches are recomputed.
 */
export function applySmoothBlend(images: T.Tensor, patches: readonly SmoothBlendPatch[], config: Partial<SmoothBlendConfig> = {}): { images: T.Tensor; alpha: T.Tensor } {
  checkImages('smoothBlend', images);
  checkPerImage('smoothBlend', 'patches', patches.length, images);
  const c = resolve(config);
  const [n, height, width] = [images.shape[0] as number, images.shape[2] as number, images.shape[3] as number];
  const opts = { dtype: images.dtype, device: images.device };
  return T.tidy(() => {
    const rows = new Float64Array(n * height);
    const cols = new Float64Array(n * width);
    const regions: { rows: [number, number]; cols: [number, number] }[] = [];
    patches.forEach((p, i) => {
      const pr = boxProfile(height, p.target.top, p.target.height, c.sigma);
      const pc = boxProfile(width, p.target.left, p.target.width, c.sigma);
      rows.set(pr, i * height);
      cols.set(pc, i * width);
      // With u = x outside the patch only the patch changes; with u = 0 all that α reaches.
      regions.push(
        c.fill === 'image'
          ? { rows: [p.target.top, p.target.top + p.target.height], cols: [p.target.left, p.target.left + p.target.width] }
          : { rows: support(pr), cols: support(pc) },
      );
    });
    const alpha = T.mul(T.tensor(rows, [n, 1, height, 1], opts), T.tensor(cols, [n, 1, 1, width], opts));
    const out = T.clone(images);
    patches.forEach((p, i) => {
      const { rows: [r0, r1], cols: [c0, c1] } = regions[i]!;
      const view = (t: T.Tensor): T.Tensor => T.narrow(T.narrow(T.narrow(t, 0, i, 1), 2, r0, r1 - r0), 3, c0, c1 - c0);
      const patch = applyColorJitter(cutBox(images, i, p.source), [p.jitter]);
      // u on the region: the patch, surrounded by zeros when the region is larger ('zero').
      const u = T.pad(patch, [p.target.left - c0, c1 - p.target.left - p.target.width, p.target.top - r0, r1 - p.target.top - p.target.height]);
      const x = view(images);
      // x + α·(u − x) is (1 − α)·x + α·u.
      T.copyInPlace(view(out), T.clamp(T.add(x, T.mul(view(alpha), T.sub(u, x))), 0, 1));
    });
    return { images: out, alpha };
  });
}

/** SmoothBlend with each image's patch drawn from rng. */
export function smoothBlend(images: T.Tensor, rng: Random, config: Partial<SmoothBlendConfig> = {}): SmoothBlendResult {
  checkImages('smoothBlend', images);
  const [height, width] = [images.shape[2] as number, images.shape[3] as number];
  const patches = Array.from({ length: images.shape[0] as number }, () => sampleSmoothBlend(rng, height, width, config));
  return { ...applySmoothBlend(images, patches, config), patches };
}
