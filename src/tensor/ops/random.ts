import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { op, opInPlace, opNumber, checkRank, checkFloat, checkShape, optionsDType, optionsDevice } from './call.js';
import type { TensorOptions } from './creation.js';
import { SpotdiffError } from '../../util/errors.js';

/** Seeds libtorch's generators (CPU and every GPU): the same stream as torch.manual_seed. */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

const dt = (o: TensorOptions) => optionsDType(o);
const dev = optionsDevice;

export function rand(shape: readonly number[], o: TensorOptions = {}): Tensor {
  checkShape(shape);
  return op('rand', shape, dt(o), dev(o));
}
export function randn(shape: readonly number[], o: TensorOptions = {}): Tensor {
  checkShape(shape);
  return op('randn', shape, dt(o), dev(o));
}
/** Integers in [low, high). */
export function randint(low: number, high: number, shape: readonly number[], o: TensorOptions = {}): Tensor {
  checkShape(shape);
  return op('randint', low, high, shape, optionsDType(o, 'int64'), dev(o));
}
export const randperm = (n: number, o: TensorOptions = {}): Tensor => op('randperm', n, optionsDType(o, 'int64'), dev(o));
/** 0/1 draws with the given probabilities. */
export const bernoulli = (probs: Tensor): Tensor => op('bernoulli', probs);
export const multinomial = (probs: Tensor, n: number, replacement = false): Tensor => op('multinomial', probs, n, replacement);
export const dropout = (x: Tensor, p: number, training: boolean): Tensor => op('dropout', x, p, training);
/** Zeroes whole channels of [N,C,H,W] with probability p (F.dropout2d), scaling the rest by 1/(1−p). */
export function dropout2d(x: Tensor, p: number, training: boolean): Tensor {
  checkRank('dropout2d', x, [4]);
  return op('feature_dropout', x, p, training);
}

export const normal_ = (t: Tensor, mean = 0, std = 1): void => opInPlace('normal_', t, mean, std);
export const uniform_ = (t: Tensor, low = 0, high = 1): void => opInPlace('uniform_', t, low, high);

export type Nonlinearity = 'relu' | 'leaky_relu' | 'linear' | 'sigmoid' | 'tanh' | 'conv2d';
export interface KaimingOptions {
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}
const NONLINEARITIES: readonly Nonlinearity[] = ['relu', 'leaky_relu', 'linear', 'sigmoid', 'tanh', 'conv2d'];

function checkInit(name: string, t: Tensor, o: KaimingOptions = {}): void {
  checkFloat(name, t, 'tensor');
  if (t.rank < 2) throw new SpotdiffError('ERR_SHAPE', `${name}: fan in and fan out need a tensor of at least 2 dimensions, got [${t.shape.join(', ')}]`);
  if (o.mode !== undefined && o.mode !== 'fan_in' && o.mode !== 'fan_out') {
    throw new SpotdiffError('ERR_BAD_INPUT', `${name}: mode must be fan_in or fan_out, got ${String(o.mode)}`);
  }
  if (o.nonlinearity !== undefined && !NONLINEARITIES.includes(o.nonlinearity)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${name}: unknown nonlinearity ${String(o.nonlinearity)} (use ${NONLINEARITIES.join(', ')})`);
  }
}

/** torch.nn.init.kaiming_uniform_ (defaults: a=0, fan_in, leaky_relu). */
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): void {
  checkInit('kaimingUniform_', t, o);
  opInPlace('kaiming_uniform_', t, o.a ?? 0, o.mode ?? 'fan_in', o.nonlinearity ?? 'leaky_relu');
}
/** torch.nn.init.kaiming_normal_ (defaults: a=0, fan_in, leaky_relu). */
export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): void {
  checkInit('kaimingNormal_', t, o);
  opInPlace('kaiming_normal_', t, o.a ?? 0, o.mode ?? 'fan_in', o.nonlinearity ?? 'leaky_relu');
}

// fan_in + fan_out as torch.nn.init._calculate_fan_in_and_fan_out: channels × receptive field.
function fanSum(t: Tensor): number {
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return (t.shape[0]! + t.shape[1]!) * receptive;
}
/** torch.nn.init.xavier_uniform_: U(−b, b), b = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1): void {
  checkInit('xavierUniform_', t);
  // The same float64 steps as torch.nn.init, so the bound matches to the last bit.
  const std = gain * Math.sqrt(2 / fanSum(t));
  const bound = Math.sqrt(3) * std;
  uniform_(t, -bound, bound);
}
/** torch.nn.init.xavier_normal_: N(0, gain·√(2 / (fan_in + fan_out))). */
export function xavierNormal_(t: Tensor, gain = 1): void {
  checkInit('xavierNormal_', t);
  normal_(t, 0, gain * Math.sqrt(2 / fanSum(t)));
}
/** fan_in as torch.nn.init computes it (in-channels × receptive field). */
export const fanIn = (t: Tensor): number => opNumber('fan_in', t);
