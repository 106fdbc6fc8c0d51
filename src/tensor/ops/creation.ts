import { native, type HostArray } from '../native.js';
import { Tensor } from '../tensor.js';
import { op, opNumber, checkShape, checkDType, optionsDType, optionsDevice } from './call.js';
import { dtypeOfHostArray, type DType } from '../dtype.js';
import { resolveDevice, type Device } from '../device.js';
import { SpotdiffError } from '../../util/errors.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
}

/**
 * A tensor from host values (copied). A plain number array becomes float32 unless told; a
 * typed array keeps its dtype unless told (a Uint8Array with dtype 'bool' becomes bool).
 */
export function tensor(values: HostArray | readonly number[], shape?: readonly number[], opts: TensorOptions = {}): Tensor {
  const host = hostArrayOf(values, opts.dtype);
  const dims = shape ?? [host.length];
  checkShape(dims);
  const numel = dims.reduce((a, b) => a * b, 1);
  if (numel !== host.length) {
    throw new SpotdiffError('ERR_SHAPE', `${host.length} values cannot fill shape [${dims.join(', ')}] (${numel} elements)`);
  }
  const dtype = opts.dtype === undefined ? dtypeOfHostArray(host) : checkDType(opts.dtype);
  const device = optionsDevice(opts);
  try {
    return new Tensor(native.fromData(host, dims, dtype, device));
  } catch (e) {
    throw new SpotdiffError('ERR_TORCH', `tensor(${host.constructor.name}, [${dims.join(', ')}], ${dtype}, ${device}): ${(e as Error).message}`, { cause: e });
  }
}

// A plain array goes through float32 only when float32 is wanted: integers above 2^24 and
// float64 values would lose digits, and float16 would be rounded twice.
function hostArrayOf(values: HostArray | readonly number[], dtype: DType | undefined): HostArray {
  if (Array.isArray(values)) {
    return dtype === undefined || dtype === 'float32' ? Float32Array.from(values as readonly number[]) : Float64Array.from(values as readonly number[]);
  }
  if (values instanceof Uint8ClampedArray) return new Uint8Array(values.buffer, values.byteOffset, values.length);
  const ok = [Float32Array, Float64Array, Int32Array, Int16Array, Int8Array, Uint8Array, BigInt64Array].some((k) => values instanceof k);
  if (!ok) {
    const what = (values as object | null)?.constructor?.name ?? String(values);
    throw new SpotdiffError('ERR_BAD_INPUT', `tensor: cannot read values from ${what} (use a number array or a Float32/Float64/Int32/Int16/Int8/Uint8/BigInt64 array)`);
  }
  return values as HostArray;
}

/** A 0-d tensor holding one number. */
export function scalar(value: number, opts: TensorOptions = {}): Tensor {
  return tensor(Float64Array.of(value), [], { dtype: opts.dtype ?? 'float32', device: opts.device });
}

const dt = (o: TensorOptions): DType => optionsDType(o);
const dev = optionsDevice;

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
  return op('arange', start, end, step, optionsDType(opts, allInt ? 'int64' : 'float32'), dev(opts));
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
export const toDtype = (t: Tensor, dtype: DType): Tensor => op('to_dtype', t, checkDType(dtype));
/**
 * A copy on another device ('auto' picks CUDA when available); the same tensor's values when
 * already there. nonBlocking: a copy from pinned host memory to CUDA is queued on the current
 * stream and the call returns before it is done (later ops on that stream see the values).
 */
export const toDevice = (t: Tensor, device: Device, opts: { nonBlocking?: boolean } = {}): Tensor =>
  op('to_device', t, resolveDevice(device), opts.nonBlocking === true);
/** A copy of a CPU tensor in page-locked host memory, the source of a non-blocking copy to CUDA (needs CUDA). */
export const pinMemory = (t: Tensor): Tensor => op('pin_memory', t);
/** Whether a tensor lives in page-locked host memory. */
export const isPinned = (t: Tensor): boolean => opNumber('is_pinned', t) === 1;
/** A second owner of the same tensor (shared storage); disposing one leaves the other. */
export const alias = (t: Tensor): Tensor => op('alias', t);
