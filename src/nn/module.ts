import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';

/** Values a state dict may be loaded from: engine tensors, or host copies (checkpoint readers). */
export interface HostValues {
  shape: readonly number[];
  /** float32 values (C order); int64 buffers may come as BigInt64Array. */
  values: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
}
export type StateValue = T.Tensor | HostValues;

/**
 * The base of every layer and model, as torch.nn.Module: named parameters and buffers in
 * registration order (so names and order match torchvision's state dicts), child modules,
 * train/eval mode, and state dicts. A module owns its tensors: they are kept out of tidy
 * scopes and freed by dispose().
 */
export abstract class Module {
  training = true;
  readonly #params = new Map<string, T.Tensor>();
  readonly #buffers = new Map<string, T.Tensor>();
  readonly #children = new Map<string, Module>();

  protected registerParameter(name: string, t: T.Tensor): T.Tensor {
    T.keep(t);
    if (!t.requiresGrad) t.setRequiresGrad(true);
    this.#params.set(name, t);
    return t;
  }

  protected registerBuffer(name: string, t: T.Tensor): T.Tensor {
    T.keep(t);
    this.#buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /**
   * Puts `m` in the place of the child `name` (torch's setattr of a submodule): same name, same
   * place in the state dict, and this module's fields and arrays that held the old child (what
   * forward calls) now hold `m`. The old child's tensors are not freed: `m` may share them.
   */
  replaceChild(name: string, m: Module): void {
    const old = this.#children.get(name);
    if (old === undefined) throw new SpotdiffError('ERR_NOT_FOUND', `no child module "${name}" to replace`);
    this.#children.set(name, m);
    const fields = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const v = fields[key];
      if (v === old) fields[key] = m;
      else if (Array.isArray(v)) v.forEach((e: unknown, i) => { if (e === old) v[i] = m; });
    }
  }

  children(): IterableIterator<[string, Module]> {
    return this.#children.entries();
  }

  /** Every parameter with its dotted name ("layer1.0.conv1.weight"). */
  namedParameters(prefix = ''): [string, T.Tensor][] {
    const out: [string, T.Tensor][] = [];
    for (const [n, p] of this.#params) out.push([prefix + n, p]);
    for (const [n, c] of this.#children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): T.Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, T.Tensor][] {
    const out: [string, T.Tensor][] = [];
    for (const [n, b] of this.#buffers) out.push([prefix + n, b]);
    for (const [n, c] of this.#children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** Parameters and buffers by name, in torch's state_dict order (the module's own first, then children). */
  stateDict(prefix = ''): Map<string, T.Tensor> {
    const out = new Map<string, T.Tensor>();
    for (const [n, p] of this.#params) out.set(prefix + n, p);
    for (const [n, b] of this.#buffers) out.set(prefix + n, b);
    for (const [n, c] of this.#children) for (const [k, v] of c.stateDict(`${prefix}${n}.`)) out.set(k, v);
    return out;
  }

  /**
   * Copies values into this module's tensors. With strict (default), every name must be
   * present with the same shape and nothing extra may be given; one error lists every problem.
   */
  loadStateDict(source: ReadonlyMap<string, StateValue>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missing: string[] = [];
    const unexpected: string[] = [];
    const mismatched: string[] = [];
    for (const [name, t] of own) {
      const v = source.get(name);
      if (v === undefined) missing.push(name);
      else if (!sameShape(t.shape, v.shape)) mismatched.push(`${name}: expected [${t.shape.join(', ')}], got [${v.shape.join(', ')}]`);
    }
    for (const name of source.keys()) if (!own.has(name)) unexpected.push(name);
    if (mismatched.length > 0 || (strict && (missing.length > 0 || unexpected.length > 0))) {
      const parts: string[] = [];
      if (missing.length) parts.push(`missing (${missing.length}): ${listNames(missing)}`);
      if (unexpected.length) parts.push(`unexpected (${unexpected.length}): ${listNames(unexpected)}`);
      if (mismatched.length) parts.push(`shape mismatch (${mismatched.length}): ${listNames(mismatched)}`);
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', `the weights do not fit this model: ${parts.join('; ')}`);
    }
    T.noGrad(() =>
      T.tidy(() => {
        for (const [name, t] of own) {
          const v = source.get(name);
          if (v === undefined) continue;
          const src = v instanceof T.Tensor ? v : T.tensor(v.values, v.shape);
          T.copyInPlace(t, src);
        }
      }),
    );
  }

  train(on = true): this {
    this.training = on;
    for (const c of this.#children.values()) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient (set to none, as torch's default zero_grad). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.setGrad(null);
  }

  /** Frees every parameter and buffer of this module and its children. */
  dispose(): void {
    for (const p of this.#params.values()) p.dispose();
    for (const b of this.#buffers.values()) b.dispose();
    for (const c of this.#children.values()) c.dispose();
  }

  abstract forward(x: T.Tensor): T.Tensor;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function listNames(names: string[]): string {
  return names.length <= 12 ? names.join(', ') : `${names.slice(0, 12).join(', ')}, ... (${names.length - 12} more)`;
}
