import * as T from '../../src/tensor/index.js';
import { Random } from '../../src/util/random.js';

/**
 * A batch of n RGB images size×size in [0, 1]: smooth colour gradients and a few blobs plus
 * a little noise, so that crops, jitter and SmoothBlend patches change something visible.
 */
export function randomImages(n: number, size: number, seed: number): T.Tensor {
  const rng = new Random(seed);
  const v = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < n; i++) {
    const blobs = Array.from({ length: 3 }, () => ({ y: rng.uniform(0, size), x: rng.uniform(0, size), r: rng.uniform(2, size / 3), c: [rng.float(), rng.float(), rng.float()] }));
    const base = [rng.float(), rng.float(), rng.float()];
    const grad = [rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)];
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          let p = base[c]! * 0.6 + (grad[c]! * (x + y)) / (2 * size);
          for (const b of blobs) if ((y - b.y) ** 2 + (x - b.x) ** 2 < b.r ** 2) p = 0.5 * p + 0.5 * b.c[c]!;
          p += rng.uniform(-0.03, 0.03);
          v[((i * 3 + c) * size + y) * size + x] = Math.min(1, Math.max(0, p));
        }
      }
    }
  }
  return T.tensor(v, [n, 3, size, size]);
}
