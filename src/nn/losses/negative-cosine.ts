import * as T from '../../tensor/index.js';
import { checkFloatInput, checkReduction, checkSameShape } from './check.js';

export interface NegativeCosineOptions {
  /** The feature dim (default 1, for [N, D] or [N, D, H, W]). */
  dim?: number;
  /** Guards against zero-length vectors, as torch.nn.CosineSimilarity (default 1e-8). */
  eps?: number;
  reduction?: T.Reduction;
}

/**
 * SimSiam's D(p, z) = −cos(p, z), averaged over the batch: what its official code computes
 * as −nn.CosineSimilarity(dim=1)(p, z).mean(). The stop-gradient on z is the caller's: pass
 * T.detach(z), and symmetrise as ½·D(p1, z2) + ½·D(p2, z1).
 */
export function negativeCosineSimilarity(p: T.Tensor, z: T.Tensor, o: NegativeCosineOptions = {}): T.Tensor {
  const name = 'negativeCosineSimilarity';
  const reduction = checkReduction(name, o.reduction ?? 'mean');
  checkFloatInput(name, p, 'p');
  checkFloatInput(name, z, 'z');
  checkSameShape(name, p, z, 'p', 'z');
  return T.tidy(() => {
    const cos = T.cosineSimilarity(p, z, o.dim ?? 1, o.eps ?? 1e-8);
    return T.neg(reduction === 'none' ? cos : reduction === 'mean' ? T.mean(cos) : T.sum(cos));
  });
}
