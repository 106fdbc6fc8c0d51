import * as T from '../../tensor/index.js';
import { checkFloatInput, checkRank, checkSameShape, checkTemperature } from './check.js';

export interface NtXentOptions {
  /** τ (default 0.1, SimCLR's ImageNet setting; its CIFAR setting is 0.5). */
  temperature?: number;
  /** L2-normalise the projections first, as SimCLR does. Default true. */
  normalize?: boolean;
}

/**
 * SimCLR's NT-Xent on two views z1, z2 [N, D] of the same N images: the 2N projections are
 * compared by cosine similarity / τ; each one's positive is its other view and the remaining
 * 2N − 2 are negatives (itself excluded). The loss is the cross-entropy averaged over all 2N
 * anchors, the paper's L = 1/(2N)·Σ_k [ℓ(2k−1, 2k) + ℓ(2k, 2k−1)]. (SimCLR's TF code sums the
 * two halves' means, i.e. twice this value.)
 */
export function ntXent(z1: T.Tensor, z2: T.Tensor, o: NtXentOptions = {}): T.Tensor {
  const name = 'ntXent';
  const temperature = o.temperature ?? 0.1;
  checkTemperature(name, temperature);
  checkFloatInput(name, z1, 'z1');
  checkFloatInput(name, z2, 'z2');
  checkRank(name, z1, 2, 'z1');
  checkSameShape(name, z1, z2, 'z1', 'z2');
  const normalize = o.normalize ?? true;
  return T.tidy(() => {
    const n = z1.shape[0]!;
    const z = T.cat(normalize ? [T.normalize(z1, 2, 1), T.normalize(z2, 2, 1)] : [z1, z2], 0);
    const similarity = T.div(T.matmul(z, T.transpose(z, 0, 1)), temperature);
    const self = T.eye(2 * n, { dtype: 'bool', device: z.device });
    const logits = T.maskedFill(similarity, self, -Infinity);
    // Anchor i < N pairs with i + N, anchor i ≥ N with i − N.
    const positives = T.cat([T.arange(n, 2 * n, 1, { device: z.device }), T.arange(0, n, 1, { device: z.device })], 0);
    return T.crossEntropyRaw(logits, positives);
  });
}
