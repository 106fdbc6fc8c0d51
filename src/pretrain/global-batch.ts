import * as T from '../tensor/index.js';
import type { ProcessGroup } from '../distributed/process-group.js';

/**
 * Every rank's rows of `z` in rank order, with a gradient through this rank's own rows only (the
 * others' arrive without one, as the all_gather of DDP SimCLR implementations), scaled by the
 * world size W.
 *
 * Why W: each rank computes the same loss L over the global batch, so the gradient through its
 * own rows z_r is the full ∂L/∂z_r, and the sum over ranks of Σ_r ∂L/∂z_r·∂z_r/∂θ is one
 * process's gradient on the global batch. The trainer averages gradients over ranks, i.e. divides
 * that sum by W; scaling each rank's part by W makes the averaged step equal one process's.
 * The rows' values are unchanged (z + W·(z − z) with the difference detached is exactly z).
 */
export function withOtherRanks(group: ProcessGroup, z: T.Tensor): T.Tensor {
  const w = group.worldSize;
  if (w === 1) return z;
  const rows = T.noGrad(() => group.allGather(T.contiguous(T.detach(z))));
  const fixed = T.detach(z);
  rows[group.rank] = T.add(fixed, T.mul(T.sub(z, fixed), w));
  return T.cat(rows, 0);
}
