import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';

// Input checks shared by the losses: a wrong dtype or shape is reported in the loss's own
// words before libtorch sees it.

const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

export function checkReduction(loss: string, r: string): T.Reduction {
  if (r !== 'none' && r !== 'mean' && r !== 'sum') throw new SpotdiffError('ERR_BAD_INPUT', `${loss}: reduction must be 'none', 'mean' or 'sum', got '${r}'`);
  return r;
}

export function checkFloatInput(loss: string, t: T.Tensor, what: string): void {
  if (!T.isFloatDType(t.dtype)) throw new SpotdiffError('ERR_DTYPE', `${loss}: ${what} must be a floating-point tensor, got ${t.dtype}`);
}

export function checkSameShape(loss: string, a: T.Tensor, b: T.Tensor, aName: string, bName: string): void {
  if (a.rank !== b.rank || a.shape.some((v, i) => v !== b.shape[i])) {
    throw new SpotdiffError('ERR_SHAPE', `${loss}: ${bName} ${shapeText(b.shape)} must have the shape of ${aName} ${shapeText(a.shape)}`);
  }
}

export function checkRank(loss: string, t: T.Tensor, rank: number, what: string): void {
  if (t.rank !== rank) throw new SpotdiffError('ERR_SHAPE', `${loss}: ${what} must have ${rank} dimensions, got ${shapeText(t.shape)}`);
}

/**
 * Class-index targets for logits [N, C, d1, ...] (or [C]): int64 (int32 is widened) of shape
 * [N, d1, ...]. Returns the int64 target.
 */
export function classTarget(loss: string, logits: T.Tensor, target: T.Tensor): T.Tensor {
  checkFloatInput(loss, logits, 'logits');
  if (target.dtype !== 'int64' && target.dtype !== 'int32') {
    throw new SpotdiffError('ERR_DTYPE', `${loss}: target must hold class indices as int64 (or int32), got ${target.dtype}`);
  }
  if (logits.rank === 0) throw new SpotdiffError('ERR_SHAPE', `${loss}: logits must be [N, C, ...] or [C], got a scalar`);
  const expected = logits.rank === 1 ? [] : [logits.shape[0]!, ...logits.shape.slice(2)];
  if (target.rank !== expected.length || target.shape.some((v, i) => v !== expected[i])) {
    throw new SpotdiffError('ERR_SHAPE', `${loss}: target ${shapeText(target.shape)} does not fit logits ${shapeText(logits.shape)} (expected target shape ${shapeText(expected)})`);
  }
  return target.dtype === 'int64' ? target : T.toDtype(target, 'int64');
}

/** A per-class weight vector [C] of the logits' dtype. */
export function checkClassWeight(loss: string, logits: T.Tensor, weight: T.Tensor, what = 'weight'): void {
  const classes = logits.rank === 1 ? logits.shape[0] : logits.shape[1];
  if (weight.rank !== 1 || weight.shape[0] !== classes) {
    throw new SpotdiffError('ERR_SHAPE', `${loss}: ${what} must be a vector of ${classes} class weights, got ${shapeText(weight.shape)}`);
  }
  checkFloatInput(loss, weight, what);
}

export function checkTemperature(loss: string, temperature: number): void {
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new SpotdiffError('ERR_BAD_INPUT', `${loss}: temperature must be a positive number, got ${temperature}`);
}

/** Applies a reduction to per-element losses. */
export function reduce(loss: T.Tensor, reduction: T.Reduction): T.Tensor {
  return reduction === 'none' ? loss : reduction === 'mean' ? T.mean(loss) : T.sum(loss);
}
