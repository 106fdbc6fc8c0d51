import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * Few-shot nearest-neighbour score: the mean Euclidean distance from each test embedding
 * [N, D] to its `neighbours` nearest normal embeddings [M, D] (all M when fewer).
 */
export function knnScores(normal: T.Tensor, test: T.Tensor, neighbours: number): Float64Array {
  if (!Number.isInteger(neighbours) || neighbours < 1) throw new SpotdiffError('ERR_BAD_INPUT', `neighbours must be a positive integer, got ${neighbours}`);
  if (normal.rank !== 2 || test.rank !== 2 || normal.shape[1] !== test.shape[1]) {
    throw new SpotdiffError('ERR_SHAPE', `knnScores: normal [${normal.shape.join(', ')}] and test [${test.shape.join(', ')}] embeddings must be [M, D] and [N, D]`);
  }
  return T.tidy(() => {
    const k = Math.min(neighbours, normal.shape[0] as number);
    // exact (not the matmul shortcut): small sets, and distances of near-duplicates matter here.
    const d = T.cdist(T.toDtype(test, 'float64'), T.toDtype(normal, 'float64'), 2, true);
    const [nearest] = T.topk(d, k, 1, false, true);
    return T.mean(nearest, 1).data() as Float64Array;
  });
}
