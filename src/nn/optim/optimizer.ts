import * as T from '../../tensor/index.js';
import type { StateValue } from '../module.js';
import { SpotdiffError } from '../../util/errors.js';

/** Hyperparameters every optimiser has per group; subclasses add their own (numbers or flags). */
export interface BaseHyperparameters {
  lr: number;
  weightDecay: number;
}

/** A group of parameters sharing hyperparameters; a scheduler changes `lr` between steps. */
export type ParamGroup<H extends BaseHyperparameters> = H & { readonly params: readonly T.Tensor[] };

/** A group as given to a constructor: unset hyperparameters take the optimiser's defaults. */
export type ParamGroupSpec<H extends BaseHyperparameters> = Partial<H> & { params: readonly T.Tensor[] };

/**
 * An optimiser's state as named tensors and plain numbers, ready for a safetensors file
 * (tensors, plus numbers in its metadata). Parameters are numbered 0, 1, ... over all groups
 * in order, as torch's state_dict numbers them.
 * - tensors: "state.<i>.<name>" (momentum_buffer; exp_avg, exp_avg_sq);
 * - numbers: "groups", "group.<g>.params" (how many), "group.<g>.<hyperparameter>"
 *   (flags as 0/1), and per-parameter numbers "state.<i>.<name>" (step).
 */
export interface OptimizerState {
  tensors: Map<string, T.Tensor>;
  numbers: Record<string, number>;
}

/** What loadStateDict accepts: engine tensors or host copies (a checkpoint reader's). */
export interface OptimizerStateSource {
  tensors: ReadonlyMap<string, StateValue>;
  numbers: Readonly<Record<string, number>>;
}

/**
 * The base of SGD, Adam and AdamW, as torch.optim.Optimizer: parameter groups with their own
 * hyperparameters, per-parameter state created at a parameter's first update, step(),
 * zeroGrad(), and a state dict for exact resume. The state tensors are owned here (kept out
 * of tidy scopes) and freed by dispose().
 */
export abstract class Optimizer<H extends BaseHyperparameters> {
  readonly paramGroups: ParamGroup<H>[];
  /** Per-parameter state by flat parameter index; empty until the parameter's first update. */
  protected readonly tensorState: Map<string, T.Tensor>[];
  protected readonly numberState: Map<string, number>[];
  #disposed = false;

  /**
   * @param stateTensorNames the per-parameter tensors this optimiser keeps (torch's names);
   * @param stateNumberNames the per-parameter numbers it keeps.
   */
  protected constructor(
    readonly name: string,
    params: readonly T.Tensor[] | readonly ParamGroupSpec<H>[],
    protected readonly defaults: H,
    private readonly stateTensorNames: readonly string[],
    private readonly stateNumberNames: readonly string[],
  ) {
    const specs: readonly ParamGroupSpec<H>[] =
      params.length > 0 && params[0] instanceof T.Tensor ? [{ params: params as readonly T.Tensor[] } as ParamGroupSpec<H>] : (params as readonly ParamGroupSpec<H>[]);
    const seen = new Set<T.Tensor>();
    this.paramGroups = specs.map((spec, g) => {
      if (!Array.isArray(spec.params)) throw new SpotdiffError('ERR_BAD_INPUT', `${name}: parameter group ${g} has no params array`);
      for (const p of spec.params) {
        if (!(p instanceof T.Tensor)) throw new SpotdiffError('ERR_BAD_INPUT', `${name}: parameter group ${g} holds something that is not a tensor`);
        if (p.isDisposed) throw new SpotdiffError('ERR_DISPOSED', `${name}: parameter group ${g} holds a disposed tensor`);
        if (!T.isFloatDType(p.dtype)) throw new SpotdiffError('ERR_DTYPE', `${name}: parameters must be floating-point tensors, got ${p.dtype} in group ${g}`);
        if (seen.has(p)) throw new SpotdiffError('ERR_BAD_INPUT', `${name}: a parameter appears more than once (each may be in one group only)`);
        seen.add(p);
      }
      const group = { ...defaults, ...spec, params: [...spec.params] } as ParamGroup<H>;
      this.checkHyperparameters(group, `group ${g}`);
      return group;
    });
    if (seen.size === 0) throw new SpotdiffError('ERR_BAD_INPUT', `${name}: got an empty parameter list (nothing to optimise)`);
    this.tensorState = [...seen].map(() => new Map());
    this.numberState = [...seen].map(() => new Map());
  }

  /** Throws a SpotdiffError naming `where` when a hyperparameter is out of range. */
  protected checkHyperparameters(h: H, where: string): void {
    checkNumber(this.name, where, 'lr', h.lr, (v) => v >= 0, '≥ 0');
    checkNumber(this.name, where, 'weightDecay', h.weightDecay, (v) => v >= 0, '≥ 0');
  }

  /** Updates the parameters of one group that have a gradient; `first` is the flat index of its first parameter. Runs under noGrad and tidy. */
  protected abstract updateGroup(group: ParamGroup<H>, first: number): void;

  /** Every parameter, in flat-index order. */
  parameters(): T.Tensor[] {
    return this.paramGroups.flatMap((g) => [...g.params]);
  }

  /** One update of every parameter that has a gradient (parameters without one are skipped, as torch). */
  step(): void {
    this.#checkAlive();
    this.paramGroups.forEach((g, i) => this.checkHyperparameters(g, `group ${i}`));
    T.noGrad(() =>
      T.tidy(() => {
        let first = 0;
        for (const g of this.paramGroups) {
          this.updateGroup(g, first);
          first += g.params.length;
        }
      }),
    );
  }

  /** Clears every gradient (set to none: a parameter without a gradient is skipped by step()). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.setGrad(null);
  }

  /** Copies of the state (the caller owns them) and the numbers; see OptimizerState. */
  stateDict(): OptimizerState {
    this.#checkAlive();
    const numbers: Record<string, number> = { groups: this.paramGroups.length };
    this.paramGroups.forEach((g, i) => {
      numbers[`group.${i}.params`] = g.params.length;
      for (const key of Object.keys(this.defaults)) numbers[`group.${i}.${key}`] = Number(g[key as keyof H]);
    });
    const tensors = new Map<string, T.Tensor>();
    T.noGrad(() => {
      this.tensorState.forEach((m, i) => {
        for (const [n, t] of m) tensors.set(`state.${i}.${n}`, T.clone(t));
      });
    });
    this.numberState.forEach((m, i) => {
      for (const [n, v] of m) numbers[`state.${i}.${n}`] = v;
    });
    return { tensors, numbers };
  }

  /**
   * Replaces hyperparameters and state with a saved state dict (values are copied). The
   * groups must have the same sizes and each state tensor its parameter's shape; every
   * problem is listed in one error and nothing changes when there is one.
   */
  loadStateDict(source: OptimizerStateSource): void {
    this.#checkAlive();
    const params = this.parameters();
    const problems: string[] = [];
    const numbers = new Map(Object.entries(source.numbers));
    const take = (key: string): number | undefined => {
      const v = numbers.get(key);
      numbers.delete(key);
      if (v === undefined) problems.push(`missing ${key}`);
      else if (typeof v !== 'number' || Number.isNaN(v)) problems.push(`${key} is not a number`);
      return v;
    };
    const groupCount = take('groups');
    if (groupCount !== undefined && groupCount !== this.paramGroups.length) problems.push(`${groupCount} parameter groups saved, this optimiser has ${this.paramGroups.length}`);
    const hypers = this.paramGroups.map((g, i) => {
      const size = take(`group.${i}.params`);
      if (size !== undefined && size !== g.params.length) problems.push(`group ${i} has ${size} parameters saved, ${g.params.length} here`);
      const h: Record<string, number | boolean> = {};
      for (const key of Object.keys(this.defaults)) {
        const v = take(`group.${i}.${key}`);
        if (v !== undefined) h[key] = typeof this.defaults[key as keyof H] === 'boolean' ? v !== 0 : v;
      }
      return h;
    });
    const perParam = params.map(() => ({ tensors: new Map<string, StateValue>(), numbers: new Map<string, number>() }));
    for (const [key, v] of numbers) {
      const m = /^state\.(\d+)\.(.+)$/.exec(key);
      const i = m ? Number(m[1]) : -1;
      if (!m || i >= params.length || !this.stateNumberNames.includes(m[2]!)) problems.push(`unexpected number ${key}`);
      else perParam[i]!.numbers.set(m[2]!, v);
    }
    for (const [key, v] of source.tensors) {
      const m = /^state\.(\d+)\.(.+)$/.exec(key);
      const i = m ? Number(m[1]) : -1;
      if (!m || i >= params.length || !this.stateTensorNames.includes(m[2]!)) {
        problems.push(`unexpected tensor ${key}`);
        continue;
      }
      const expected = params[i]!.shape;
      if (v.shape.length !== expected.length || v.shape.some((s, d) => s !== expected[d])) {
        problems.push(`${key}: expected [${expected.join(', ')}], got [${v.shape.join(', ')}]`);
      } else perParam[i]!.tensors.set(m[2]!, v);
    }
    perParam.forEach((s, i) => {
      if (s.tensors.size + s.numbers.size === 0) return;
      for (const n of this.stateTensorNames) if (!s.tensors.has(n)) problems.push(`missing state.${i}.${n}`);
      for (const n of this.stateNumberNames) if (!s.numbers.has(n)) problems.push(`missing state.${i}.${n}`);
    });
    hypers.forEach((h, i) => {
      try {
        this.checkHyperparameters({ ...this.paramGroups[i]!, ...h }, `group ${i}`);
      } catch (e) {
        problems.push((e as Error).message);
      }
    });
    if (problems.length > 0) {
      const shown = problems.length <= 12 ? problems.join('; ') : `${problems.slice(0, 12).join('; ')}; ... (${problems.length - 12} more)`;
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${this.name}: the saved optimiser state does not fit: ${shown}`);
    }
    hypers.forEach((h, i) => Object.assign(this.paramGroups[i]!, h));
    this.#disposeState();
    T.noGrad(() =>
      T.tidy(() => {
        perParam.forEach((s, i) => {
          const p = params[i]!;
          for (const [n, v] of s.tensors) {
            const src = v instanceof T.Tensor ? v : T.tensor(v.values, v.shape);
            this.tensorState[i]!.set(n, T.keep(T.clone(T.toDevice(T.toDtype(src, p.dtype), p.device))));
          }
          for (const [n, v] of s.numbers) this.numberState[i]!.set(n, v);
        });
      }),
    );
  }

  /** Frees the state tensors; the optimiser cannot step afterwards. */
  dispose(): void {
    this.#disposeState();
    this.#disposed = true;
  }

  #disposeState(): void {
    for (const m of this.tensorState) {
      for (const t of m.values()) t.dispose();
      m.clear();
    }
    for (const m of this.numberState) m.clear();
  }

  #checkAlive(): void {
    if (this.#disposed) throw new SpotdiffError('ERR_DISPOSED', `${this.name}: this optimiser was disposed`);
  }
}

/** The parameters of a group that have a gradient now, with their flat indices. */
export function withGradient(group: { readonly params: readonly T.Tensor[] }, first: number): { params: T.Tensor[]; indices: number[] } {
  const params: T.Tensor[] = [];
  const indices: number[] = [];
  group.params.forEach((p, j) => {
    if (p.grad !== null) {
      params.push(p);
      indices.push(first + j);
    }
  });
  return { params, indices };
}

export function checkNumber(optimizer: string, where: string, key: string, v: unknown, ok: (v: number) => boolean, range: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new SpotdiffError('ERR_BAD_INPUT', `${optimizer}: ${key} must be ${range}, got ${String(v)} (${where})`);
}
