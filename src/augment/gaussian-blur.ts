import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';
import { checkImages, checkPerImage } from './check.js';

/**
 * The project's one Gaussian blur: separable, on any tensor's trailing H×W planes. It serves
 * the augmentations (torchvision's gaussian_blur: 'reflect' borders) and the anomaly-map
 * smoothing of PaDiM/PatchCore (scipy's gaussian_filter: 'symmetric' borders), see
 * /work/helper-notes/blur.md.
 *
 * Border handling: 'symmetric' repeats the edge sample (d c b a | a b c d), what
 * scipy.ndimage calls 'reflect'; it preserves the total mass of a map. 'reflect' mirrors about
 * the edge sample (d c b | a b c d), torch's F.pad 'reflect' (torchvision, anomalib).
 */
export type BlurPadding = 'symmetric' | 'reflect';

export interface BlurOptions {
  /** Kernel radius in σ: radius = trunc(truncate·σ + 0.5), as scipy (default 4). */
  truncate?: number;
  /** An explicit kernel radius (kernel size 2r+1), as torchvision's kernel_size; overrides truncate. */
  radius?: number;
  /** Border handling (default 'symmetric'). */
  padding?: BlurPadding;
}

/** Kernel radius as scipy (truncate=4) and anomalib (2*int(4σ+0.5)+1 taps) both compute it. */
export function gaussianRadius(sigma: number, truncate = 4): number {
  return Math.trunc(truncate * sigma + 0.5);
}

/** Normalised weights exp(-x²/2σ²) for x in [-r, r], in float64 (σ = 0: the identity kernel). */
export function gaussianWeights(sigma: number, radius: number): Float64Array {
  const w = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = sigma > 0 ? Math.exp((-0.5 / (sigma * sigma)) * i * i) : i === 0 ? 1 : 0;
    w[i + radius] = v;
    total += v;
  }
  for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) / total;
  return w;
}

/** Normalised 1-D Gaussian weights with scipy's radius for `truncate`. */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  return gaussianWeights(sigma, gaussianRadius(sigma, truncate));
}

/**
 * Source index for every padded position -r..n+r-1. Works for any radius, also one larger than
 * the signal (the pattern repeats, as scipy does), so small maps blur without errors.
 */
export function paddedIndices(n: number, r: number, mode: BlurPadding): BigInt64Array {
  const out = new BigInt64Array(n + 2 * r);
  for (let k = 0; k < out.length; k++) {
    const i = k - r;
    let src: number;
    if (mode === 'symmetric') {
      const m = ((i % (2 * n)) + 2 * n) % (2 * n);
      src = m < n ? m : 2 * n - 1 - m;
    } else if (n === 1) {
      src = 0;
    } else {
      const p = 2 * n - 2;
      const m = ((i % p) + p) % p;
      src = m < n ? m : p - m;
    }
    out[k] = BigInt(src);
  }
  return out;
}

/**
 * A 1-D signal blurred on the host in float64, with the same kernel and borders as
 * blurPlanes: the separable factor of a blurred box mask (SmoothBlend's alpha).
 */
export function blurSignal(values: ArrayLike<number>, sigma: number, opts: BlurOptions = {}): Float64Array {
  const r = radiusOf('blurSignal', sigma, opts);
  const n = values.length;
  const weights = gaussianWeights(sigma, r);
  const src = Int32Array.from(paddedIndices(n, r, opts.padding ?? 'symmetric'), Number);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let k = 0; k <= 2 * r; k++) acc += (weights[k] as number) * (values[src[i + k] as number] as number);
    out[i] = acc;
  }
  return out;
}

function radiusOf(fn: string, sigma: number, opts: BlurOptions): number {
  if (!Number.isFinite(sigma) || sigma < 0) throw new SpotdiffError('ERR_BAD_INPUT', `${fn}: sigma must be a finite number >= 0, got ${sigma}`);
  if (opts.radius !== undefined) {
    if (!Number.isInteger(opts.radius) || opts.radius < 0) throw new SpotdiffError('ERR_BAD_INPUT', `${fn}: radius must be an integer >= 0, got ${opts.radius}`);
    return opts.radius;
  }
  const truncate = opts.truncate ?? 4;
  if (!Number.isFinite(truncate) || truncate < 0) throw new SpotdiffError('ERR_BAD_INPUT', `${fn}: truncate must be a finite number >= 0, got ${truncate}`);
  return gaussianRadius(sigma, truncate);
}

/**
 * Blurs planes [1, P, H, W], each with its own 1-D kernel of radius r (kernels: P·(2r+1)
 * weights, plane after plane), along H then W. A depthwise convolution (groups = P) over
 * explicitly padded rows and columns: libtorch's grouped path is several times faster here than
 * one kernel over a batch of single-channel planes, which goes through im2col.
 */
function depthwiseBlur(planes: T.Tensor, kernels: Float32Array, r: number, padding: BlurPadding): T.Tensor {
  const [p, h, w] = [planes.shape[1] as number, planes.shape[2] as number, planes.shape[3] as number];
  const opts = { device: planes.device };
  const weights = T.tensor(kernels, [p, 1, 2 * r + 1], { ...opts, dtype: planes.dtype });
  const rowsIdx = T.tensor(paddedIndices(h, r, padding), undefined, opts);
  const colsIdx = T.tensor(paddedIndices(w, r, padding), undefined, opts);
  const alongH = T.conv2d(T.indexSelect(planes, 2, rowsIdx), T.reshape(weights, [p, 1, 2 * r + 1, 1]), null, { groups: p });
  return T.conv2d(T.indexSelect(alongH, 3, colsIdx), T.reshape(weights, [p, 1, 1, 2 * r + 1]), null, { groups: p });
}

/**
 * Blurs every H×W plane of x (rank ≥ 2, any leading dims, same shape back) with one σ: two
 * 1-D convolutions over explicitly padded rows and columns. A zero radius returns a copy.
 */
export function blurPlanes(x: T.Tensor, sigma: number, opts: BlurOptions = {}): T.Tensor {
  if (x.rank < 2) throw new SpotdiffError('ERR_SHAPE', `blurPlanes: need at least [H, W], got [${x.shape.join(', ')}]`);
  const r = radiusOf('blurPlanes', sigma, opts);
  return T.tidy(() => {
    if (r === 0) return T.clone(x);
    const shape = x.shape;
    const [h, w] = [shape[shape.length - 2] as number, shape[shape.length - 1] as number];
    const planes = T.reshape(x, [1, -1, h, w]);
    const count = planes.shape[1] as number;
    const one = Float32Array.from(gaussianWeights(sigma, r));
    const kernels = new Float32Array(count * one.length);
    for (let i = 0; i < count; i++) kernels.set(one, i * one.length);
    return T.reshape(depthwiseBlur(planes, kernels, r, opts.padding ?? 'symmetric'), shape);
  });
}

/**
 * Map smoothing (PaDiM/PatchCore): maps [B, H, W] or [B, 1, H, W], same shape back; scipy's
 * gaussian_filter by default ('symmetric', truncate 4).
 */
export function gaussianBlur(maps: T.Tensor, sigma: number, opts: BlurOptions = {}): T.Tensor {
  if (maps.rank !== 3 && !(maps.rank === 4 && maps.shape[1] === 1)) {
    throw new SpotdiffError('ERR_SHAPE', `gaussianBlur: maps must be [B, H, W] or [B, 1, H, W], got [${maps.shape.join(', ')}]`);
  }
  return blurPlanes(maps, sigma, opts);
}

/**
 * Image blur as torchvision's gaussian_blur (reflect borders) with a kernel radius from σ
 * (truncate 4, unless `radius` is given): images [N, 3, H, W], one σ for all or one per image
 * (null or 0 leaves that image as it is). Per-image σ run as one depthwise convolution: each
 * kernel sits centred in the largest one, zero beyond its own radius, which reads the same
 * padded pixels as its own radius would.
 */
export function gaussianBlurImages(images: T.Tensor, sigmas: number | readonly (number | null)[], opts: BlurOptions = {}): T.Tensor {
  checkImages('gaussianBlurImages', images);
  const o: BlurOptions = { padding: 'reflect', ...opts };
  if (typeof sigmas === 'number') return blurPlanes(images, sigmas, o);
  checkPerImage('gaussianBlurImages', 'sigmas', sigmas.length, images);
  const radii = sigmas.map((s) => (s === null ? 0 : radiusOf('gaussianBlurImages', s, o)));
  const r = Math.max(...radii);
  return T.tidy(() => {
    if (r === 0) return T.clone(images);
    const [n, c, h, w] = images.shape as [number, number, number, number];
    const k = 2 * r + 1;
    const kernels = new Float32Array(n * c * k);
    sigmas.forEach((s, i) => {
      const own = Float32Array.from(gaussianWeights(s ?? 0, radii[i] as number));
      for (let ch = 0; ch < c; ch++) kernels.set(own, (i * c + ch) * k + r - (radii[i] as number));
    });
    return T.reshape(depthwiseBlur(T.reshape(images, [1, n * c, h, w]), kernels, r, o.padding ?? 'reflect'), [n, c, h, w]);
  });
}
