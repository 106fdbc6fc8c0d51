import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { maxError, pack, torchJson, values, type Packed } from '../torch-ref.js';

/**
 * One loss evaluation compared with PyTorch: the same inputs go to `run` (spotdiff) and to
 * the Python reference `ref(x, **kwargs)`; the value and the gradients of the inputs named
 * in `grads` must agree within `tol` (|a − e| ≤ tol·(1 + |e|)).
 */
export interface LossCase {
  name: string;
  inputs: Record<string, T.Tensor>;
  grads: string[];
  kwargs?: Record<string, unknown>;
  /** Backward seed for an unreduced loss. */
  upstream?: T.Tensor;
  run: (x: Record<string, T.Tensor>) => T.Tensor;
}

interface Reference {
  value: number[];
  grads: Record<string, number[] | null>;
}

/** Tolerances of the comparison: float64 1e-6, float32 1e-5. */
export const tolerance = (dtype: string): number => (dtype === 'float64' ? 1e-6 : 1e-5);

/**
 * Runs every case on both sides; `refSource` defines `def ref(x, **kw)` in Python, returning
 * the loss from the dict of torch tensors x. Returns each case's worst error.
 */
export function compareWithTorch(refSource: string, cases: LossCase[]): { name: string; error: number }[] {
  const payload = cases.map((c) => ({
    inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, pack(v)])) as Record<string, Packed>,
    grads: c.grads,
    kwargs: c.kwargs ?? {},
    upstream: c.upstream ? pack(c.upstream) : null,
  }));
  const expected = torchJson<Reference[]>(
    `${refSource}
out = []
for c in payload:
    x = {k: tensor(v) for k, v in c['inputs'].items()}
    for k in c['grads']:
        x[k].requires_grad_(True)
    loss = ref(x, **c['kwargs'])
    loss.backward(None if c['upstream'] is None else tensor(c['upstream']))
    out.append({'value': flat(loss), 'grads': {k: (None if x[k].grad is None else flat(x[k].grad)) for k in c['grads']}})
print(json.dumps(out))
`,
    payload,
  );
  return cases.map((c, i) => {
    const ref = expected[i]!;
    const error = T.tidy(() => {
      const x = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, c.grads.includes(k) ? T.detach(v).setRequiresGrad(true) : v]));
      const loss = c.run(x);
      loss.backward(c.upstream);
      let worst = maxError(values(loss), ref.value);
      for (const k of c.grads) {
        const g = x[k]!.grad;
        const got = g === null ? new Array<number>(x[k]!.size).fill(0) : values(g);
        const want = ref.grads[k] ?? new Array<number>(x[k]!.size).fill(0);
        worst = Math.max(worst, maxError(got, want));
      }
      return worst;
    });
    const dtype = Object.values(c.inputs).find((t) => T.isFloatDType(t.dtype))!.dtype;
    assert.ok(error <= tolerance(dtype), `${c.name} (${dtype}): worst error ${error} > ${tolerance(dtype)}`);
    return { name: `${c.name} (${dtype})`, error };
  });
}
