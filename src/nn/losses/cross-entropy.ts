import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { checkClassWeight, checkReduction, classTarget } from './check.js';

export interface CrossEntropyLossOptions {
  /** Per-class weights [C]; with 'mean' the result is divided by the summed weights of the targets, as torch does. */
  weight?: T.Tensor | null;
  /** ε in [0, 1]: the target becomes (1 − ε)·one_hot + ε/C (Szegedy et al.). */
  labelSmoothing?: number;
  /** Targets equal to this index add nothing (default −100, as torch). */
  ignoreIndex?: number;
  reduction?: T.Reduction;
}

/**
 * torch.nn.functional.cross_entropy with class-index targets: −log softmax(logits)[target],
 * for logits [N, C] (or [N, C, H, W] with per-pixel targets [N, H, W]) and int64 targets.
 */
export function crossEntropy(logits: T.Tensor, target: T.Tensor, o: CrossEntropyLossOptions = {}): T.Tensor {
  const name = 'crossEntropy';
  const reduction = checkReduction(name, o.reduction ?? 'mean');
  const smoothing = o.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing <= 1)) throw new SpotdiffError('ERR_BAD_INPUT', `${name}: labelSmoothing must be in [0, 1], got ${smoothing}`);
  if (o.weight) checkClassWeight(name, logits, o.weight);
  return T.tidy(() => {
    const t = classTarget(name, logits, target);
    return T.crossEntropyRaw(logits, t, { weight: o.weight ?? null, reduction, ignoreIndex: o.ignoreIndex ?? -100, labelSmoothing: smoothing });
  });
}
