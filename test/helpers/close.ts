import assert from 'node:assert/strict';
import type * as T from '../../src/tensor/index.js';
import type { RefTensor } from './torch-ref.js';

export interface Tolerance {
  rtol: number;
  atol: number;
}

/**
 * Default tolerances against PyTorch run with the same kernels and thread count: float32
 * 1e-5 relative, float64 1e-12 relative, half types at their precision, integers exact.
 */
export function defaultTolerance(dtype: string): Tolerance {
  switch (dtype) {
    case 'float64':
      return { rtol: 1e-12, atol: 1e-14 };
    case 'float32':
      return { rtol: 1e-5, atol: 1e-6 };
    case 'float16':
      return { rtol: 1e-3, atol: 1e-4 };
    case 'bfloat16':
      return { rtol: 8e-3, atol: 1e-3 };
    default:
      return { rtol: 0, atol: 0 };
  }
}

/** A tensor's values widened to float64 (bool as 0/1, int64 through Number). */
export function valuesOf(t: T.Tensor): Float64Array {
  const d = t.data();
  return d instanceof BigInt64Array ? Float64Array.from(d, (v) => Number(v)) : Float64Array.from(d);
}

/** Elementwise |a − e| ≤ atol + rtol·|e|; NaN matches NaN and infinities match exactly. */
export function assertCloseValues(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): void {
  assert.equal(actual.length, expected.length, `${label}: ${actual.length} values, expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a === e) continue;
      worst = i;
      worstExcess = Infinity;
      break;
    }
    const excess = Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(`${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${tol.rtol}, atol ${tol.atol})`);
  }
}

/** Same shape, same dtype, and values within tolerance (default: by dtype). */
export function assertMatches(label: string, actual: T.Tensor, expected: RefTensor, tol?: Partial<Tolerance>): void {
  assert.deepEqual([...actual.shape], expected.shape, `${label}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`);
  assert.equal(actual.dtype, expected.dtype, `${label}: dtype ${actual.dtype}, expected ${expected.dtype}`);
  assertCloseValues(label, valuesOf(actual), expected.values, { ...defaultTolerance(expected.dtype), ...tol });
}
