import type { Tensor } from '../tensor.js';
import { op, checkFloat } from './call.js';
import { SpotdiffError } from '../../util/errors.js';

export type Reduction = 'none' | 'mean' | 'sum';
// at::Reduction's numbering.
const code = (r: Reduction): number => (r === 'none' ? 0 : r === 'mean' ? 1 : 2);

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}
const shapeText = (t: Tensor): string => `[${t.shape.join(', ')}]`;

// libtorch only says "expected scalar type Long but found Float" for a target of the wrong kind.
function checkTarget(name: string, input: Tensor, target: Tensor, probabilitiesAllowed: boolean): void {
  checkFloat(name, input, 'input');
  const isFloat = ['float32', 'float64', 'float16', 'bfloat16'].includes(target.dtype);
  if (isFloat && probabilitiesAllowed) {
    if (shapeText(target) !== shapeText(input)) {
      throw new SpotdiffError('ERR_SHAPE', `${name}: class-probability targets must have the input's shape ${shapeText(input)}, got ${shapeText(target)} (class-index targets are int64)`);
    }
    return;
  }
  if (target.dtype !== 'int64') {
    throw new SpotdiffError('ERR_DTYPE', `${name}: class-index targets must be int64, got ${target.dtype}${probabilitiesAllowed ? ' (or pass float class probabilities of the input\'s shape)' : ''}`);
  }
  const expected = input.rank === 1 ? [] : [input.shape[0]!, ...input.shape.slice(2)];
  if (shapeText(target) !== `[${expected.join(', ')}]`) {
    throw new SpotdiffError('ERR_SHAPE', `${name}: input ${shapeText(input)} needs class-index targets of shape [${expected.join(', ')}], got ${shapeText(target)}`);
  }
}

/** Cross-entropy of logits [N,C,...] against class indices (int64) or class probabilities. */
export function crossEntropyRaw(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  checkTarget('crossEntropy', logits, target, true);
  return op('cross_entropy', logits, target, o.weight ?? null, code(o.reduction ?? 'mean'), o.ignoreIndex ?? -100, o.labelSmoothing ?? 0);
}
export function nllLossRaw(logProbs: Tensor, target: Tensor, o: Omit<CrossEntropyOptions, 'labelSmoothing'> = {}): Tensor {
  checkTarget('nllLoss', logProbs, target, false);
  return op('nll_loss', logProbs, target, o.weight ?? null, code(o.reduction ?? 'mean'), o.ignoreIndex ?? -100);
}
export const bceWithLogitsRaw = (
  logits: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor => op('bce_with_logits', logits, target, o.weight ?? null, o.posWeight ?? null, code(o.reduction ?? 'mean'));
export const mseLossRaw = (a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor => op('mse_loss', a, b, code(reduction));
export const l1LossRaw = (a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor => op('l1_loss', a, b, code(reduction));
