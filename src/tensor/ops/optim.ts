import type { Tensor } from '../tensor.js';
import { op, opInPlace } from './call.js';

// Fused optimiser updates (native/src/ops/optim.cc), the arithmetic of torch 1.13's
// single-tensor SGD and Adam/AdamW. Parameters without a gradient are skipped natively.

export interface SgdStepArgs {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** The momentum buffers are new: copy the (decayed) gradient into them, as torch's first step. */
  firstStep: boolean;
}

/** One SGD update of `params`; `momentumBuffers` (one per parameter) may be empty when momentum is 0. */
export const sgdStep = (params: readonly Tensor[], momentumBuffers: readonly Tensor[], a: SgdStepArgs): void =>
  opInPlace('sgd_step', params, momentumBuffers, a.lr, a.momentum, a.dampening, a.weightDecay, a.nesterov, a.firstStep);

export interface AdamStepArgs {
  /** The step number after this update (1 on the first), shared by every parameter in the call. */
  step: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decay the parameter itself rather than adding weight_decay·param to the gradient. */
  decoupled: boolean;
}

export const adamStep = (params: readonly Tensor[], expAvgs: readonly Tensor[], expAvgSqs: readonly Tensor[], a: AdamStepArgs): void =>
  opInPlace('adam_step', params, expAvgs, expAvgSqs, a.step, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.decoupled);

/**
 * Multiplies every gradient by `inverseScale` in place and returns a float32 [1] on their device:
 * 1 when any of them holds an inf or a NaN, else 0 (torch's _amp_foreach_non_finite_check_and_unscale_,
 * fused where the device has it: CUDA, and the CPU in libtorch 2.x). All on one device.
 */
export const ampUnscaleInPlace = (grads: readonly Tensor[], inverseScale: number): Tensor => op('amp_unscale_', grads, inverseScale);
