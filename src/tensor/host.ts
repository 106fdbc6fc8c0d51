import { Tensor } from './tensor.js';
import { tensor } from './ops/creation.js';
import { narrow } from './ops/shape.js';
import type { Device } from './device.js';
import { fromFloat32, hostTensor, ITEMSIZE, toFloat32, typedView, type HostTensor } from './io/host-tensor.js';
import type { TensorSource } from './io/safetensors.js';

/**
 * The one bridge between engine-free host tensors (what checkpoint files hold, src/tensor/io)
 * and engine tensors. Both directions copy; dtypes are kept exactly, float16/bfloat16 included.
 */

/** An engine tensor with the host tensor's dtype, shape and values (on `device`, default the default device: a training run's GPU). */
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

/** Bytes per piece when an engine tensor is streamed to a file (64 MiB). */
export const STREAM_PIECE_BYTES = 64 * 2 ** 20;

/**
 * An engine tensor as a safetensors source that copies it to the host a block of rows (first
 * dimension) at a time, just before each block is written: a model saves with one block of host
 * memory beside it instead of a second copy of itself. Blocks hold at most `pieceBytes`, or
 * one row when a row is larger. The tensor must stay alive until the write finishes.
 */
export function tensorSource(t: Tensor, pieceBytes = STREAM_PIECE_BYTES): TensorSource {
  const shape = [...t.shape];
  return {
    dtype: t.dtype,
    shape,
    *chunks() {
      const rows = shape[0] ?? 1;
      const rowBytes = rows === 0 ? 0 : (t.size / rows) * ITEMSIZE[t.dtype];
      if (shape.length === 0 || rows * rowBytes <= pieceBytes) {
        yield toHost(t).data;
        return;
      }
      const per = Math.max(1, Math.floor(pieceBytes / rowBytes));
      for (let start = 0; start < rows; start += per) {
        const block = narrow(t, 0, start, Math.min(per, rows - start));
        try {
          yield toHost(block).data;
        } finally {
          block.dispose();
        }
      }
    },
  };
}
