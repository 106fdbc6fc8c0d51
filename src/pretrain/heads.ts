import { BatchNorm1d, Linear, ReLU, Sequential } from '../nn/index.js';

/**
 * The heads the methods put on the pooled features, with PyTorch's layer order (so their
 * state-dict names are the Sequential's indices, as in the official code).
 */

/**
 * SimSiam's projector (official simsiam/builder.py): three Linear layers without bias, each
 * followed by BatchNorm1d, ReLU after the first two, and no affine on the last BN. The
 * official code keeps the bias of the third Linear (the ResNet's own fc) but freezes it; a BN
 * without affine removes any constant anyway, so leaving it out is the same network.
 * Indices: 0 Linear, 1 BN, 2 ReLU, 3 Linear, 4 BN, 5 ReLU, 6 Linear, 7 BN(affine=False).
 */
export function simsiamProjector(featureDim: number, dim: number): Sequential {
  return new Sequential(
    new Linear(featureDim, featureDim, false),
    new BatchNorm1d(featureDim),
    new ReLU(),
    new Linear(featureDim, featureDim, false),
    new BatchNorm1d(featureDim),
    new ReLU(),
    new Linear(featureDim, dim, false),
    new BatchNorm1d(dim, { affine: false }),
  );
}

/** SimSiam's bottleneck predictor: Linear(dim, predDim, no bias), BN, ReLU, Linear(predDim, dim). */
export function simsiamPredictor(dim: number, predDim: number): Sequential {
  return new Sequential(new Linear(dim, predDim, false), new BatchNorm1d(predDim), new ReLU(), new Linear(predDim, dim));
}

/**
 * The two-layer MLP head of MoCo v2 (official moco/builder.py with --mlp: Linear(C, C), ReLU,
 * then the fc resized to `dim`) and of SimCLR (its paper's g(h) = W2·ReLU(W1·h), hidden width
 * = the feature width, 128 out). Indices: 0 Linear, 1 ReLU, 2 Linear.
 */
export function mlpHead(featureDim: number, dim: number): Sequential {
  return new Sequential(new Linear(featureDim, featureDim), new ReLU(), new Linear(featureDim, dim));
}

/** SPD's perturbed-or-not classifier: pooled features -> 2 logits (0: weak view, 1: perturbed). */
export function spdClassifier(featureDim: number): Linear {
  return new Linear(featureDim, 2);
}
