import * as T from '../tensor/index.js';
import { crossEntropy, type Module } from '../nn/index.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * The SPot-the-Difference regulariser (Zou et al., ECCV 2022), on embeddings [N, D] of three
 * views of the same N images:
 *
 *   L_spd = mean_i [ cos(z_i, z⁻_i) − cos(z_i, z⁺_i) ]
 *
 * z is the anchor, the un-augmented image x (only resized to the views' size); z⁺ is a weak
 * global augmentation of x; z⁻ is that same weak view with a small local perturbation
 * (SmoothBlend). Minimising it pulls the anchor towards its weakly augmented copy and pushes
 * it away from the copy that differs only by the local defect, so the features must notice
 * small local changes that the base method's strong augmentations teach it to ignore.
 * Why the anchor is x itself: the paper draws both the positive and the negative from x, and
 * the only way the negative should differ from the positive is the perturbation, so x must
 * not carry a random augmentation of its own. Gradients flow into all three embeddings (there
 * is no stop-gradient in SPD). The value lies in [−2, 2].
 */
export function spdLoss(z: T.Tensor, zPos: T.Tensor, zNeg: T.Tensor): T.Tensor {
  for (const [what, t] of [['z', z], ['zPos', zPos], ['zNeg', zNeg]] as const) {
    if (!T.isFloatDType(t.dtype)) throw new SpotdiffError('ERR_DTYPE', `spdLoss: ${what} must be a floating-point tensor, got ${t.dtype}`);
    if (t.rank !== 2 || t.shape[0] !== z.shape[0] || t.shape[1] !== z.shape[1] || t.shape[0] === 0) {
      throw new SpotdiffError('ERR_SHAPE', `spdLoss: z, zPos and zNeg must be embeddings [N, D] of one shape, got z [${z.shape.join(', ')}], ${what} [${t.shape.join(', ')}]`);
    }
  }
  return T.tidy(() => T.mean(T.sub(T.cosineSimilarity(z, zNeg, 1, 1e-8), T.cosineSimilarity(z, zPos, 1, 1e-8))));
}

/**
 * SPD as a classification (the paper's form for supervised pre-training, and an ablation for
 * the self-supervised methods): a head on the pooled features says whether a view was
 * perturbed; cross-entropy over both batches, the weak views labelled 0 and the perturbed
 * views 1, averaged over all 2N.
 */
export function spdCrossEntropy(head: Module, positiveFeatures: T.Tensor, negativeFeatures: T.Tensor): T.Tensor {
  if (positiveFeatures.rank !== 2 || positiveFeatures.shape.join() !== negativeFeatures.shape.join()) {
    throw new SpotdiffError(
      'ERR_SHAPE',
      `spdCrossEntropy: positive and negative features must be [N, C] of one shape, got [${positiveFeatures.shape.join(', ')}] and [${negativeFeatures.shape.join(', ')}]`,
    );
  }
  return T.tidy(() => {
    const n = positiveFeatures.shape[0]!;
    const logits = head.forward(T.cat([positiveFeatures, negativeFeatures], 0));
    const labels = T.cat([T.zeros([n], { dtype: 'int64', device: logits.device }), T.ones([n], { dtype: 'int64', device: logits.device })], 0);
    return crossEntropy(logits, labels);
  });
}
