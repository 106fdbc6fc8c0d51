import type { Tensor } from '../tensor.js';
import { op } from './call.js';
import { SpotdiffError } from '../../util/errors.js';

type Operand = Tensor | number;

/** a + alpha·b (broadcasting). */
export const add = (a: Tensor, b: Operand, alpha?: number): Tensor => (alpha === undefined ? op('add', a, b) : op('add', a, b, alpha));
/** a − alpha·b (broadcasting). */
export const sub = (a: Tensor, b: Operand, alpha?: number): Tensor => (alpha === undefined ? op('sub', a, b) : op('sub', a, b, alpha));
/** s − a. */
export const rsub = (a: Tensor, s: number): Tensor => op('rsub', a, s);
export const mul = (a: Tensor, b: Operand): Tensor => op('mul', a, b);
export const div = (a: Tensor, b: Operand): Tensor => op('div', a, b);
export const pow = (a: Tensor, b: Operand): Tensor => op('pow', a, b);
/** s ** a. */
export const rpow = (a: Tensor, s: number): Tensor => op('rpow', a, s);
export const remainder = (a: Tensor, b: Operand): Tensor => op('remainder', a, b);
export const maximum = (a: Tensor, b: Tensor): Tensor => op('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor): Tensor => op('minimum', a, b);
export const atan2 = (a: Tensor, b: Tensor): Tensor => op('atan2', a, b);

export const eq = (a: Tensor, b: Operand): Tensor => op('eq', a, b);
export const ne = (a: Tensor, b: Operand): Tensor => op('ne', a, b);
export const lt = (a: Tensor, b: Operand): Tensor => op('lt', a, b);
export const le = (a: Tensor, b: Operand): Tensor => op('le', a, b);
export const gt = (a: Tensor, b: Operand): Tensor => op('gt', a, b);
export const ge = (a: Tensor, b: Operand): Tensor => op('ge', a, b);
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => op('logical_and', a, b);
export const logicalOr = (a: Tensor, b: Tensor): Tensor => op('logical_or', a, b);
export const logicalNot = (a: Tensor): Tensor => op('logical_not', a);
export const isnan = (a: Tensor): Tensor => op('isnan', a);
export const isfinite = (a: Tensor): Tensor => op('isfinite', a);

export const neg = (a: Tensor): Tensor => op('neg', a);
export const abs = (a: Tensor): Tensor => op('abs', a);
export const sqrt = (a: Tensor): Tensor => op('sqrt', a);
export const rsqrt = (a: Tensor): Tensor => op('rsqrt', a);
export const exp = (a: Tensor): Tensor => op('exp', a);
export const log = (a: Tensor): Tensor => op('log', a);
export const log1p = (a: Tensor): Tensor => op('log1p', a);
export const sin = (a: Tensor): Tensor => op('sin', a);
export const cos = (a: Tensor): Tensor => op('cos', a);
export const erf = (a: Tensor): Tensor => op('erf', a);
export const sign = (a: Tensor): Tensor => op('sign', a);
export const floor = (a: Tensor): Tensor => op('floor', a);
export const ceil = (a: Tensor): Tensor => op('ceil', a);
export const round = (a: Tensor): Tensor => op('round', a);
export const reciprocal = (a: Tensor): Tensor => op('reciprocal', a);
export const square = (a: Tensor): Tensor => op('square', a);

export const relu = (a: Tensor): Tensor => op('relu', a);
export const leakyRelu = (a: Tensor, negativeSlope = 0.01): Tensor => op('leaky_relu', a, negativeSlope);
export const sigmoid = (a: Tensor): Tensor => op('sigmoid', a);
export const tanh = (a: Tensor): Tensor => op('tanh', a);
export const gelu = (a: Tensor): Tensor => op('gelu', a);
export const silu = (a: Tensor): Tensor => op('silu', a);
export const softplus = (a: Tensor, beta = 1, threshold = 20): Tensor => op('softplus', a, beta, threshold);

/** Clamps to [min, max]; either bound may be null. */
export const clamp = (a: Tensor, min: number | null, max: number | null = null): Tensor => op('clamp', a, min, max);
/** cond ? a : b, elementwise with broadcasting. */
export const where = (cond: Tensor, a: Operand, b: Operand): Tensor => op('where', cond, a, b);
export function maskedFill(a: Tensor, mask: Tensor, value: Operand): Tensor {
  // libtorch 1.13 silently ignores a float mask (nothing is filled); torch later refuses it.
  if (mask.dtype !== 'bool') throw new SpotdiffError('ERR_DTYPE', `maskedFill: the mask must be a bool tensor, got ${mask.dtype} (compare, e.g. gt(m, 0), to make one)`);
  return op('masked_fill', a, mask, value);
}
/** a + w·(b − a). */
export const lerp = (a: Tensor, b: Tensor, w: number): Tensor => op('lerp', a, b, w);
