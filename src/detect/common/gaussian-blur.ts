import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';

/**
 * Border handling of the blur. 'symmetric' repeats the edge sample (d c b a | a b c d): what
 * scipy.ndimage calls 'reflect' and what the official PaDiM/PatchCore code gets from
 * gaussian_filter. 'reflect' mirrors about the edge sample (d c b | a b c d): torch's F.pad
 * 'reflect', as anomalib's GaussianBlur2d uses.
 */
export type BlurPadding = 'symmetric' | 'reflect';

/** Kernel radius as scipy (truncate=4) and anomalib (2*int(4σ+0.5)+1 taps) both compute it. */
export function gaussianRadius(sigma: number, truncate = 4): number {
  return Math.trunc(truncate * sigma + 0.5);
}

/** Normalised 1-D Gaussian weights exp(-x²/2σ²) for x in [-r, r], computed in float64. */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  const r = gaussianRadius(sigma, truncate);
  const w = new Float64Array(2 * r + 1);
  let total = 0;
  for (let i = -r; i <= r; i++) {
    const v = sigma > 0 ? Math.exp((-0.5 / (sigma * sigma)) * i * i) : i === 0 ? 1 : 0;
    w[i + r] = v;
    total += v;
  }
  for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) / total;
  return w;
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
 * Separable Gaussian blur of maps [B, H, W] or [B, 1, H, W] (same shape back), computed as
 * two 1-D convolutions over explicitly padded rows and columns. σ = 0 returns a copy.
 */
export function gaussianBlur(maps: T.Tensor, sigma: number, opts: { truncate?: number; padding?: BlurPadding } = {}): T.Tensor {
  const truncate = opts.truncate ?? 4;
  const padding = opts.padding ?? 'symmetric';
  if (maps.rank !== 3 && !(maps.rank === 4 && maps.shape[1] === 1)) {
    throw new SpotdiffError('ERR_SHAPE', `gaussianBlur: maps must be [B, H, W] or [B, 1, H, W], got [${maps.shape.join(', ')}]`);
  }
  return T.tidy(() => {
    const x = maps.rank === 3 ? T.unsqueeze(maps, 1) : maps;
    const r = gaussianRadius(sigma, truncate);
    if (r === 0) return T.clone(maps);
    const [h, w] = [x.shape[2] as number, x.shape[3] as number];
    const weights = T.tensor(Float32Array.from(gaussianKernel1d(sigma, truncate)), [2 * r + 1], { device: x.device, dtype: x.dtype });
    const rowsIdx = T.tensor(paddedIndices(h, r, padding), undefined, { device: x.device });
    const colsIdx = T.tensor(paddedIndices(w, r, padding), undefined, { device: x.device });
    const alongH = T.conv2d(T.indexSelect(x, 2, rowsIdx), T.reshape(weights, [1, 1, 2 * r + 1, 1]));
    const alongW = T.conv2d(T.indexSelect(alongH, 3, colsIdx), T.reshape(weights, [1, 1, 1, 2 * r + 1]));
    return maps.rank === 3 ? T.squeeze(alongW, 1) : alongW;
  });
}
