import type { Tensor } from '../tensor.js';
import { op } from './call.js';
import { SpotdiffError } from '../../util/errors.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) throw new SpotdiffError('ERR_SHAPE', `matmul: both operands need at least 1 dimension, got [${a.shape.join(', ')}] @ [${b.shape.join(', ')}] (use mul for scalars)`);
  const k1 = a.shape[a.rank - 1];
  const k2 = b.rank === 1 ? b.shape[0] : b.shape[b.rank - 2];
  if (k1 !== k2) throw new SpotdiffError('ERR_SHAPE', `matmul: [${a.shape.join(', ')}] @ [${b.shape.join(', ')}]: inner sizes ${k1} and ${k2} differ`);
  return op('matmul', a, b);
}
export const mm = (a: Tensor, b: Tensor): Tensor => op('mm', a, b);
export const bmm = (a: Tensor, b: Tensor): Tensor => op('bmm', a, b);
export const einsum = (equation: string, ...operands: Tensor[]): Tensor => op('einsum', equation, operands);
export const outer = (a: Tensor, b: Tensor): Tensor => op('outer', a, b);
export const dot = (a: Tensor, b: Tensor): Tensor => op('dot', a, b);
/** Inverse of square matrices (batched over leading dims). */
export const inverse = (a: Tensor): Tensor => op('inverse', a);
export const cholesky = (a: Tensor, upper = false): Tensor => op('cholesky', a, upper);
/** Inverse of A from its Cholesky factor. */
export const choleskyInverse = (l: Tensor, upper = false): Tensor => op('cholesky_inverse', l, upper);
export const solve = (a: Tensor, b: Tensor): Tensor => op('solve', a, b);
/** beta·input + alpha·(b1 @ b2), batched. */
export const baddbmm = (input: Tensor, b1: Tensor, b2: Tensor, beta = 1, alpha = 1): Tensor => op('baddbmm', input, b1, b2, beta, alpha);
export const addmm = (input: Tensor, m1: Tensor, m2: Tensor, beta = 1, alpha = 1): Tensor => op('addmm', input, m1, m2, beta, alpha);
