import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';
import { adjustBrightness, adjustHue, adjustSaturation, rgbToGrayscale, JITTER_OPS, type ColorJitterParams, type Factors, type JitterOp } from './color-jitter.js';

/**
 * ColorJitter of one pixel region per image, the regions batched as padded rows [N, 3, 1, L]
 * (box-pixels.ts: row n's first counts[n] entries are the region, the rest repeat its last
 * pixel). Brightness, saturation and hue act pixel by pixel and run as color-jitter.ts's
 * operations; contrast blends with the mean grey of the region alone, a masked sum (in float64)
 * over its count. As applyColorJitter, each step groups the images by the operation they take
 * there, so every image keeps its own order.
 */

// torchvision's adjust_contrast on each row's region: clamp(f·x + (1 − f)·mean), 1 − f in float64.
function contrastRegions(x: T.Tensor, counts: readonly number[], factors: readonly number[]): T.Tensor {
  const n = counts.length;
  const opts = { dtype: x.dtype, device: x.device };
  const wide = { dtype: 'float64', device: x.device } as const;
  const countTensor = T.tensor(Float64Array.from(counts), [n, 1, 1, 1], wide);
  const inRegion = T.lt(T.arange(0, x.shape[3] as number, 1, wide), countTensor);
  const grey = T.toDtype(rgbToGrayscale(x), 'float64');
  const mean = T.toDtype(T.div(T.sum(T.where(inRegion, grey, 0), [1, 2, 3], true), countTensor), x.dtype);
  const ratio = T.tensor(Float64Array.from(factors), [n, 1, 1, 1], opts);
  const rest = T.tensor(Float64Array.from(factors, (f) => 1 - f), [n, 1, 1, 1], opts);
  return T.clamp(T.add(T.mul(x, ratio), T.mul(mean, rest)), 0, 1);
}

const ADJUST: Record<JitterOp, (x: T.Tensor, counts: readonly number[], factors: readonly number[]) => T.Tensor> = {
  brightness: (x, _, f: Factors) => adjustBrightness(x, f),
  contrast: contrastRegions,
  saturation: (x, _, f: Factors) => adjustSaturation(x, f),
  hue: (x, _, f: Factors) => adjustHue(x, f),
};

function checkOrders(params: readonly ColorJitterParams[]): void {
  for (const p of params) {
    if (p.order.length !== 4 || new Set(p.order).size !== 4 || !p.order.every((o) => JITTER_OPS.includes(o))) {
      throw new SpotdiffError('ERR_BAD_INPUT', `jitterRegions: order must be a permutation of ${JITTER_OPS.join(', ')}, got [${p.order.join(', ')}]`);
    }
  }
}

/** Jitters each row's region [N, 3, 1, L] with its image's parameters; counts[n] pixels of row n are the region. */
export function jitterRegions(rows: T.Tensor, counts: readonly number[], params: readonly ColorJitterParams[]): T.Tensor {
  checkOrders(params);
  return T.tidy(() => {
    let out = T.clone(rows);
    for (let step = 0; step < 4; step++) {
      for (const op of JITTER_OPS) {
        const members = params.flatMap((p, n) => (p.order[step] === op && p[op] !== null ? [n] : []));
        if (members.length === 0) continue;
        const factors = members.map((n) => params[n]![op] as number);
        const memberCounts = members.map((n) => counts[n] as number);
        if (members.length === params.length) {
          out = ADJUST[op](out, memberCounts, factors);
          continue;
        }
        const idx = T.tensor(BigInt64Array.from(members, (m) => BigInt(m)), undefined, { device: rows.device });
        T.indexPutInPlace(out, [idx], ADJUST[op](T.indexSelect(out, 0, idx), memberCounts, factors));
      }
    }
    return out;
  });
}
