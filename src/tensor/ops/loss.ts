import type { Tensor } from '../tensor.js';
import { op } from './call.js';

export type Reduction = 'none' | 'mean' | 'sum';
// at::Reduction's numbering.
const code = (r: Reduction): number => (r === 'none' ? 0 : r === 'mean' ? 1 : 2);

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}
/** Cross-entropy of logits [N,C,...] against class indices (int64) or class probabilities. */
export const crossEntropyRaw = (logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor =>
  op('cross_entropy', logits, target, o.weight ?? null, code(o.reduction ?? 'mean'), o.ignoreIndex ?? -100, o.labelSmoothing ?? 0);
export const nllLossRaw = (logProbs: Tensor, target: Tensor, o: Omit<CrossEntropyOptions, 'labelSmoothing'> = {}): Tensor =>
  op('nll_loss', logProbs, target, o.weight ?? null, code(o.reduction ?? 'mean'), o.ignoreIndex ?? -100);
export const bceWithLogitsRaw = (
  logits: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor => op('bce_with_logits', logits, target, o.weight ?? null, o.posWeight ?? null, code(o.reduction ?? 'mean'));
export const mseLossRaw = (a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor => op('mse_loss', a, b, code(reduction));
export const l1LossRaw = (a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor => op('l1_loss', a, b, code(reduction));
