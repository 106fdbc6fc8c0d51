import { SpotdiffError } from '../../util/errors.js';
import { numelOf } from './host-tensor.js';

/**
 * The C-contiguous bytes of a strided view into a storage (torch's size / stride / storage
 * offset, all in elements). A view that is already C-contiguous comes back as a subarray of
 * the storage (no copy); any other layout (transposes, slices with steps, expanded dims) is
 * gathered into fresh memory.
 */
export function contiguousBytes(
  storage: Uint8Array,
  itemsize: number,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
): Uint8Array {
  if (size.length !== stride.length) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `size [${size}] and stride [${stride}] differ in length`);
  const storageNumel = Math.floor(storage.byteLength / itemsize);
  const numel = numelOf(size);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `bad storage offset ${offset}`);
  if (numel === 0) return new Uint8Array(0);
  // Furthest element the view touches; torch strides are never negative.
  let last = offset;
  for (let d = 0; d < size.length; d++) {
    if (!Number.isSafeInteger(stride[d]) || stride[d]! < 0) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `bad stride [${stride}]`);
    last += (size[d]! - 1) * stride[d]!;
  }
  if (last >= storageNumel) {
    throw new SpotdiffError(
      'ERR_BAD_CHECKPOINT',
      `a tensor view (offset ${offset}, size [${size}], stride [${stride}]) reaches element ${last} of a storage of ${storageNumel}`,
    );
  }
  if (isContiguous(size, stride)) return storage.subarray(offset * itemsize, (offset + numel) * itemsize);

  const out = new Uint8Array(numel * itemsize);
  const nd = size.length;
  const inner = nd - 1;
  // Copy along the last dim in one go when it is dense, else element by element.
  const innerDense = stride[inner] === 1;
  const runBytes = innerDense ? size[inner]! * itemsize : itemsize;
  const outerDims = innerDense ? inner : nd;
  const index = new Array<number>(outerDims).fill(0);
  let src = offset;
  for (let o = 0; o < out.byteLength; o += runBytes) {
    const s = src * itemsize;
    if (runBytes <= 16) for (let k = 0; k < runBytes; k++) out[o + k] = storage[s + k]!;
    else out.set(storage.subarray(s, s + runBytes), o);
    // Odometer over the outer dims.
    for (let d = outerDims - 1; d >= 0; d--) {
      index[d]!++;
      src += stride[d]!;
      if (index[d]! < size[d]!) break;
      src -= index[d]! * stride[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** C-contiguous: strides match the row-major ones wherever the dim has more than one element. */
export function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d]!;
  }
  return true;
}
