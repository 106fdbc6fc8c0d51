import { SpotdiffError } from '../../util/errors.js';
import type { BlurPadding } from '../../augment/gaussian-blur.js';

/**
 * What the glue (CLI) did to an image before the backbone saw it, saved with every detector
 * so that a model is only ever applied the way it was fitted. The detector math itself only
 * reads `imageSize` (maps come out at that size); the rest is a record for load-time checks.
 */
export interface InputConfig {
  /** Backbone name as the models module spells it ('resnet18', 'wide_resnet50_2', ...). */
  backbone: string;
  /** Where the backbone weights came from (a path, a hash, or null for random init). */
  weights: string | null;
  /** Resize applied before the crop (torchvision Resize(int): shorter side), or null. */
  resize: number | null;
  /** Centre crop size, or null. */
  crop: number | null;
  /** The backbone input as [height, width]: anomaly maps are returned at this size. */
  imageSize: [number, number];
}

/** How patch-level scores become a pixel-level anomaly map. */
export interface MapConfig {
  /** Upsampling of the patch-score grid to the image size (both anchors: bilinear, align_corners=False). */
  upsample: 'bilinear';
  /** Gaussian smoothing after upsampling (both anchors: σ=4, radius int(4σ+0.5) = 16, 33 taps). */
  blur: { sigma: number; truncate: number; padding: BlurPadding };
}

/**
 * The official PaDiM and PatchCore code blur with scipy.ndimage.gaussian_filter(σ=4): its
 * default border mode 'reflect' repeats the edge pixel (d c b a | a b c d), our 'symmetric'.
 * anomalib pads with torch's 'reflect' (d c b | a b c d), our 'reflect'. Same 33-tap kernel.
 */
export const DEFAULT_MAP_CONFIG: MapConfig = { upsample: 'bilinear', blur: { sigma: 4, truncate: 4, padding: 'symmetric' } };

export function checkInputConfig(input: InputConfig): void {
  const [h, w] = input.imageSize ?? [];
  if (!Number.isInteger(h) || !Number.isInteger(w) || (h as number) < 1 || (w as number) < 1) {
    throw new SpotdiffError('ERR_BAD_INPUT', `input.imageSize must be [height, width] in pixels, got ${JSON.stringify(input.imageSize)}`);
  }
  for (const [k, v] of [['resize', input.resize], ['crop', input.crop]] as const) {
    if (v !== null && (!Number.isInteger(v) || v < 1)) throw new SpotdiffError('ERR_BAD_INPUT', `input.${k} must be a positive integer or null, got ${v}`);
  }
  if (typeof input.backbone !== 'string' || input.backbone === '') throw new SpotdiffError('ERR_BAD_INPUT', 'input.backbone must name the backbone');
}

export function checkMapConfig(map: MapConfig): void {
  if (map.upsample !== 'bilinear') throw new SpotdiffError('ERR_BAD_INPUT', `map.upsample must be 'bilinear', got ${JSON.stringify(map.upsample)}`);
  const { sigma, truncate, padding } = map.blur;
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new SpotdiffError('ERR_BAD_INPUT', `map.blur.sigma must be a number >= 0, got ${sigma}`);
  if (!(truncate > 0) || !Number.isFinite(truncate)) throw new SpotdiffError('ERR_BAD_INPUT', `map.blur.truncate must be > 0, got ${truncate}`);
  if (padding !== 'symmetric' && padding !== 'reflect') throw new SpotdiffError('ERR_BAD_INPUT', `map.blur.padding must be 'symmetric' or 'reflect', got ${JSON.stringify(padding)}`);
}

/** A positive integer or a clear error naming the option. */
export function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new SpotdiffError('ERR_BAD_INPUT', `${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}
