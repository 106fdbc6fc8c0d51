import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';

/**
 * Per-position Gaussians (mean and inverse covariance) accumulated one batch at a time, so the
 * training features never have to be held all at once.
 *
 * Memory. The result is d×d float32 per position; for WideResNet-50-2 at 256 px (64×64 = 4096
 * positions, d = 550) that is 4096 × 550² × 4 B = 4.96 GB, and it cannot be smaller without
 * changing the method. The running sums of outer products are kept in float64 but only their
 * upper triangle (d(d+1)/2 values = 1,212,200 B per position for d = 550, the same bytes as the
 * float32 inverse), and each position chunk's sums are freed as soon as its inverse exists.
 * So the peak is one model's worth, 4.96 GB, plus two chunks of float64 work space
 * (2 × chunkBytes, 128 MiB at the default) plus the current batch's embedding
 * (B × d × 4096 × 4 B: 288 MB for B = 32) plus the buffered embeddings not yet in the sums
 * (bufferBytes, 128 MiB at the default). Full float64 sums would have needed 9.9 GB.
 * Measured (bench/padim-memory.ts, d = 550, random features): 64×64 grid: model 4.97 GB, peak
 * RSS 5.50 GB; 32×32: 1.24 GB, 1.68 GB (the process holds 0.21 GB before fitting).
 * ResNet-18 at 224 px (3136 positions, d = 100): 125 MB.
 *
 * Numerics follow the official code: the covariance is formed in float64 (np.cov), the
 * epsilon·I added, rounded to float32 (the official keeps cov in a float32 array), inverted in
 * float64 (np.linalg.inv works in double) and stored as float32. Data are shifted by the first
 * batch's mean before the sums so that Σxxᵀ − n·x̄x̄ᵀ does not cancel.
 */
export interface GaussianChunk {
  start: number;
  /** [P, d, d] float32. */
  invCovariance: T.Tensor;
}

/** Default size of one chunk of float64 work ([P, d, d]). */
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

export function positionsPerChunk(d: number, chunkBytes: number): number {
  return Math.max(1, Math.floor(chunkBytes / (d * d * 8)));
}

function int64(values: ArrayLike<number>, device: string): T.Tensor {
  return T.tensor(BigInt64Array.from(Array.prototype.map.call(values, (v: number) => BigInt(v)) as bigint[]), [values.length], { device });
}

export class GaussianAccumulator {
  readonly positions: number;
  readonly dim: number;
  readonly device: string;
  private count = 0;
  private shift: T.Tensor | null = null; // [HW, d] f64
  private sum: T.Tensor; // [HW, d] f64, of shifted data
  private readonly chunks: { start: number; size: number; packed: T.Tensor | null }[] = [];
  private readonly upper: T.Tensor; // flat indices of the upper triangle, row-major
  private readonly pending: T.Tensor[] = []; // buffered batches [B, d, HW] f32, not yet in the sums
  private pendingImages = 0;
  private readonly bufferBytes: number;
  private disposed = false;

  /** `bufferBytes`: float32 embeddings buffered before they are added to the sums (default 2 × chunkBytes). */
  constructor(positions: number, dim: number, device: string, chunkBytes = DEFAULT_CHUNK_BYTES, bufferBytes = 2 * chunkBytes) {
    this.positions = positions;
    this.dim = dim;
    this.device = device;
    this.bufferBytes = bufferBytes;
    const flat: number[] = [];
    for (let i = 0; i < dim; i++) for (let j = i; j < dim; j++) flat.push(i * dim + j);
    this.upper = T.keep(int64(flat, device));
    this.sum = T.keep(T.zeros([positions, dim], { dtype: 'float64', device }));
    const p = positionsPerChunk(dim, chunkBytes);
    for (let s = 0; s < positions; s += p) {
      const size = Math.min(p, positions - s);
      this.chunks.push({ start: s, size, packed: T.keep(T.zeros([size, flat.length], { dtype: 'float64', device })) });
    }
  }

  get images(): number {
    return this.count;
  }

  /**
   * Adds a batch of embeddings [B, d, positions] (float32). Batches are buffered (a copy) until
   * `bufferBytes` worth of images are waiting, then added to the sums in one pass: each pass
   * writes a [P, d, d] float64 product per chunk and gathers its upper triangle, whatever the
   * number of images, so a pass per 8-image batch was memory-bound. Measured on 2 threads:
   * ResNet-18 at 256 px (d = 100, 4096 positions), 200 images in batches of 8: 15-17 s of add()
   * before, 6-8 s with the buffer (80 images per pass); bench/padim-memory.ts at 32×32, d = 550:
   * 3.4-13.6 s before, 0.5 s (one pass), same peak RSS.
   */
  add(x: T.Tensor): void {
    if (this.disposed) throw new SpotdiffError('ERR_DISPOSED', 'this PaDiM accumulator was finished or disposed');
    const [b, d, hw] = x.shape as [number, number, number];
    if (d !== this.dim || hw !== this.positions) throw new SpotdiffError('ERR_SHAPE', `PaDiM: embedding [${x.shape.join(', ')}] does not match [B, ${this.dim}, ${this.positions}]`);
    T.noGrad(() => {
      // The shift is the first batch's mean, whatever the buffering.
      if (this.shift === null) this.shift = T.keep(T.tidy(() => T.toDtype(T.mean(T.permute(x, [2, 0, 1]), 1), 'float64')));
      this.pending.push(T.keep(T.tidy(() => T.clone(x))));
    });
    this.pendingImages += b;
    this.count += b;
    if (this.pendingImages * d * hw * 4 >= this.bufferBytes) this.flush();
  }

  /** Adds the buffered batches to the running sums. */
  private flush(): void {
    if (this.pending.length === 0) return;
    const d = this.dim;
    try {
      T.noGrad(() =>
        T.tidy(() => {
          const byPosition = this.pending.map((x) => T.permute(x, [2, 0, 1])); // [HW, B, d] each
          const shift = this.shift as T.Tensor;
          for (const c of this.chunks) {
            T.tidy(() => {
              // This chunk's positions of every buffered batch, joined along the images: [P, ΣB, d].
              const parts = byPosition.map((x) => T.toDtype(T.narrow(x, 0, c.start, c.size), 'float64'));
              const joined = parts.length === 1 ? parts[0]! : T.cat(parts, 1);
              const xc = T.sub(joined, T.unsqueeze(T.narrow(shift, 0, c.start, c.size), 1));
              T.addInPlace(T.narrow(this.sum, 0, c.start, c.size), T.sum(xc, 1));
              const outer = T.bmm(T.transpose(xc, 1, 2), xc); // [P, d, d]
              T.addInPlace(c.packed as T.Tensor, T.indexSelect(T.reshape(outer, [c.size, d * d]), 1, this.upper));
            });
          }
        }),
      );
    } finally {
      T.dispose(this.pending);
      this.pending.length = 0;
      this.pendingImages = 0;
    }
  }

  /**
   * Mean [positions, d] and inverse covariances (float32, chunked). Frees the sums as it goes;
   * the accumulator cannot be used afterwards. Needs at least two images (unbiased covariance).
   */
  finish(epsilon: number): { mean: T.Tensor; chunks: GaussianChunk[] } {
    if (this.disposed) throw new SpotdiffError('ERR_DISPOSED', 'this PaDiM accumulator was finished or disposed');
    this.flush();
    const n = this.count;
    if (n < 2) throw new SpotdiffError('ERR_BAD_INPUT', `PaDiM needs at least 2 training images for a covariance, got ${n}`);
    const d = this.dim;
    const out: GaussianChunk[] = [];
    try {
      T.noGrad(() => {
        // Where each entry of a full d×d matrix sits in the packed upper triangle.
        const fromPacked = T.keep(
          int64(
            Array.from({ length: d * d }, (_, k) => {
              const [i, j] = [Math.floor(k / d), k % d];
              const [a, b] = i <= j ? [i, j] : [j, i];
              return a * d - (a * (a - 1)) / 2 + (b - a);
            }),
            this.device,
          ),
        );
        try {
          for (const c of this.chunks) {
            const inv = this.inverseOfChunk(c, fromPacked, n, epsilon);
            out.push({ start: c.start, invCovariance: T.keep(inv) });
            c.packed?.dispose();
            c.packed = null;
          }
        } finally {
          fromPacked.dispose();
        }
      });
      const shift = this.shift as T.Tensor;
      const mean = T.keep(T.tidy(() => T.toDtype(T.add(T.div(this.sum, n), shift), 'float32')));
      this.dispose();
      return { mean, chunks: out };
    } catch (e) {
      for (const c of out) c.invCovariance.dispose();
      this.dispose();
      throw e;
    }
  }

  /**
   * One chunk's inverse covariances. Each step frees its input at once (explicit disposal, not
   * one tidy) so that at most two [P, d, d] float64 buffers are alive: ~2 × chunkBytes.
   */
  private inverseOfChunk(c: { start: number; size: number; packed: T.Tensor | null }, fromPacked: T.Tensor, n: number, epsilon: number): T.Tensor {
    const d = this.dim;
    const step = (input: T.Tensor, f: (t: T.Tensor) => T.Tensor): T.Tensor => {
      try {
        return T.tidy(() => f(input));
      } finally {
        input.dispose();
      }
    };
    let t = T.tidy(() => T.reshape(T.indexSelect(c.packed as T.Tensor, 1, fromPacked), [c.size, d, d])); // Σ (x−k)(x−k)ᵀ
    c.packed?.dispose();
    c.packed = null;
    t = step(t, (sums) => {
      const m = T.div(T.narrow(this.sum, 0, c.start, c.size), n); // mean of the shifted data [P, d]
      // (Σ − n·m·mᵀ) / (n − 1) + ε·I
      const cov = T.baddbmm(sums, T.unsqueeze(m, 2), T.unsqueeze(m, 1), 1 / (n - 1), -n / (n - 1));
      T.addInPlace(T.diagonal(cov, 0, 1, 2), epsilon);
      return cov;
    });
    // The official code keeps cov in a float32 array and inverts that (in float64).
    t = step(t, (cov) => T.toDtype(cov, 'float32'));
    t = step(t, (cov) => T.toDtype(cov, 'float64'));
    t = step(t, (cov) => {
      try {
        return T.cholesky(cov);
      } catch (e) {
        throw new SpotdiffError('ERR_BAD_INPUT', `PaDiM: a covariance matrix is singular (covarianceEpsilon = ${epsilon}); use a positive epsilon`, { cause: e });
      }
    });
    t = step(t, (l) => T.choleskyInverse(l));
    // LAPACK leaves the inverses column-major (transposed strides); scoring multiplies by them
    // once per test batch, and bmm on that layout ran 1.5-2.5× slower. Made row-major while
    // still float64 (a temporary the size of the other steps'), so the float32 result is the
    // one allocation that stays, as before: copying after the float32 conversion left freed
    // chunks stranded in the heap (peak RSS 2.85 instead of 1.68 GB, bench/padim-memory.ts at 32×32).
    t = step(t, (inv) => T.contiguous(inv));
    return step(t, (inv) => T.toDtype(inv, 'float32'));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.upper.dispose();
    this.sum.dispose();
    this.shift?.dispose();
    T.dispose(this.pending);
    this.pending.length = 0;
    for (const c of this.chunks) c.packed?.dispose();
  }
}
