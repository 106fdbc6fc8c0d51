import type { Tensor } from '../tensor.js';
import { callOp } from '../native.js';
import { op, opInPlace } from './call.js';
import { SpotdiffError } from '../../util/errors.js';

/**
 * How a 4-D tensor's elements lie in memory: 'contiguous' (NCHW, the default) or
 * 'channels_last' (NHWC strides, the layout oneDNN and cuDNN convolve fastest). The values,
 * shape and indexing stay the same either way.
 */
export type MemoryFormat = 'contiguous' | 'channels_last';

function checkFormat(name: string, t: Tensor, format: MemoryFormat): void {
  if (format !== 'contiguous' && format !== 'channels_last') {
    throw new SpotdiffError('ERR_BAD_INPUT', `${name}: memory format must be contiguous or channels_last, got ${String(format)}`);
  }
  if (format === 'channels_last' && t.rank !== 4) {
    throw new SpotdiffError('ERR_SHAPE', `${name}: channels_last needs a 4-D tensor, got shape [${t.shape.join(', ')}]`);
  }
}

/** The tensor laid out in `format` (itself, shared, when it already is), as x.contiguous(memory_format=...). */
export function toMemoryFormat(t: Tensor, format: MemoryFormat): Tensor {
  checkFormat('toMemoryFormat', t, format);
  return op('to_memory_format', t, format);
}

/** Re-lays a tensor out in place, keeping the tensor itself (a parameter stays its optimiser's), as module.to(memory_format=...) does. */
export function setMemoryFormatInPlace(t: Tensor, format: MemoryFormat): void {
  checkFormat('setMemoryFormatInPlace', t, format);
  opInPlace('set_memory_format_', t, format);
}

/** Whether the tensor's strides are those of `format`. */
export function isMemoryFormat(t: Tensor, format: MemoryFormat): boolean {
  checkFormat('isMemoryFormat', t, format);
  return callOp('is_memory_format', [t.handle, format]) as boolean;
}

/** Re-lays every 4-D tensor among `tensors` out as channels_last in place (a model's conv weights); others stay. */
export function channelsLastInPlace(tensors: Iterable<Tensor>): void {
  for (const t of tensors) if (t.rank === 4) opInPlace('set_memory_format_', t, 'channels_last');
}
