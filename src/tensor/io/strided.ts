import { SpotdiffError } from '../../util/errors.js';

/**
 * How many bytes a file's strided views may gather into fresh memory.
 *
 * A view that is C-contiguous costs nothing: it comes back as a subarray of its storage, as
 * torch.load returns views. Any other view (a transpose, a slice with steps, an expand) is
 * gathered into new memory, and a hostile file can make that arbitrarily large: stride 0 or
 * overlapping strides over a 4-byte storage can ask for GiBs. The rule: across one file, the
 * gathered bytes may not exceed the bytes of the storages the file's tensors read, plus a
 * small allowance. Every non-overlapping view (transposes, permutes, steps) gathers at most
 * its own storage's bytes, so a state dict whose views each read their own storage always
 * fits; identical views (tied weights) are gathered once by the caller; the allowance covers
 * the small expanded buffers real models carry (a mask, an index row). A file can thus make
 * the reader hold at most twice its size plus the allowance.
 */
export class GatherBudget {
  /** Expanded / overlapping views may gather this much beyond the storages' bytes. */
  static readonly ALLOWANCE = 16 * 1024 * 1024;
  private used = 0;
  private readonly limit: number;

  constructor(readonly storageBytes: number) {
    this.limit = storageBytes + GatherBudget.ALLOWANCE;
  }

  /** Accounts for `bytes` gathered for the tensor `name`, or refuses it. */
  reserve(bytes: number, name: string, view: string): void {
    if (!(this.used + bytes <= this.limit)) {
      throw new SpotdiffError(
        'ERR_BAD_CHECKPOINT',
        `tensor '${name}' is a strided view (${view}) that decodes to ${bytes} bytes; the file's views would then need ` +
          `${this.used + bytes} bytes beyond its ${this.storageBytes} bytes of storage (at most ${GatherBudget.ALLOWANCE} more ` +
          `are allowed): the file is corrupt or hostile`,
      );
    }
    this.used += bytes;
  }
}

/** A strided view into a storage: torch's size / stride / storage offset, all in elements. */
export interface StridedView {
  readonly offset: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

/**
 * The C-contiguous bytes of the view `name` into `storage`. A view that is already
 * C-contiguous comes back as a subarray of the storage (no copy); any other layout is
 * gathered into fresh memory, reserved from `budget` first.
 */
export function contiguousBytes(storage: Uint8Array, itemsize: number, view: StridedView, name: string, budget: GatherBudget): Uint8Array {
  const { offset, size, stride } = view;
  const numel = checkView(storage, itemsize, view);
  if (numel === 0) return new Uint8Array(0);
  if (isContiguous(size, stride)) return storage.subarray(offset * itemsize, (offset + numel) * itemsize);
  budget.reserve(numel * itemsize, name, `offset ${offset}, size [${size}], stride [${stride}]`);
  return gather(storage, itemsize, view, numel);
}

/** Checks that the view lies inside the storage; returns its element count. */
function checkView(storage: Uint8Array, itemsize: number, { offset, size, stride }: StridedView): number {
  if (size.length !== stride.length) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `size [${size}] and stride [${stride}] differ in length`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `bad storage offset ${offset}`);
  if (size.some((d) => d === 0)) return 0;
  const storageNumel = Math.floor(storage.byteLength / itemsize);
  // Furthest element the view touches; torch strides are never negative. Past 2^53 the sums
  // lose precision but stay far beyond any storage, so the check still refuses them.
  let last = offset;
  let numel = 1;
  for (let d = 0; d < size.length; d++) {
    if (!Number.isSafeInteger(size[d]) || size[d]! < 0) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `bad size [${size}]`);
    if (!Number.isSafeInteger(stride[d]) || stride[d]! < 0) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `bad stride [${stride}]`);
    last += (size[d]! - 1) * stride[d]!;
    numel *= size[d]!;
  }
  if (last >= storageNumel) {
    throw new SpotdiffError(
      'ERR_BAD_CHECKPOINT',
      `a tensor view (offset ${offset}, size [${size}], stride [${stride}]) reaches element ${last} of a storage of ${storageNumel}`,
    );
  }
  return numel;
}

/** Copies a (bounds-checked) non-contiguous view into fresh C-contiguous memory. */
function gather(storage: Uint8Array, itemsize: number, { offset, size, stride }: StridedView, numel: number): Uint8Array {
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
