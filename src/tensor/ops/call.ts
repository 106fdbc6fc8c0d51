import { callOp, type NativeHandle, type OpArg } from '../native.js';
import { Tensor } from '../tensor.js';
import { SpotdiffError } from '../../util/errors.js';
import { DTYPES, type DType } from '../dtype.js';
import { getDefaultDevice, resolveDevice, type Device } from '../device.js';

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

/** Every size a non-negative integer (libtorch would read -1 or 2.5 in its own way). */
export function checkShape(shape: readonly number[]): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new SpotdiffError('ERR_SHAPE', `invalid shape [${shape.join(', ')}]`);
  }
}

/** A known dtype name, or ERR_BAD_INPUT listing them. */
export function checkDType(dtype: string): DType {
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `unknown dtype "${dtype}" (use ${DTYPES.join(', ')})`);
  }
  return dtype as DType;
}

/** The options' dtype (validated) or the fallback. */
export const optionsDType = (o: { dtype?: DType }, fallback: DType = 'float32'): DType => (o.dtype === undefined ? fallback : checkDType(o.dtype));
/** The options' device (validated: cpu, cuda, cuda:N or auto) or the default device. */
export const optionsDevice = (o: { device?: Device }): Device => resolveDevice(o.device ?? getDefaultDevice());
