import * as T from '../../src/tensor/index.js';
import { Random } from '../../src/util/random.js';

/**
 * A seeded batch [n, 3, h, w] in [0, 1] that exercises the colour code's branches: mostly
 * uniform noise, with grey pixels (all channels equal), ties between two channels, and
 * exact 0 and 1 values.
 */
export function randomImages(seed: number, n: number, h: number, w: number): T.Tensor {
  const rng = new Random(seed);
  const plane = h * w;
  const v = new Float32Array(n * 3 * plane);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < plane; p++) {
      const px = [rng.float(), rng.float(), rng.float()];
      if (p % 7 === 0) px[1] = px[2] = px[0]!;
      else if (p % 11 === 0) px[2] = px[0]!;
      if (p % 13 === 0) px[0] = 1;
      if (p % 17 === 0) px[1] = 0;
      for (let c = 0; c < 3; c++) v[(i * 3 + c) * plane + p] = px[c]!;
    }
  }
  return T.tensor(v, [n, 3, h, w]);
}

/** Python list literal of numbers (full precision). */
export const pyList = (xs: readonly number[]): string => `[${xs.map((x) => x.toPrecision(17)).join(', ')}]`;

/** Largest |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Lower and upper bounds (±k standard deviations) for the count of a Binomial(n, p). */
export function binomialBounds(n: number, p: number, k = 5): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [n * p - k * sd, n * p + k * sd];
}
