import { native, type HostArray } from '../native.js';
import { Tensor } from '../tensor.js';
import { op } from './call.js';
import { dtypeOfHostArray, type DType } from '../dtype.js';
import { getDefaultDevice, type Device } from '../device.js';
import { SpotdiffError } from '../../util/errors.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
}

/** Every size a non-negative integer (libtorch would read -1 or 2.5 in its own way). */
export function checkShape(shape: readonly number[]): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new SpotdiffError('ERR_SHAPE', `invalid shape [${shape.join(', ')}]`);
  }
}

/**
 * A tensor from host values (copied). A plain number array becomes float32 unless told; a
 * typed array keeps its dtype unless told (a Uint8Array with dtype 'bool' becomes bool).
 */
export function tensor(values: HostArray | readonly number[], shape?: readonly number[], opts: TensorOptions = {}): Tensor {
  const host: HostArray = Array.isArray(values) ? Float32Array.from(values as readonly number[]) : (values as HostArray);
  const dims = shape ?? [host.length];
  checkShape(dims);
  const numel = dims.reduce((a, b) => a * b, 1);
  if (numel !== host.length) {
    throw new SpotdiffError('ERR_SHAPE', `${host.length} values cannot fill shape [${dims.join(', ')}] (${numel} elements)`);
  }
  const dtype = opts.dtype ?? dtypeOfHostArray(host);
  return new Tensor(native.fromData(host, dims, dtype, opts.device ?? getDefaultDevice()));
}

/** A 0-d tensor holding one number. */
export function scalar(value: number, opts: TensorOptions = {}): Tensor {
  return tensor(Float64Array.of(value), [], { dtype: opts.dtype ?? 'float32', device: opts.device });
}

const dt = (o: TensorOptions): DType => o.dtype ?? 'float32';
const dev = (o: TensorOptions): Device => o.device ?? getDefaultDevice();

export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  checkShape(shape);
  return op('zeros', shape, dt(opts), dev(opts));
}
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  checkShape(shape);
  return op('ones', shape, dt(opts), dev(opts));
}
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShape(shape);
  return op('full', shape, value, dt(opts), dev(opts));
}
/** [start, end) in steps; int64 by default when every bound is an integer, as torch does. */
export function arange(start: number, end: number, step = 1, opts: TensorOptions = {}): Tensor {
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  return op('arange', start, end, step, opts.dtype ?? (allInt ? 'int64' : 'float32'), dev(opts));
}
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  return op('linspace', start, end, steps, dt(opts), dev(opts));
}
export function eye(n: number, opts: TensorOptions = {}): Tensor {
  return op('eye', n, dt(opts), dev(opts));
}
export const zerosLike = (t: Tensor): Tensor => op('zeros_like', t);
export const onesLike = (t: Tensor): Tensor => op('ones_like', t);
export const fullLike = (t: Tensor, v: number): Tensor => op('full_like', t, v);
export const clone = (t: Tensor): Tensor => op('clone', t);
export const contiguous = (t: Tensor): Tensor => op('contiguous', t);
/** The same values cut from the autograd graph. */
export const detach = (t: Tensor): Tensor => op('detach', t);
export const toDtype = (t: Tensor, dtype: DType): Tensor => op('to_dtype', t, dtype);
export const toDevice = (t: Tensor, device: Device): Tensor => op('to_device', t, device);
/** A second owner of the same tensor (shared storage); disposing one leaves the other. */
export const alias = (t: Tensor): Tensor => op('alias', t);
