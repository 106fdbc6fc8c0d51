import * as T from '../../tensor/index.js';
import { checkFloatInput, checkReduction, checkSameShape } from './check.js';

export interface BceWithLogitsOptions {
  /** Weight of each element (broadcast against the logits). */
  weight?: T.Tensor | null;
  /** Weight of the positive term, per class along the last dim (a number: one for all). */
  posWeight?: T.Tensor | number | null;
  reduction?: T.Reduction;
}

/**
 * torch.nn.functional.binary_cross_entropy_with_logits:
 * −w·[pos_weight·y·log σ(x) + (1 − y)·log(1 − σ(x))], computed stably from the logits x.
 * Targets y are floats in [0, 1] of the logits' shape.
 */
export function binaryCrossEntropyWithLogits(logits: T.Tensor, target: T.Tensor, o: BceWithLogitsOptions = {}): T.Tensor {
  const name = 'binaryCrossEntropyWithLogits';
  const reduction = checkReduction(name, o.reduction ?? 'mean');
  checkFloatInput(name, logits, 'logits');
  checkFloatInput(name, target, 'target');
  checkSameShape(name, logits, target, 'logits', 'target');
  return T.tidy(() => {
    const pw = o.posWeight ?? null;
    const posWeight = typeof pw === 'number' ? T.scalar(pw, { dtype: logits.dtype, device: logits.device }) : pw;
    return T.bceWithLogitsRaw(logits, target, { weight: o.weight ?? null, posWeight, reduction });
  });
}
