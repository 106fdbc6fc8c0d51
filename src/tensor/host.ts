import { Tensor } from './tensor.js';
import { tensor } from './ops/creation.js';
import type { Device } from './device.js';
import { fromFloat32, hostTensor, toFloat32, typedView, type HostTensor } from './io/host-tensor.js';

/**
 * The one bridge between engine-free host tensors (what checkpoint files hold, src/tensor/io)
 * and engine tensors. Both directions copy; dtypes are kept exactly, float16/bfloat16 included.
 */

/** An engine tensor with the host tensor's dtype, shape and values (on `device`, default cpu). */
export function fromHost(h: HostTensor, device?: Device): Tensor {
  // The addon takes typed arrays; half types travel as float32 (exact) and narrow natively.
  const values = h.dtype === 'float16' || h.dtype === 'bfloat16' ? toFloat32(h) : typedView(h);
  return tensor(values as Exclude<typeof values, Uint16Array>, h.shape, { dtype: h.dtype, device });
}

/** A host copy of an engine tensor (read back from any device), same dtype and shape. */
export function toHost(t: Tensor): HostTensor {
  const shape = [...t.shape];
  const values = t.data();
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') return fromFloat32(t.dtype, shape, values as Float32Array);
  return hostTensor(t.dtype, shape, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}
