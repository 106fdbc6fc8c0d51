import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';
import type { Random } from '../util/random.js';
import type { ProcessGroup } from './process-group.js';

/**
 * Every rank's rows of `x` concatenated in rank order, without gradient (the official MoCo's
 * concat_all_gather). Every rank must pass the same shape.
 */
export function gatherRows(group: ProcessGroup, x: T.Tensor): T.Tensor {
  if (group.worldSize === 1) return T.noGrad(() => T.detach(x));
  return T.noGrad(() => T.tidy(() => T.cat(group.allGather(T.contiguous(T.detach(x))), 0)));
}

/** This rank's rows of a shuffled global batch, and the order that puts the global batch back. */
export interface ShuffledRows {
  /** [n, ...]: rows perm[rank·n .. (rank + 1)·n) of the global batch. */
  rows: T.Tensor;
  /** int64 [N] on the rows' device: the inverse of the permutation (argsort), for unshuffleRows. */
  restore: T.Tensor;
}

/**
 * MoCo's shuffling BN across ranks (the official _batch_shuffle_ddp): gathers the global batch,
 * draws one permutation of it on rank 0 from `rng` and broadcasts it (the official code draws
 * it on rank 0's GPU), and gives this rank its slice of the permuted batch. A stream derived
 * from the step (not a global generator) makes a resumed run draw the permutations the
 * uninterrupted one drew. No gradient: the keys need none. Every rank must pass the same
 * number of rows; only rank 0's `rng` is drawn from.
 */
export function shuffleRows(group: ProcessGroup, x: T.Tensor, rng: Random): ShuffledRows {
  const n = x.shape[0] as number;
  return T.noGrad(() => T.tidy(() => {
    const all = gatherRows(group, x);
    const total = all.shape[0] as number;
    const order = group.rank === 0 ? rng.shuffled(Array.from({ length: total }, (_, i) => BigInt(i))) : new Array<bigint>(total).fill(0n);
    const perm = T.tensor(BigInt64Array.from(order), [total], { device: 'cpu' });
    if (group.worldSize > 1) group.broadcast([perm], 0);
    // The permutation travels on the host (Gloo); the rows are indexed where they are.
    const onDevice = T.toDevice(perm, all.device);
    return { rows: T.indexSelect(all, 0, T.narrow(onDevice, 0, group.rank * n, n)), restore: T.argsort(onDevice) };
  }));
}

/**
 * The inverse of shuffleRows (the official _batch_unshuffle_ddp): gathers every rank's rows of
 * the shuffled batch and gives this rank back the rows of its own original slice, in order.
 */
export function unshuffleRows(group: ProcessGroup, y: T.Tensor, restore: T.Tensor): T.Tensor {
  const n = y.shape[0] as number;
  if (restore.shape[0] !== n * group.worldSize) {
    throw new SpotdiffError('ERR_SHAPE', `unshuffleRows: ${n} rows on each of ${group.worldSize} ranks do not match a permutation of ${restore.shape[0]}`);
  }
  return T.noGrad(() => T.tidy(() => T.indexSelect(gatherRows(group, y), 0, T.narrow(restore, 0, group.rank * n, n))));
}
