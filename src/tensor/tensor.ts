import { native, type NativeHandle, type HostArray } from './native.js';
import { adopt, release, tracked, type Scope, type Tracked } from './scope.js';
import { isFloatDType, type DType, type HostArrayOf } from './dtype.js';
import type { Device } from './device.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * A libtorch tensor seen from TypeScript: NCHW, float32 by default, on 'cpu' or 'cuda'.
 * Ops are free functions in src/tensor/ops; a Tensor itself holds the handle, answers
 * questions about itself, reads its values back, and takes part in autograd.
 */
export class Tensor<D extends DType = DType> implements Tracked {
  [tracked]: Scope | null = null;
  #handle: NativeHandle | null;
  #shape: readonly number[] | undefined;
  #dtype: D | undefined;
  #device: Device | undefined;

  /** Wraps a handle the addon just returned; the new tensor joins the current scope. */
  constructor(handle: NativeHandle) {
    this.#handle = handle;
    adopt(this);
  }

  get handle(): NativeHandle {
    if (this.#handle === null) throw new SpotdiffError('ERR_DISPOSED', 'this tensor was disposed (keep() what must outlive its tidy scope)');
    return this.#handle;
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  private readMeta(): void {
    const m = native.meta(this.handle);
    this.#shape = Object.freeze(m.shape);
    this.#dtype = m.dtype as D;
    this.#device = m.device;
  }

  get shape(): readonly number[] {
    if (this.#shape === undefined) this.readMeta();
    return this.#shape as readonly number[];
  }

  get dtype(): D {
    if (this.#dtype === undefined) this.readMeta();
    return this.#dtype as D;
  }

  get device(): Device {
    if (this.#device === undefined) this.readMeta();
    return this.#device as Device;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get requiresGrad(): boolean {
    return native.meta(this.handle).requiresGrad;
  }

  setRequiresGrad(on = true): this {
    if (on && !isFloatDType(this.dtype)) {
      throw new SpotdiffError('ERR_DTYPE', `setRequiresGrad: only floating-point tensors can require gradients, this one is ${this.dtype}`);
    }
    native.setRequiresGrad(this.handle, on);
    return this;
  }

  /** The accumulated gradient (a new tensor sharing its storage), or null before any backward. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }

  /** Sets or (null) clears the gradient, as zero_grad(set_to_none=True). */
  setGrad(g: Tensor | null): void {
    // libtorch accepts any tensor here; a wrong one would only fail (or broadcast) at the next step.
    if (g !== null) {
      if (g.shape.join() !== this.shape.join() || g.shape.length !== this.shape.length) {
        throw new SpotdiffError('ERR_SHAPE', `setGrad: gradient of shape [${g.shape.join(', ')}] for a tensor of shape [${this.shape.join(', ')}]`);
      }
      if (g.dtype !== this.dtype || g.device !== this.device) {
        throw new SpotdiffError('ERR_DTYPE', `setGrad: gradient is ${g.dtype} on ${g.device}, the tensor ${this.dtype} on ${this.device}`);
      }
    }
    native.setGrad(this.handle, g === null ? null : g.handle);
  }

  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    const self = this.handle;
    const g = gradient?.handle ?? null; // a disposed tensor reports ERR_DISPOSED, not ERR_TORCH
    try {
      native.backward(self, g, opts.retainGraph ?? false, opts.createGraph ?? false);
    } catch (e) {
      throw new SpotdiffError('ERR_TORCH', (e as Error).message, { cause: e });
    }
  }

  /**
   * A copy of the values (C order, on the host). Always a copy, never a view of the tensor's
   * memory: native/src/addon.cc (ToData) has the measurements behind that choice.
   */
  data(): HostArrayOf<D> {
    return native.toData(this.handle) as HostArrayOf<D>;
  }

  /** The values as float32 whatever the dtype (int64 converts through Number). */
  toFloat32(): Float32Array {
    const d: HostArray = native.toData(this.handle);
    if (d instanceof Float32Array) return d;
    if (d instanceof BigInt64Array) return Float32Array.from(d, (v) => Number(v));
    return Float32Array.from(d);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new SpotdiffError('ERR_SHAPE', `item() needs a one-element tensor, got shape [${this.shape.join(', ')}]`);
    const d = native.toData(this.handle);
    return Number(d[0]);
  }

  /** Frees the native memory now. Safe to call twice. */
  dispose(): void {
    if (this.#handle === null) return;
    native.free(this.#handle);
    this.#handle = null;
    release(this);
  }

  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}

/** Tensors that are alive in the addon right now (for leak tests). */
export function liveTensorCount(): number {
  return native.liveCount();
}
