import { callOp } from './native.js';
import { getDefaultDevice, type Device } from './device.js';
import type { DType } from './dtype.js';
import { SpotdiffError } from '../util/errors.js';

/** The lower precisions autocast runs in: bfloat16 (CPU and CUDA) or float16 (CUDA only). */
export type AutocastDType = 'bfloat16' | 'float16';

/** libtorch's autocast state for one device type (thread-local, so per process here). */
export interface AutocastState {
  enabled: boolean;
  /** The dtype autocast lowers to when enabled. */
  dtype: DType;
}

type AutocastDevice = 'cpu' | 'cuda';

function deviceTypeOf(device: Device): AutocastDevice {
  return device.startsWith('cuda') ? 'cuda' : 'cpu';
}

function checkDtype(dtype: AutocastDType, device: AutocastDevice): void {
  if (dtype !== 'bfloat16' && dtype !== 'float16') {
    throw new SpotdiffError('ERR_DTYPE', `autocast runs in bfloat16 or float16, got ${String(dtype)}`);
  }
  if (dtype === 'float16' && device === 'cpu') {
    throw new SpotdiffError('ERR_BAD_INPUT', 'fp16 (float16 autocast) needs a CUDA device; on the CPU use bf16');
  }
}

/** Whether autocast is on for `device`'s type (default: the default device), and its dtype. */
export function autocastState(device: Device = getDefaultDevice()): AutocastState {
  return callOp('autocast_state', [deviceTypeOf(device)]) as AutocastState;
}

/**
 * Runs fn under libtorch's autocast, as `with torch.autocast(device, dtype)`: conv, linear and
 * matmul run in `dtype` while the ops autocast keeps in float32 (losses, norms, softmax) stay
 * there; no module is cast. `null` runs fn with autocast off (torch.autocast(enabled=False)).
 * The previous state comes back afterwards, also when fn throws, and regions nest. fn must be
 * synchronous: autocast is thread state and would leak into whatever runs during an await.
 */
export function withAutocast<R>(dtype: AutocastDType | null, fn: () => R, device: Device = getDefaultDevice()): R {
  const type = deviceTypeOf(device);
  if (dtype !== null) checkDtype(dtype, type);
  const before = callOp('autocast_enter', [type, dtype !== null, dtype ?? autocastState(device).dtype]) as AutocastState;
  let result: R;
  try {
    result = fn();
  } finally {
    callOp('autocast_exit', [type, before.enabled, before.dtype]);
  }
  if (result instanceof Promise) {
    throw new SpotdiffError('ERR_BAD_INPUT', 'withAutocast: fn returned a promise; autocast covers synchronous work only (await outside, autocast inside)');
  }
  return result;
}

/** A training run's arithmetic: float32 throughout, or autocast to bfloat16 / float16 (the latter with loss scaling). */
export type Precision = 'fp32' | 'bf16' | 'fp16';
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16', 'fp16'];

/** The autocast dtype of a precision (null: fp32, autocast off). */
export function autocastDtypeOf(precision: Precision): AutocastDType | null {
  switch (precision) {
    case 'fp32':
      return null;
    case 'bf16':
      return 'bfloat16';
    case 'fp16':
      return 'float16';
    default:
      throw new SpotdiffError('ERR_BAD_INPUT', `precision must be one of ${PRECISIONS.join(', ')}, got ${String(precision)}`);
  }
}

/** Refuses a precision the device cannot run: float16 autocast is CUDA's (the CPU has bf16). */
export function checkPrecision(precision: Precision, device: Device): void {
  const dtype = autocastDtypeOf(precision);
  if (dtype !== null) checkDtype(dtype, deviceTypeOf(device));
}
