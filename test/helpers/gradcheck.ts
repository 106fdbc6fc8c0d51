import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { Random } from '../../src/util/random.js';

export interface GradcheckOptions {
  /** Central-difference step. */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Indices of the inputs to differentiate (default: all). */
  wrt?: readonly number[];
}

/**
 * Checks autograd against central finite differences in float64. The op's output y is
 * projected on fixed random weights w (L = Σ w·y), so every output element counts; the
 * analytic side runs y.backward(w), which also exercises backward's gradient argument. Each
 * element of each checked input is perturbed by ±eps and (L(x+eps) − L(x−eps)) / 2eps must
 * match dL/dx within atol + rtol·|numeric|. Keep inputs to a few elements. fn must be
 * deterministic (reseed inside it if it draws random numbers) and its inputs away from kinks.
 */
export function gradcheck(label: string, fn: (...xs: T.Tensor[]) => T.Tensor, inputs: readonly T.Tensor[], o: GradcheckOptions = {}): void {
  const eps = o.eps ?? 1e-6;
  const rtol = o.rtol ?? 1e-6;
  const atol = o.atol ?? 1e-8;
  const wrt = o.wrt ?? inputs.map((_, i) => i);
  // Inputs are tiny: one intra-op thread avoids OpenMP fork/join costs that dominate (and on
  // a loaded machine multiply) the hundreds of evaluations. The numerics do not depend on it.
  const threads = T.getNumThreads();
  T.setNumThreads(1);
  try {
    check(label, fn, inputs, wrt, eps, rtol, atol);
  } finally {
    T.setNumThreads(threads);
  }
}

function check(label: string, fn: (...xs: T.Tensor[]) => T.Tensor, inputs: readonly T.Tensor[], wrt: readonly number[], eps: number, rtol: number, atol: number): void {
  T.tidy(() => {
    for (const i of wrt) assert.equal(inputs[i]!.dtype, 'float64', `${label}: gradcheck input ${i} must be float64`);
    const hosts = inputs.map((t) => t.data());
    const shapes = inputs.map((t) => [...t.shape]);
    const build = (replace?: { i: number; values: Float64Array }): T.Tensor[] =>
      inputs.map((t, i) => (replace !== undefined && replace.i === i ? T.tensor(replace.values, shapes[i], { dtype: 'float64' }) : wrt.includes(i) ? T.clone(t) : t));

    const leaves = build().map((t, i) => (wrt.includes(i) ? T.detach(t).setRequiresGrad() : t));
    const y = fn(...leaves);
    assert.equal(y.dtype, 'float64', `${label}: output dtype ${y.dtype}, expected float64`);
    const rng = new Random(0x9e11 + y.size);
    const w = Float64Array.from({ length: y.size }, () => rng.uniform(-1, 1));
    y.backward(T.tensor(w, [...y.shape], { dtype: 'float64' }));

    let current = -1;
    const project = (values: Float64Array): number => {
      const out = T.tidy(() => T.noGrad(() => fn(...build({ i: current, values })).data() as Float64Array));
      let s = 0;
      for (let k = 0; k < out.length; k++) s += out[k]! * w[k]!;
      return s;
    };
    for (const i of wrt) {
      current = i;
      const g = leaves[i]!.grad;
      const analytic = g === null ? new Float64Array(hosts[i]!.length) : (g.data() as Float64Array);
      const base = hosts[i] as Float64Array;
      for (let k = 0; k < base.length; k++) {
        const plus = Float64Array.from(base);
        const minus = Float64Array.from(base);
        plus[k] = base[k]! + eps;
        minus[k] = base[k]! - eps;
        const numeric = (project(plus) - project(minus)) / (2 * eps);
        const diff = Math.abs(analytic[k]! - numeric);
        if (!(diff <= atol + rtol * Math.abs(numeric))) {
          assert.fail(`${label}: d/d(input ${i})[${k}]: autograd ${analytic[k]}, finite difference ${numeric} (diff ${diff.toExponential(2)})`);
        }
      }
    }
  });
}

/** A float64 tensor of seeded normal values (plain JS PRNG: leaves torch's generator alone). */
export function randn64(shape: readonly number[], seed: number, scale = 1, shift = 0): T.Tensor {
  const rng = new Random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return T.tensor(Float64Array.from({ length: n }, () => shift + scale * rng.normal()), shape, { dtype: 'float64' });
}

/** A float64 tensor of seeded values in [lo, hi). */
export function uniform64(shape: readonly number[], seed: number, lo: number, hi: number): T.Tensor {
  const rng = new Random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return T.tensor(Float64Array.from({ length: n }, () => rng.uniform(lo, hi)), shape, { dtype: 'float64' });
}
