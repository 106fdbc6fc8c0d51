import { callOp, type NativeHandle, type OpArg } from '../native.js';
import { Tensor } from '../tensor.js';
import { SpotdiffError } from '../../util/errors.js';

/** What a typed wrapper passes for one argument: tensors are replaced by their handles. */
export type WrapperArg = Tensor | number | boolean | string | null | readonly number[] | readonly Tensor[];

function toArg(a: WrapperArg): OpArg {
  if (a instanceof Tensor) return a.handle;
  if (Array.isArray(a) && a.length > 0 && a[0] instanceof Tensor) return (a as readonly Tensor[]).map((t) => t.handle);
  return a as OpArg;
}

/** Calls an op that returns one tensor. */
export function op(name: string, ...args: WrapperArg[]): Tensor {
  return new Tensor(callOp(name, args.map(toArg)) as NativeHandle);
}

/** Calls an op that returns several tensors (max with indices, split, topk...). */
export function opList(name: string, ...args: WrapperArg[]): Tensor[] {
  return (callOp(name, args.map(toArg)) as NativeHandle[]).map((h) => new Tensor(h));
}

/** Calls an in-place op. */
export function opInPlace(name: string, ...args: WrapperArg[]): void {
  callOp(name, args.map(toArg));
}

export function opNumber(name: string, ...args: WrapperArg[]): number {
  return callOp(name, args.map(toArg)) as number;
}

/** Validation shared by the wrappers: errors name the op and what was passed. */
export function checkRank(name: string, t: Tensor, ranks: readonly number[], what = 'input'): void {
  if (!ranks.includes(t.rank)) {
    throw new SpotdiffError('ERR_SHAPE', `${name}: ${what} must have ${ranks.join(' or ')} dimensions, got shape [${t.shape.join(', ')}]`);
  }
}

export function checkFloat(name: string, t: Tensor, what = 'input'): void {
  if (!['float32', 'float64', 'float16', 'bfloat16'].includes(t.dtype)) {
    throw new SpotdiffError('ERR_DTYPE', `${name}: ${what} must be a floating-point tensor, got ${t.dtype}`);
  }
}

export function normalizeDim(name: string, dim: number, rank: number): number {
  const d = dim < 0 ? dim + rank : dim;
  if (!Number.isInteger(d) || d < 0 || d >= Math.max(rank, 1)) {
    throw new SpotdiffError('ERR_SHAPE', `${name}: dim ${dim} is out of range for a tensor of ${rank} dimensions`);
  }
  return d;
}

/** An int or a pair, as torch's conv/pool arguments take them. */
export function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}
