import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { checkClassWeight, checkFloatInput, checkReduction, checkSameShape, classTarget, reduce } from './check.js';

// Focal loss (Lin et al., "Focal Loss for Dense Object Detection"): cross-entropy scaled by
// (1 − p_t)^γ so that well-classified examples add little, with an optional class balance α_t.

export interface SigmoidFocalLossOptions {
  /** Weight of positives (negatives get 1 − α); null or a negative number turns it off. Default 0.25. */
  alpha?: number | null;
  /** Focusing parameter γ ≥ 0 (0 gives α-balanced BCE). Default 2. */
  gamma?: number;
  /** Default 'mean' (torchvision's default is 'none'). */
  reduction?: T.Reduction;
}

function checkGamma(name: string, gamma: number): void {
  if (!(gamma >= 0) || !Number.isFinite(gamma)) throw new SpotdiffError('ERR_BAD_INPUT', `${name}: gamma must be a finite number ≥ 0, got ${gamma}`);
}

/**
 * Binary focal loss on logits x and float targets y in [0, 1] of the same shape, computed as
 * torchvision.ops.sigmoid_focal_loss does: p = σ(x), p_t = p·y + (1 − p)(1 − y),
 * loss = α_t · BCE(x, y) · (1 − p_t)^γ with α_t = α·y + (1 − α)(1 − y).
 */
export function sigmoidFocalLoss(logits: T.Tensor, target: T.Tensor, o: SigmoidFocalLossOptions = {}): T.Tensor {
  const name = 'sigmoidFocalLoss';
  const reduction = checkReduction(name, o.reduction ?? 'mean');
  const gamma = o.gamma ?? 2;
  checkGamma(name, gamma);
  const alpha = o.alpha === undefined ? 0.25 : o.alpha;
  if (alpha !== null && alpha > 1) throw new SpotdiffError('ERR_BAD_INPUT', `${name}: alpha must be in [0, 1] (or negative/null for none), got ${alpha}`);
  checkFloatInput(name, logits, 'logits');
  checkFloatInput(name, target, 'target');
  checkSameShape(name, logits, target, 'logits', 'target');
  return T.tidy(() => {
    const p = T.sigmoid(logits);
    const ce = T.bceWithLogitsRaw(logits, target, { reduction: 'none' });
    const pT = T.add(T.mul(p, target), T.mul(T.rsub(p, 1), T.rsub(target, 1)));
    let loss = T.mul(ce, T.pow(T.rsub(pT, 1), gamma));
    if (alpha !== null && alpha >= 0) {
      const alphaT = T.add(T.mul(target, alpha), T.mul(T.rsub(target, 1), 1 - alpha));
      loss = T.mul(alphaT, loss);
    }
    return reduce(loss, reduction);
  });
}

export interface FocalLossOptions {
  /**
   * Class balance α_t: a vector [C] of per-class weights, or for two classes a number α
   * (weights [1 − α, α], class 1 the foreground, as the binary form). Default none.
   */
  alpha?: T.Tensor | number | null;
  /** Focusing parameter γ ≥ 0 (0 gives (weighted) cross-entropy). Default 2. */
  gamma?: number;
  /** 'mean' averages over every element (not weighted by α). */
  reduction?: T.Reduction;
}

/**
 * Multi-class focal loss on logits [N, C, ...] and class indices [N, ...]:
 * p_t = softmax(logits)[target], loss = −α_t · (1 − p_t)^γ · log p_t.
 * With two classes and a number α it equals sigmoidFocalLoss on logit₁ − logit₀.
 */
export function focalLoss(logits: T.Tensor, target: T.Tensor, o: FocalLossOptions = {}): T.Tensor {
  const name = 'focalLoss';
  const reduction = checkReduction(name, o.reduction ?? 'mean');
  const gamma = o.gamma ?? 2;
  checkGamma(name, gamma);
  const alpha = o.alpha ?? null;
  if (logits.rank < 2) throw new SpotdiffError('ERR_SHAPE', `${name}: logits must be [N, C, ...], got [${logits.shape.join(', ')}]`);
  const classes = logits.shape[1]!;
  if (typeof alpha === 'number') {
    if (classes !== 2) throw new SpotdiffError('ERR_BAD_INPUT', `${name}: a single alpha needs 2 classes (got ${classes}); pass a vector of ${classes} class weights`);
    if (!(alpha >= 0 && alpha <= 1)) throw new SpotdiffError('ERR_BAD_INPUT', `${name}: alpha must be in [0, 1], got ${alpha}`);
  } else if (alpha !== null) {
    checkClassWeight(name, logits, alpha, 'alpha');
  }
  return T.tidy(() => {
    const t = T.unsqueeze(classTarget(name, logits, target), 1);
    const logPt = T.squeeze(T.gather(T.logSoftmax(logits, 1), 1, t), 1);
    const pt = T.exp(logPt);
    let loss = T.neg(T.mul(T.pow(T.rsub(pt, 1), gamma), logPt));
    if (alpha !== null) {
      const weights = typeof alpha === 'number' ? T.tensor(Float64Array.of(1 - alpha, alpha), [2], { dtype: logits.dtype, device: logits.device }) : alpha;
      const alphaT = T.reshape(T.indexSelect(weights, 0, T.flatten(t)), t.shape.filter((_, i) => i !== 1));
      loss = T.mul(alphaT, loss);
    }
    return reduce(loss, reduction);
  });
}
