import * as T from '../../tensor/index.js';

/** Rows of queries and of the bank compared at once: 1024 × 16384 float32 = 64 MiB of scores. */
const QUERY_ROWS = 1024;
const BANK_ROWS = 16384;

/**
 * Nearest bank entry for every query row: squared Euclidean distance [Q] and index [Q] (int64).
 * The search uses the matrix form ‖b‖² − 2q·b (what anomalib's euclidean_dist and faiss's flat
 * L2 index do) in query × bank chunks, so memory stays bounded for any bank; the distance to the
 * entry found is then recomputed exactly as ‖q − b‖², which keeps near-zero distances accurate.
 * Ties go to the lowest index.
 */
export function nearestNeighbour(queries: T.Tensor, bank: T.Tensor, bankSquaredNorms: T.Tensor): { squared: T.Tensor; index: T.Tensor } {
  const [q] = queries.shape as [number, number];
  const m = bank.shape[0] as number;
  return T.noGrad(() =>
    T.tidy(() => {
      const squared: T.Tensor[] = [];
      const index: T.Tensor[] = [];
      for (let qs = 0; qs < q; qs += QUERY_ROWS) {
        const r = T.tidy(() => {
          const qc = T.narrow(queries, 0, qs, Math.min(QUERY_ROWS, q - qs));
          let best: T.Tensor | null = null;
          let bestAt: T.Tensor | null = null;
          for (let ms = 0; ms < m; ms += BANK_ROWS) {
            const size = Math.min(BANK_ROWS, m - ms);
            const scores = T.addmm(T.narrow(bankSquaredNorms, 0, ms, size), qc, T.transpose(T.narrow(bank, 0, ms, size), 0, 1), 1, -2);
            const [v, i] = T.min(scores, 1);
            if (best === null || bestAt === null) {
              best = v;
              bestAt = ms === 0 ? i : T.add(i, ms);
            } else {
              const better = T.lt(v, best);
              best = T.where(better, v, best);
              bestAt = T.where(better, T.add(i, ms), bestAt);
            }
          }
          const diff = T.sub(qc, T.indexSelect(bank, 0, bestAt!));
          return { s: T.sum(T.mul(diff, diff), 1), i: bestAt! };
        });
        squared.push(r.s);
        index.push(r.i);
      }
      return { squared: squared.length === 1 ? squared[0]! : T.cat(squared), index: index.length === 1 ? index[0]! : T.cat(index) };
    }),
  );
}

/** Indices [R, k] of the k nearest bank entries of each row (matrix form, nearest first). */
export function kNearest(rows: T.Tensor, bank: T.Tensor, bankSquaredNorms: T.Tensor, k: number): T.Tensor {
  return T.noGrad(() =>
    T.tidy(() => {
      const scores = T.addmm(bankSquaredNorms, rows, T.transpose(bank, 0, 1), 1, -2); // ‖b‖² − 2r·b: same order as ‖r − b‖²
      return T.topk(scores, k, 1, false, true)[1];
    }),
  );
}
