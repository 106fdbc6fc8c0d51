import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { checkFloatInput, checkRank, checkSameShape, checkTemperature } from './check.js';

export interface InfoNceOptions {
  /**
   * A bank of negative keys [K, D] (rows are keys; MoCo keeps its queue as [D, K], so pass
   * its transpose). Without one, every other key of the batch is a negative.
   */
  negatives?: T.Tensor | null;
  /** τ (default 0.2, MoCo v2). */
  temperature?: number;
  /** L2-normalise queries, keys and negatives first (MoCo's encoders output normalised features). Default true. */
  normalize?: boolean;
}

/**
 * InfoNCE as MoCo v2 computes it: for queries q [N, D] and their positive keys k [N, D],
 * logits [N, 1 + K] = [q·k | q·negativesᵀ] / τ with the positive in column 0, then
 * cross-entropy to class 0, averaged over N. With in-batch negatives the logits are
 * q·kᵀ / τ [N, N] and the target of row i is column i (the same loss, columns reordered).
 * Gradients flow into every input: detach keys and negatives (momentum encoder, queue) yourself.
 */
export function infoNce(queries: T.Tensor, keys: T.Tensor, o: InfoNceOptions = {}): T.Tensor {
  const name = 'infoNce';
  const temperature = o.temperature ?? 0.2;
  checkTemperature(name, temperature);
  checkFloatInput(name, queries, 'queries');
  checkFloatInput(name, keys, 'keys');
  checkRank(name, queries, 2, 'queries');
  checkSameShape(name, queries, keys, 'queries', 'keys');
  const bank = o.negatives ?? null;
  if (bank !== null) {
    checkFloatInput(name, bank, 'negatives');
    checkRank(name, bank, 2, 'negatives');
    if (bank.shape[1] !== queries.shape[1]) {
      throw new SpotdiffError('ERR_SHAPE', `${name}: negatives [${bank.shape.join(', ')}] must be [K, ${queries.shape[1]}] (one key per row, the queries' feature size)`);
    }
  }
  const normalize = o.normalize ?? true;
  return T.tidy(() => {
    const q = normalize ? T.normalize(queries, 2, 1) : queries;
    const k = normalize ? T.normalize(keys, 2, 1) : keys;
    const n = q.shape[0]!;
    if (bank === null) {
      const logits = T.div(T.matmul(q, T.transpose(k, 0, 1)), temperature);
      return T.crossEntropyRaw(logits, T.arange(0, n, 1, { device: q.device }));
    }
    const neg = normalize ? T.normalize(bank, 2, 1) : bank;
    const positive = T.sum(T.mul(q, k), 1, true);
    const negative = T.matmul(q, T.transpose(neg, 0, 1));
    const logits = T.div(T.cat([positive, negative], 1), temperature);
    return T.crossEntropyRaw(logits, T.zeros([n], { dtype: 'int64', device: q.device }));
  });
}
