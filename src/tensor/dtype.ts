import type { HostArray } from './native.js';

export type FloatDType = 'float32' | 'float64' | 'float16' | 'bfloat16';
export type IntDType = 'int64' | 'int32' | 'int16' | 'int8' | 'uint8';
export type DType = FloatDType | IntDType | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];

export function isFloatDType(d: DType): d is FloatDType {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

/** The typed array a dtype is read back as (float16/bfloat16 widen to float32, bool to uint8). */
export type HostArrayOf<D extends DType> = D extends 'float64'
  ? Float64Array
  : D extends 'float32' | 'float16' | 'bfloat16'
    ? Float32Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'int16'
          ? Int16Array
          : D extends 'int8'
            ? Int8Array
            : Uint8Array;

/** The dtype a typed array naturally holds. */
export function dtypeOfHostArray(a: HostArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof BigInt64Array) return 'int64';
  return 'uint8';
}
