import type { Tensor } from '../tensor.js';
import { op, checkRank, checkFloat, pair } from './call.js';
import { SpotdiffError } from '../../util/errors.js';

type IntOrPair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: IntOrPair;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  groups?: number;
}

/** 2-D convolution of x [N,C,H,W] with weight [O, C/groups, kh, kw]. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  checkRank('conv2d', x, [4]);
  checkRank('conv2d', weight, [4], 'weight');
  checkFloat('conv2d', x);
  const groups = o.groups ?? 1;
  if (x.shape[1] !== weight.shape[1]! * groups) {
    throw new SpotdiffError(
      'ERR_SHAPE',
      `conv2d: input has ${x.shape[1]} channels but weight [${weight.shape.join(', ')}] with groups=${groups} expects ${weight.shape[1]! * groups}`,
    );
  }
  return op('conv2d', x, weight, bias, pair(o.stride ?? 1), pair(o.padding ?? 0), pair(o.dilation ?? 1), groups);
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: IntOrPair;
}

export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: ConvTranspose2dOptions = {}): Tensor {
  checkRank('convTranspose2d', x, [4]);
  checkRank('convTranspose2d', weight, [4], 'weight');
  return op('conv_transpose2d', x, weight, bias, pair(o.stride ?? 1), pair(o.padding ?? 0), pair(o.outputPadding ?? 0), o.groups ?? 1, pair(o.dilation ?? 1));
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** Batch normalisation; in training mode the running statistics are updated in place. */
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  checkRank('batchNorm', x, [2, 3, 4, 5]);
  // torch.nn.functional.batch_norm checks this in Python; libtorch alone would return zeros
  // and poison the running variance with inf/NaN.
  if (o.training && x.size / x.shape[1]! <= 1) {
    throw new SpotdiffError('ERR_SHAPE', `batchNorm: expected more than 1 value per channel when training, got input of shape [${x.shape.join(', ')}]`);
  }
  return op('batch_norm', x, o.weight ?? null, o.bias ?? null, o.runningMean ?? null, o.runningVar ?? null, o.training, o.momentum ?? 0.1, o.eps ?? 1e-5);
}

export const groupNorm = (x: Tensor, groups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor =>
  op('group_norm', x, groups, weight, bias, eps);
export const layerNorm = (x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor =>
  op('layer_norm', x, normalizedShape, weight, bias, eps);

/** x·Wᵀ + b. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkRank('linear', weight, [1, 2], 'weight');
  const inFeatures = weight.shape[weight.rank - 1];
  if (x.shape[x.rank - 1] !== inFeatures) {
    throw new SpotdiffError('ERR_SHAPE', `linear: input [${x.shape.join(', ')}] does not match weight [${weight.shape.join(', ')}] (last dim must equal ${inFeatures})`);
  }
  return op('linear', x, weight, bias);
}

export interface Pool2dOptions {
  stride?: IntOrPair;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export function maxPool2d(x: Tensor, kernel: IntOrPair, o: Pool2dOptions = {}): Tensor {
  checkRank('maxPool2d', x, [3, 4]);
  return op('max_pool2d', x, pair(kernel), pair(o.stride ?? kernel), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.ceilMode ?? false);
}
export function avgPool2d(x: Tensor, kernel: IntOrPair, o: Pool2dOptions = {}): Tensor {
  checkRank('avgPool2d', x, [3, 4]);
  return op('avg_pool2d', x, pair(kernel), pair(o.stride ?? kernel), pair(o.padding ?? 0), o.ceilMode ?? false, o.countIncludePad ?? true);
}
export const adaptiveAvgPool2d = (x: Tensor, size: IntOrPair): Tensor => op('adaptive_avg_pool2d', x, pair(size));
export const adaptiveMaxPool2d = (x: Tensor, size: IntOrPair): Tensor => op('adaptive_max_pool2d', x, pair(size));

export type InterpolateMode = 'bilinear' | 'nearest' | 'bicubic';
/** F.interpolate(scale_factor=...): output floor(in·scale); sampling uses the scale itself, as torch does. */
export interface InterpolateScale {
  scaleFactor: number | readonly [number, number];
}

/**
 * Resizes [N,C,H,W] to `size`, or by `{ scaleFactor }` (torch.nn.functional.interpolate with
 * recompute_scale_factor unset; 'nearest' is torch's legacy nearest).
 */
export function interpolate(x: Tensor, size: IntOrPair | InterpolateScale, mode: InterpolateMode = 'bilinear', alignCorners = false): Tensor {
  checkRank('interpolate', x, [4]);
  // nearest also resamples integer masks; the other modes need floats.
  if (mode !== 'nearest') checkFloat(`interpolate(${mode})`, x);
  let s: [number, number];
  let scales: [number | null, number | null] = [null, null];
  if (typeof size === 'object' && 'scaleFactor' in size) {
    const sf = pair(size.scaleFactor);
    if (!sf.every((v) => Number.isFinite(v) && v > 0)) {
      throw new SpotdiffError('ERR_BAD_INPUT', `interpolate: scale factors must be positive, got [${sf.join(', ')}]`);
    }
    scales = sf;
    s = [Math.floor(x.shape[2]! * sf[0]), Math.floor(x.shape[3]! * sf[1])];
  } else {
    s = pair(size);
  }
  if (!s.every((v) => Number.isInteger(v) && v > 0)) {
    throw new SpotdiffError('ERR_SHAPE', `interpolate: output size must be positive integers, got [${s.join(', ')}] for input [${x.shape.join(', ')}]`);
  }
  if (mode === 'nearest') return op('interpolate_nearest', x, s, scales[0], scales[1]);
  return op(mode === 'bilinear' ? 'interpolate_bilinear' : 'interpolate_bicubic', x, s, alignCorners, scales[0], scales[1]);
}

export type GridSampleMode = 'bilinear' | 'nearest' | 'bicubic';
export type GridSamplePadding = 'zeros' | 'border' | 'reflection';
const GRID_MODES: readonly GridSampleMode[] = ['bilinear', 'nearest', 'bicubic'];
const GRID_PADDINGS: readonly GridSamplePadding[] = ['zeros', 'border', 'reflection'];

/**
 * Samples x [N,C,H,W] at the points of grid [N,Ho,Wo,2] (torch.nn.functional.grid_sample):
 * grid[..., 0] is x and grid[..., 1] is y, both normalised to [-1, 1] over the input's width and
 * height (with alignCorners false, -1 and 1 are the outer edges of the edge pixels, so pixel i's
 * centre is at (2i + 1)/size − 1). Output [N,C,Ho,Wo]; grid has x's dtype and device.
 */
export function gridSample(x: Tensor, grid: Tensor, mode: GridSampleMode = 'bilinear', padding: GridSamplePadding = 'zeros', alignCorners = false): Tensor {
  checkRank('gridSample', x, [4]);
  checkRank('gridSample', grid, [4], 'grid');
  checkFloat('gridSample', x);
  if (grid.shape[0] !== x.shape[0] || grid.shape[3] !== 2) {
    throw new SpotdiffError('ERR_SHAPE', `gridSample: grid must be [${x.shape[0]}, Ho, Wo, 2] for input [${x.shape.join(', ')}], got [${grid.shape.join(', ')}]`);
  }
  if (!GRID_MODES.includes(mode) || !GRID_PADDINGS.includes(padding)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `gridSample: mode must be one of ${GRID_MODES.join(', ')} and padding one of ${GRID_PADDINGS.join(', ')}, got ${mode}, ${padding}`);
  }
  return op('grid_sample', x, grid, GRID_MODES.indexOf(mode), GRID_PADDINGS.indexOf(padding), alignCorners);
}

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';
/** pads = [left, right, top, bottom, ...] from the last dim backwards, as torch's F.pad. */
export const pad = (x: Tensor, pads: readonly number[], mode: PadMode = 'constant', value = 0): Tensor =>
  op('pad', x, pads, mode, mode === 'constant' ? value : null);

export const softmax = (x: Tensor, dim: number): Tensor => op('softmax', x, dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => op('log_softmax', x, dim);
/** x / max(‖x‖_p, eps) along dim. */
export const normalize = (x: Tensor, p = 2, dim = 1, eps = 1e-12): Tensor => op('normalize', x, p, dim, eps);
export const cosineSimilarity = (a: Tensor, b: Tensor, dim = 1, eps = 1e-8): Tensor => op('cosine_similarity', a, b, dim, eps);

/**
 * Pairwise p-norm distances between rows of a [.., P, M] and b [.., R, M].
 * exact=true never uses the faster matmul form (which loses precision for near points).
 */
export function cdist(a: Tensor, b: Tensor, p = 2, exact = false): Tensor {
  if (a.shape[a.rank - 1] !== b.shape[b.rank - 1]) {
    throw new SpotdiffError('ERR_SHAPE', `cdist: feature sizes differ: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  }
  return op('cdist', a, b, p, exact ? 2 : null);
}

/** torch.nn.functional.unfold (im2col): [N,C,H,W] -> [N, C·kh·kw, L]. */
export const unfold = (x: Tensor, kernel: IntOrPair, o: { dilation?: IntOrPair; padding?: IntOrPair; stride?: IntOrPair } = {}): Tensor =>
  op('unfold', x, pair(kernel), pair(o.dilation ?? 1), pair(o.padding ?? 0), pair(o.stride ?? 1));
/** torch.nn.functional.fold (col2im). */
export const fold = (x: Tensor, outputSize: IntOrPair, kernel: IntOrPair, o: { dilation?: IntOrPair; padding?: IntOrPair; stride?: IntOrPair } = {}): Tensor =>
  op('fold', x, pair(outputSize), pair(kernel), pair(o.dilation ?? 1), pair(o.padding ?? 0), pair(o.stride ?? 1));
export const pixelShuffle = (x: Tensor, factor: number): Tensor => op('pixel_shuffle', x, factor);
