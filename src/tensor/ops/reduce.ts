import type { Tensor } from '../tensor.js';
import { op, opList } from './call.js';

type Dims = number | readonly number[] | null;
const dimList = (d: Dims): readonly number[] | null => (d === null ? null : typeof d === 'number' ? [d] : d);

/** Sum over dims (null: every element). */
export const sum = (a: Tensor, dims: Dims = null, keepdim = false): Tensor => op('sum', a, dimList(dims), keepdim);
export const mean = (a: Tensor, dims: Dims = null, keepdim = false): Tensor => op('mean', a, dimList(dims), keepdim);
/** Bessel's correction: a number, or torch's `unbiased` flag (true = 1, false = 0). */
type Correction = number | boolean;
const corr = (c: Correction): number => (c === true ? 1 : c === false ? 0 : c);
/** Variance; correction 1 / true (default) is the unbiased estimate, 0 / false the population variance. */
export const variance = (a: Tensor, dims: Dims = null, correction: Correction = 1, keepdim = false): Tensor =>
  op('var', a, dimList(dims), corr(correction), keepdim);
/** Standard deviation; correction as for variance (torch.std(unbiased=...)). */
export const std = (a: Tensor, dims: Dims = null, correction: Correction = 1, keepdim = false): Tensor =>
  op('std', a, dimList(dims), corr(correction), keepdim);
export const amax = (a: Tensor, dims: number | readonly number[], keepdim = false): Tensor => op('amax', a, dimList(dims), keepdim);
export const amin = (a: Tensor, dims: number | readonly number[], keepdim = false): Tensor => op('amin', a, dimList(dims), keepdim);
/** The largest element (0-d). */
export const maxAll = (a: Tensor): Tensor => op('max_all', a);
export const minAll = (a: Tensor): Tensor => op('min_all', a);
/** Largest along a dim: [values, indices]. */
export const max = (a: Tensor, dim: number, keepdim = false): [Tensor, Tensor] => opList('max', a, dim, keepdim) as [Tensor, Tensor];
export const min = (a: Tensor, dim: number, keepdim = false): [Tensor, Tensor] => opList('min', a, dim, keepdim) as [Tensor, Tensor];
export const argmax = (a: Tensor, dim: number | null = null, keepdim = false): Tensor => op('argmax', a, dim, keepdim);
export const argmin = (a: Tensor, dim: number | null = null, keepdim = false): Tensor => op('argmin', a, dim, keepdim);
export const logsumexp = (a: Tensor, dims: number | readonly number[], keepdim = false): Tensor => op('logsumexp', a, dimList(dims), keepdim);
export const prod = (a: Tensor, dim: number, keepdim = false): Tensor => op('prod', a, dim, keepdim);
/** p-norm over dims (null: all elements). */
export const norm = (a: Tensor, p = 2, dims: Dims = null, keepdim = false): Tensor =>
  dims === null ? op('norm', a, p, null) : op('norm', a, p, dimList(dims), keepdim);
export const cumsum = (a: Tensor, dim: number): Tensor => op('cumsum', a, dim);
/** k largest (or smallest) along dim: [values, indices]. */
export const topk = (a: Tensor, k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] =>
  opList('topk', a, k, dim, largest, sorted) as [Tensor, Tensor];
export const sort = (a: Tensor, dim = -1, descending = false, stable = false): [Tensor, Tensor] =>
  opList('sort', a, dim, descending, stable) as [Tensor, Tensor];
export const argsort = (a: Tensor, dim = -1, descending = false): Tensor => op('argsort', a, dim, descending);
export const all = (a: Tensor): Tensor => op('all', a);
export const any = (a: Tensor): Tensor => op('any', a);
/** The q-quantile (linear interpolation, as torch.quantile) along dim, or over everything. */
export const quantile = (a: Tensor, q: number, dim: number | null = null, keepdim = false): Tensor => op('quantile', a, q, dim, keepdim);
