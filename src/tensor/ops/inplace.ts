import type { Tensor } from '../tensor.js';
import { opInPlace } from './call.js';

// In-place updates for parameters, buffers and optimiser state. On a tensor that requires
// grad they must run inside noGrad(), as in PyTorch.
export const addInPlace = (a: Tensor, b: Tensor | number, alpha?: number): void =>
  alpha === undefined ? opInPlace('add_', a, b) : opInPlace('add_', a, b, alpha);
export const mulInPlace = (a: Tensor, b: Tensor | number): void => opInPlace('mul_', a, b);
export const divInPlace = (a: Tensor, b: Tensor | number): void => opInPlace('div_', a, b);
export const copyInPlace = (dst: Tensor, src: Tensor): void => opInPlace('copy_', dst, src);
/** max(a, 0) in place, as ReLU(inplace=True); fine under autograd on non-leaf activations. */
export const reluInPlace = (a: Tensor): void => opInPlace('relu_', a);
export const zeroInPlace = (a: Tensor): void => opInPlace('zero_', a);
export const fillInPlace = (a: Tensor, v: number): void => opInPlace('fill_', a, v);
export const clampInPlace = (a: Tensor, min: number | null, max: number | null): void => opInPlace('clamp_', a, min, max);
/** a += w·(b − a). */
export const lerpInPlace = (a: Tensor, b: Tensor, w: number): void => opInPlace('lerp_', a, b, w);
/** a[indices] = values (accumulate adds instead). */
export const indexPutInPlace = (a: Tensor, indices: readonly Tensor[], values: Tensor, accumulate = false): void =>
  opInPlace('index_put_', a, indices, values, accumulate);
