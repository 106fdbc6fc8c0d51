import type { DType } from '../dtype.js';
import { SpotdiffError } from '../../util/errors.js';

/**
 * A tensor in host memory, independent of the engine: what checkpoint files hold and what
 * the engine uploads. `data` is the raw little-endian bytes in C-contiguous order, exactly
 * numel × itemsize long. Tensors read from a file may share `data` with each other and with
 * the file's buffer (zero-copy views), so treat `data` as read-only.
 */
export interface HostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** Bytes per element. */
export const ITEMSIZE: Readonly<Record<DType, number>> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Element count of a shape (1 for a 0-d tensor). */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The typed array that views a dtype's bytes without conversion (float16/bfloat16: raw bits). */
export type TypedViewOf<D extends DType> = D extends 'float64'
  ? Float64Array
  : D extends 'float32'
    ? Float32Array
    : D extends 'float16' | 'bfloat16'
      ? Uint16Array
      : D extends 'int64'
        ? BigInt64Array
        : D extends 'int32'
          ? Int32Array
          : D extends 'int16'
            ? Int16Array
            : D extends 'int8'
              ? Int8Array
              : Uint8Array;

export type TypedView = Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/**
 * Builds a host tensor from its raw bytes, checking that their length fits dtype × shape.
 * The bytes are used as given (not copied).
 */
export function hostTensor(dtype: DType, shape: readonly number[], data: Uint8Array): HostTensor {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new SpotdiffError('ERR_SHAPE', `bad tensor shape [${shape.join(', ')}]`);
  }
  const want = numelOf(shape) * ITEMSIZE[dtype];
  if (data.byteLength !== want) {
    throw new SpotdiffError('ERR_SHAPE', `a ${dtype} tensor of shape [${shape.join(', ')}] needs ${want} bytes, got ${data.byteLength}`);
  }
  return { dtype, shape: [...shape], data };
}

/** A host tensor over a typed array's bytes (shared, not copied). Its dtype must fit the array. */
export function hostTensorFrom(dtype: DType, shape: readonly number[], values: TypedView): HostTensor {
  const [ctor, name] = typedArrayFor(dtype);
  if (!(values instanceof ctor)) {
    throw new SpotdiffError('ERR_DTYPE', `a ${dtype} tensor takes a ${name}, got a ${values.constructor.name}`);
  }
  return hostTensor(dtype, shape, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

type TypedArrayClass =
  | Float64ArrayConstructor
  | Float32ArrayConstructor
  | Uint16ArrayConstructor
  | BigInt64ArrayConstructor
  | Int32ArrayConstructor
  | Int16ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor;

function typedArrayFor(dtype: DType): [TypedArrayClass, string] {
  switch (dtype) {
    case 'float64':
      return [Float64Array, 'Float64Array'];
    case 'float32':
      return [Float32Array, 'Float32Array'];
    case 'float16':
    case 'bfloat16':
      return [Uint16Array, 'Uint16Array (the raw bits)'];
    case 'int64':
      return [BigInt64Array, 'BigInt64Array'];
    case 'int32':
      return [Int32Array, 'Int32Array'];
    case 'int16':
      return [Int16Array, 'Int16Array'];
    case 'int8':
      return [Int8Array, 'Int8Array'];
    case 'uint8':
    case 'bool':
      return [Uint8Array, 'Uint8Array'];
  }
}

/**
 * The tensor's elements as a typed array of its own dtype: a view when the bytes are
 * aligned for it, otherwise an aligned copy. float16/bfloat16 come back as their raw bits
 * (Uint16Array); use `toFloat32` for values. Assumes a little-endian host, as every
 * platform Node ships for is in practice.
 */
export function typedView<D extends DType>(t: HostTensor & { dtype: D }): TypedViewOf<D>;
export function typedView(t: HostTensor): TypedView;
export function typedView(t: HostTensor): TypedView {
  const size = ITEMSIZE[t.dtype];
  let bytes = t.data;
  if (bytes.byteOffset % size !== 0) bytes = bytes.slice();
  const n = bytes.byteLength / size;
  const { buffer, byteOffset } = bytes;
  switch (t.dtype) {
    case 'float64':
      return new Float64Array(buffer, byteOffset, n);
    case 'float32':
      return new Float32Array(buffer, byteOffset, n);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, byteOffset, n);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, n);
    case 'int32':
      return new Int32Array(buffer, byteOffset, n);
    case 'int16':
      return new Int16Array(buffer, byteOffset, n);
    case 'int8':
      return new Int8Array(buffer, byteOffset, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, n);
  }
}

/** IEEE half-precision bits to a number (exact: every half is a float32). */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A number to IEEE half-precision bits, rounding to nearest even as torch's float32 .half() does (the number is first rounded to float32). */
export function numberToFloat16Bits(x: number): number {
  const f = f32Scratch;
  f[0] = x;
  const bits = u32Scratch[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand into place, rounding to even.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // may carry into the exponent: still right
  return sign | half;
}

/** bfloat16 bits to a number (exact). */
export function bfloat16BitsToNumber(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** A number to bfloat16 bits, rounding to nearest even as torch's float32 .bfloat16() does (via float32); NaN stays NaN. */
export function numberToBfloat16Bits(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * The tensor's values as float32 (a new array): floats are widened or rounded to float32,
 * integers and bools converted by value. For feeding float engines and for comparisons.
 */
export function toFloat32(t: HostTensor): Float32Array {
  const v = typedView(t);
  const out = new Float32Array(v.length);
  if (t.dtype === 'float16') {
    for (let i = 0; i < v.length; i++) out[i] = float16BitsToNumber(v[i] as number);
  } else if (t.dtype === 'bfloat16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < v.length; i++) bits[i] = (v[i] as number) << 16;
  } else if (v instanceof BigInt64Array) {
    for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
  } else {
    out.set(v as Exclude<TypedView, BigInt64Array>);
  }
  return out;
}

/** A float16 or bfloat16 tensor from float32 values, rounded to nearest even. */
export function fromFloat32(dtype: 'float16' | 'bfloat16', shape: readonly number[], values: Float32Array): HostTensor {
  const bits = new Uint16Array(values.length);
  const convert = dtype === 'float16' ? numberToFloat16Bits : numberToBfloat16Bits;
  for (let i = 0; i < values.length; i++) bits[i] = convert(values[i]!);
  return hostTensorFrom(dtype, shape, bits);
}
