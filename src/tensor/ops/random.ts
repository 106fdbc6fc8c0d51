import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { op, opInPlace, opNumber } from './call.js';
import type { TensorOptions } from './creation.js';
import { getDefaultDevice } from '../device.js';

/** Seeds libtorch's generators (CPU and every GPU): the same stream as torch.manual_seed. */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

const dt = (o: TensorOptions) => o.dtype ?? 'float32';
const dev = (o: TensorOptions) => o.device ?? getDefaultDevice();

export const rand = (shape: readonly number[], o: TensorOptions = {}): Tensor => op('rand', shape, dt(o), dev(o));
export const randn = (shape: readonly number[], o: TensorOptions = {}): Tensor => op('randn', shape, dt(o), dev(o));
/** Integers in [low, high). */
export const randint = (low: number, high: number, shape: readonly number[], o: TensorOptions = {}): Tensor =>
  op('randint', low, high, shape, o.dtype ?? 'int64', dev(o));
export const randperm = (n: number, o: TensorOptions = {}): Tensor => op('randperm', n, o.dtype ?? 'int64', dev(o));
/** 0/1 draws with the given probabilities. */
export const bernoulli = (probs: Tensor): Tensor => op('bernoulli', probs);
export const multinomial = (probs: Tensor, n: number, replacement = false): Tensor => op('multinomial', probs, n, replacement);
export const dropout = (x: Tensor, p: number, training: boolean): Tensor => op('dropout', x, p, training);

export const normal_ = (t: Tensor, mean = 0, std = 1): void => opInPlace('normal_', t, mean, std);
export const uniform_ = (t: Tensor, low = 0, high = 1): void => opInPlace('uniform_', t, low, high);

export type Nonlinearity = 'relu' | 'leaky_relu' | 'linear' | 'sigmoid' | 'tanh' | 'conv2d';
export interface KaimingOptions {
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}
/** torch.nn.init.kaiming_uniform_ (defaults: a=0, fan_in, leaky_relu). */
export const kaimingUniform_ = (t: Tensor, o: KaimingOptions = {}): void =>
  opInPlace('kaiming_uniform_', t, o.a ?? 0, o.mode ?? 'fan_in', o.nonlinearity ?? 'leaky_relu');
/** torch.nn.init.kaiming_normal_ (defaults: a=0, fan_in, leaky_relu). */
export const kaimingNormal_ = (t: Tensor, o: KaimingOptions = {}): void =>
  opInPlace('kaiming_normal_', t, o.a ?? 0, o.mode ?? 'fan_in', o.nonlinearity ?? 'leaky_relu');
/** fan_in as torch.nn.init computes it (in-channels × receptive field). */
export const fanIn = (t: Tensor): number => opNumber('fan_in', t);
