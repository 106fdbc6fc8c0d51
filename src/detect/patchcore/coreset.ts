import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { Random } from '../../util/random.js';

/** floor(n·ratio), as both anchors compute the coreset size; at least one. */
export function coresetSize(n: number, ratio: number): number {
  const k = Math.floor(n * ratio);
  if (k < 1) throw new SpotdiffError('ERR_BAD_INPUT', `a coreset ratio of ${ratio} keeps no patch out of ${n}; raise coreset.ratio or train on more images`);
  return k;
}

/** A seeded Gaussian random projection [inDim, outDim] with N(0, 1/outDim) entries (device-independent: drawn on the host). */
export function coresetProjection(inDim: number, outDim: number, seed: number, device?: string): T.Tensor {
  const r = Random.derive(seed, 'patchcore-coreset-projection', inDim, outDim);
  const std = 1 / Math.sqrt(outDim);
  return T.tensor(Float32Array.from({ length: inDim * outDim }, () => r.normal(0, std)), [inDim, outDim], { device });
}

/** min(count, n) distinct seeded start indices (the official draws 10 with np.random.choice). */
export function coresetStartIndices(n: number, count: number, seed: number): number[] {
  const r = Random.derive(seed, 'patchcore-coreset-starts', n);
  const take = Math.min(count, n);
  const chosen = new Set<number>();
  while (chosen.size < take) chosen.add(r.int(n));
  return [...chosen];
}

export interface GreedyCoresetOptions {
  /** How many points to select. */
  count: number;
  /** Indices whose mean distance initialises every point's distance to the coreset. */
  startIndices: readonly number[];
  /** Rows per lazily updated block (default 2048: ~1 MB of points, fastest measured). Changes speed only, not the result. */
  blockRows?: number;
  /** Called now and then with (selected, count). */
  onProgress?: (done: number, total: number) => void;
  /**
   * 'lazy-blocks' (the CPU default) or 'resident' (the default on other devices): see
   * greedyCoreset. Both select the same points up to exact ties and float rounding.
   */
  loop?: CoresetLoop;
}

/** How the greedy selection runs: lazily refreshed blocks read on the host, or every step on the device. */
export type CoresetLoop = 'lazy-blocks' | 'resident';

/** The loop a device runs best: lazy blocks on the CPU, the device-resident one on a GPU. */
export function defaultCoresetLoop(device: string): CoresetLoop {
  return device === 'cpu' ? 'lazy-blocks' : 'resident';
}

interface Block {
  start: number;
  size: number;
  points: T.Tensor; // [S, k+2] view of [z, ‖z‖², 1]
  minSquared: T.Tensor; // [S]: squared distance to the nearest applied centre
  applied: number; // centres 0..applied-1 are reflected in minSquared
  best: number; // max of minSquared: exact when applied == selected so far, an upper bound otherwise
  bestAt: number;
}

/**
 * Greedy k-center selection (the official ApproximateGreedyCoresetSampler's loop): each point's
 * distance to the coreset starts as its mean distance to the start points; each step selects
 * the point farthest from the coreset and lowers every distance by the new centre. Distances
 * are Euclidean, from the matrix form ‖a‖² + ‖b‖² − 2a·b as the official computes them; the
 * running minimum is kept squared (same order, one sqrt less per pair).
 *
 * The official loop reads all N points for every selected centre (a memory-bound N×k
 * matrix-vector product per step). Here the points are split into blocks that are brought up
 * to date lazily: distances only ever fall, so a block's last maximum bounds its current one;
 * each step refreshes only the block with the largest bound, applying all its pending centres
 * in one matrix product, until the block with the largest bound is current - its maximum is
 * then the global one. Same selections as the eager loop (up to exact ties and float rounding),
 * a fraction of the memory traffic. Points are augmented to [x, ‖x‖², 1] and centres to
 * [−2c, 1, ‖c‖²] so that one product gives the squared distances. Returns indices in
 * selection order.
 *
 * On a GPU the blocks cost a host read (a device synchronisation) per refresh, thousands per
 * pick on unclustered features; there the 'resident' loop runs instead (residentCoreset).
 *
 * Measured (bench/coreset.ts, random 156,800 × 1024 bank = 200 images × 28², 10% = 15,680
 * picks, 2-core shared machine): 52 s of CPU with one libtorch thread (123 s wall at load
 * average ≈ 8); the eager loop extrapolates to 409 s of CPU on the same run. Random features
 * are the worst case (every block stays a candidate); clustered real features defer more blocks.
 */
export function greedyCoreset(points: T.Tensor, o: GreedyCoresetOptions): Int32Array {
  if (points.rank !== 2 || points.dtype !== 'float32') throw new SpotdiffError('ERR_SHAPE', `coreset: points must be float32 [N, k], got ${points.dtype} [${points.shape.join(', ')}]`);
  const n = points.shape[0] as number;
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > n) throw new SpotdiffError('ERR_BAD_INPUT', `coreset: cannot select ${o.count} of ${n} points`);
  if (o.startIndices.length === 0 || o.startIndices.some((i) => !Number.isInteger(i) || i < 0 || i >= n)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `coreset: start indices must be 1 or more indices in [0, ${n})`);
  }
  if ((o.loop ?? defaultCoresetLoop(points.device)) === 'resident') return residentCoreset(points, o);
  const blockRows = o.blockRows ?? 2048;
  const device = points.device;
  const selected = new Int32Array(o.count);
  const owned: T.Tensor[] = [];
  const own = (t: T.Tensor): T.Tensor => {
    owned.push(T.keep(t));
    return t;
  };
  const indexTensor = (idx: ArrayLike<number>): T.Tensor => T.tensor(BigInt64Array.from(Array.from(idx, (v) => BigInt(v))), [idx.length], { device });
  try {
    return T.noGrad(() => {
      const { asPoint, asCentre } = distanceOperands(points);
      own(asPoint);
      own(asCentre);
      const startCentres = own(T.tidy(() => T.transpose(T.indexSelect(asCentre, 0, indexTensor(o.startIndices)), 0, 1)));

      const blocks: Block[] = [];
      for (let s = 0; s < n; s += blockRows) {
        const size = Math.min(blockRows, n - s);
        const view = own(T.narrow(asPoint, 0, s, size));
        const init = own(T.tidy(() => T.square(T.mean(T.sqrt(T.clamp(T.mm(view, startCentres), 0)), 1))));
        const b: Block = { start: s, size, points: view, minSquared: init, applied: 0, best: 0, bestAt: 0 };
        readBest(b);
        blocks.push(b);
      }

      const every = Math.max(1, Math.floor(o.count / 100));
      for (let t = 0; t < o.count; t++) {
        let b: Block;
        for (;;) {
          b = blocks[0]!;
          for (const c of blocks) if (c.best > b.best) b = c;
          if (b.applied === t) break;
          // Apply the centres selected since this block was last current, in one product.
          const pending = indexTensor(selected.subarray(b.applied, t));
          const block = b;
          T.tidy(() => {
            // [pending, S]: reducing over the leading dim is a vectorised running minimum.
            const nearest = T.amin(T.mm(T.indexSelect(asCentre, 0, pending), T.transpose(block.points, 0, 1)), 0);
            T.copyInPlace(block.minSquared, T.minimum(block.minSquared, nearest));
          });
          pending.dispose();
          b.applied = t;
          readBest(b);
        }
        selected[t] = b.start + b.bestAt;
        if (o.onProgress && ((t + 1) % every === 0 || t + 1 === o.count)) o.onProgress(t + 1, o.count);
      }
      return selected;
    });
  } finally {
    for (const t of owned) t.dispose();
  }
}

/**
 * The points as rows [p, |p|², 1] and as centres [-2c, 1, |c|²]: one matmul of the two gives
 * the squared distances |p|² - 2p·c + |c|² of every point to every centre.
 */
function distanceOperands(points: T.Tensor): { asPoint: T.Tensor; asCentre: T.Tensor } {
  return T.tidy(() => {
    const norms = T.unsqueeze(T.sum(T.mul(points, points), 1), 1);
    const ones = T.onesLike(norms);
    return { asPoint: T.cat([points, norms, ones], 1), asCentre: T.cat([T.mul(points, -2), ones, norms], 1) };
  });
}

/**
 * The eager loop kept on the points' device: each step takes the argmax of the running minimum,
 * records it into a device tensor and lowers every distance by the new centre, without reading
 * anything back; the picks are read once at the end. One [N, k+2] × [k+2] product per pick,
 * memory-bound, which a GPU streams in microseconds, where the lazy blocks would synchronise
 * the device thousands of times per pick.
 */
function residentCoreset(points: T.Tensor, o: GreedyCoresetOptions): Int32Array {
  const device = points.device;
  const owned: T.Tensor[] = [];
  const own = (t: T.Tensor): T.Tensor => {
    owned.push(T.keep(t));
    return t;
  };
  try {
    return T.noGrad(() => {
      const { asPoint, asCentre } = distanceOperands(points);
      own(asPoint);
      own(asCentre);
      const starts = T.tensor(BigInt64Array.from(o.startIndices, (v) => BigInt(v)), [o.startIndices.length], { device });
      const minSquared = own(T.tidy(() => T.square(T.mean(T.sqrt(T.clamp(T.mm(asPoint, T.transpose(T.indexSelect(asCentre, 0, starts), 0, 1)), 0)), 1))));
      starts.dispose();
      const selected = own(T.zeros([o.count], { dtype: 'int64', device }));
      const every = Math.max(1, Math.floor(o.count / 100));
      for (let t = 0; t < o.count; t++) {
        T.tidy(() => {
          const pick = T.reshape(T.argmax(minSquared), [1]);
          T.copyInPlace(T.narrow(selected, 0, t, 1), pick);
          const distances = T.squeeze(T.mm(asPoint, T.transpose(T.indexSelect(asCentre, 0, pick), 0, 1)), 1);
          T.copyInPlace(minSquared, T.minimum(minSquared, distances));
        });
        if (o.onProgress && ((t + 1) % every === 0 || t + 1 === o.count)) o.onProgress(t + 1, o.count);
      }
      return Int32Array.from(selected.data() as BigInt64Array, (v) => Number(v));
    });
  } finally {
    for (const t of owned) t.dispose();
  }
}

function readBest(b: Block): void {
  T.tidy(() => {
    const [v, i] = T.max(b.minSquared, 0);
    b.best = v.item();
    b.bestAt = i.item();
  });
}
