import type { Tensor } from '../tensor.js';
import { op, opList, normalizeDim } from './call.js';
import { SpotdiffError } from '../../util/errors.js';

export const reshape = (a: Tensor, shape: readonly number[]): Tensor => op('reshape', a, shape);
export const view = (a: Tensor, shape: readonly number[]): Tensor => op('view', a, shape);
export function permute(a: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== a.rank) throw new SpotdiffError('ERR_SHAPE', `permute: ${dims.length} dims given for a tensor of shape [${a.shape.join(', ')}]`);
  return op('permute', a, dims);
}
export const transpose = (a: Tensor, d0: number, d1: number): Tensor => op('transpose', a, d0, d1);
export const flatten = (a: Tensor, startDim = 0, endDim = -1): Tensor => op('flatten', a, startDim, endDim);
export const squeeze = (a: Tensor, dim: number | null = null): Tensor => op('squeeze', a, dim);
export const unsqueeze = (a: Tensor, dim: number): Tensor => op('unsqueeze', a, dim);
export const expand = (a: Tensor, shape: readonly number[]): Tensor => op('expand', a, shape);
export const repeat = (a: Tensor, reps: readonly number[]): Tensor => op('repeat', a, reps);
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'cat: no tensors given');
  return op('cat', tensors, dim);
}
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'stack: no tensors given');
  return op('stack', tensors, dim);
}
/** a[..., start:end:step, ...] along dim (end clipped to the size, as Python slicing). */
export function slice(a: Tensor, dim: number, start: number, end: number = Number.MAX_SAFE_INTEGER, step = 1): Tensor {
  normalizeDim('slice', dim, a.rank);
  return op('slice', a, dim, start, Math.min(end, Number.MAX_SAFE_INTEGER), step);
}
export const narrow = (a: Tensor, dim: number, start: number, length: number): Tensor => op('narrow', a, dim, start, length);
export const select = (a: Tensor, dim: number, index: number): Tensor => op('select', a, dim, index);
export const indexSelect = (a: Tensor, dim: number, index: Tensor): Tensor => op('index_select', a, dim, index);
export const gather = (a: Tensor, dim: number, index: Tensor): Tensor => op('gather', a, dim, index);
export const scatter = (a: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor => op('scatter', a, dim, index, src);
export const scatterAdd = (a: Tensor, dim: number, index: Tensor, src: Tensor): Tensor => op('scatter_add', a, dim, index, src);
/** Advanced indexing a[i0, i1, ...] with index tensors (int64 or bool). */
export const index = (a: Tensor, indices: readonly Tensor[]): Tensor => op('index', a, indices);
export const maskedSelect = (a: Tensor, mask: Tensor): Tensor => op('masked_select', a, mask);
export const nonzero = (a: Tensor): Tensor => op('nonzero', a);
export const split = (a: Tensor, size: number, dim = 0): Tensor[] => opList('split', a, size, dim);
export const chunk = (a: Tensor, chunks: number, dim = 0): Tensor[] => opList('chunk', a, chunks, dim);
export const flip = (a: Tensor, dims: readonly number[]): Tensor => op('flip', a, dims);
export const roll = (a: Tensor, shifts: readonly number[], dims: readonly number[]): Tensor => op('roll', a, shifts, dims);
export const tril = (a: Tensor, diagonal = 0): Tensor => op('tril', a, diagonal);
export const triu = (a: Tensor, diagonal = 0): Tensor => op('triu', a, diagonal);
export const diagonal = (a: Tensor, offset = 0, dim1 = 0, dim2 = 1): Tensor => op('diagonal', a, offset, dim1, dim2);
export const diagEmbed = (a: Tensor): Tensor => op('diag_embed', a);
export const oneHot = (a: Tensor, numClasses = -1): Tensor => op('one_hot', a, numClasses);
/** Tensor.unfold: windows of `size` every `step` along dim, as a new last dim. */
export const unfoldDim = (a: Tensor, dim: number, size: number, step: number): Tensor => op('unfold_dim', a, dim, size, step);
