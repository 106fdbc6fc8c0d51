import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * A Gaussian of the normal embeddings for few-shot scoring: mean and Ledoit-Wolf shrunk
 * covariance (few samples, hundreds of dimensions: the sample covariance is singular, the
 * shrunk one is not), scored by Mahalanobis distance. The shrinkage intensity is Ledoit and
 * Wolf's closed form as scikit-learn's LedoitWolf computes it (biased sample covariance,
 * target μ·I with μ = trace/p); everything runs in float64.
 */
export interface ShrunkGaussian {
  /** [D] float64. */
  mean: T.Tensor;
  /** Inverse of the shrunk covariance, [D, D] float64. */
  precision: T.Tensor;
  /** Ledoit-Wolf shrinkage in [0, 1]. */
  shrinkage: number;
  samples: number;
}

/** Fits the Gaussian on embeddings [n, D]; the caller disposes mean and precision. */
export function fitShrunkGaussian(embeddings: T.Tensor): ShrunkGaussian {
  if (embeddings.rank !== 2 || embeddings.shape[0]! < 1) throw new SpotdiffError('ERR_SHAPE', `fitShrunkGaussian: embeddings must be [n, D] with n ≥ 1, got [${embeddings.shape.join(', ')}]`);
  const [n, p] = embeddings.shape as [number, number];
  return T.tidy(() => {
    const x = T.toDtype(embeddings, 'float64');
    const mean = T.mean(x, 0);
    const xc = T.sub(x, mean);
    const x2 = T.square(xc);
    const empirical = T.div(T.matmul(T.transpose(xc, 0, 1), xc), n);
    const traceTotal = T.sum(x2).item() / n;
    const mu = traceTotal / p;
    if (!(mu > 0)) throw new SpotdiffError('ERR_BAD_INPUT', `the ${n} normal embeddings are all identical: no covariance to fit (use more shots or augmented views)`);
    let shrinkage = 0;
    if (p > 1) {
      // ‖XcᵀXc‖²_F = ‖XcXcᵀ‖²_F: the n×n Gram matrix is the cheaper one for n < p.
      const gram = T.matmul(xc, T.transpose(xc, 0, 1));
      const delta0 = T.sum(T.square(gram)).item() / (n * n);
      const beta0 = T.sum(T.square(T.sum(x2, 1))).item();
      let beta = (beta0 / n - delta0) / (p * n);
      const delta = (delta0 - 2 * mu * traceTotal + p * mu * mu) / p;
      beta = Math.min(beta, delta);
      shrinkage = beta === 0 ? 0 : beta / delta;
    }
    const covariance = T.add(T.mul(empirical, 1 - shrinkage), T.mul(T.eye(p, { dtype: 'float64', device: x.device }), shrinkage * mu));
    return { mean, precision: T.inverse(covariance), shrinkage, samples: n };
  });
}

/** Mahalanobis distances √((x − μ)ᵀ Σ⁻¹ (x − μ)) of embeddings [N, D], as float64 numbers. */
export function mahalanobis(g: ShrunkGaussian, embeddings: T.Tensor): Float64Array {
  if (embeddings.rank !== 2 || embeddings.shape[1] !== g.mean.shape[0]) {
    throw new SpotdiffError('ERR_SHAPE', `mahalanobis: embeddings must be [N, ${g.mean.shape[0]}], got [${embeddings.shape.join(', ')}]`);
  }
  return T.tidy(() => {
    const d = T.sub(T.toDtype(embeddings, 'float64'), g.mean);
    const q = T.sum(T.mul(T.matmul(d, g.precision), d), 1);
    return T.sqrt(T.clamp(q, 0)).data() as Float64Array;
  });
}

export function disposeGaussian(g: ShrunkGaussian): void {
  g.mean.dispose();
  g.precision.dispose();
}
