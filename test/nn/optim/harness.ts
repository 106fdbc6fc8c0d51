import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { Adam, AdamW, SGD, type Optimizer, type BaseHyperparameters } from '../../../src/nn/index.js';
import { maxError, pack, torchJson, values } from '../torch-ref.js';

/** One optimiser run compared with torch.optim: the same parameters, gradients and groups. */
export interface Scenario {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  groups: { params: number[]; options: Record<string, number | boolean> }[];
  /** After this step (0-based), every group's lr is multiplied by factor (a scheduler's job). */
  lrChange?: { afterStep: number; factor: number };
}

export const STEPS = 5;
export const TOLERANCE = 1e-6;
const SHAPES = [[4, 3], [5], [2, 2, 3]];
/** Parameter 2 has no gradient at these steps: torch skips it and starts its state later. */
const MISSING: [number, number][] = [
  [0, 2],
  [2, 2],
];

function torchKwargs(o: Record<string, number | boolean>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'beta1' || k === 'beta2') continue;
    out[k === 'weightDecay' ? 'weight_decay' : k] = v;
  }
  if ('beta1' in o || 'beta2' in o) out.betas = [o.beta1 ?? 0.9, o.beta2 ?? 0.999];
  return out;
}

function make(s: Scenario, params: T.Tensor[]): Optimizer<BaseHyperparameters> {
  const groups = s.groups.map((g) => ({ params: g.params.map((i) => params[i]!), ...g.options }));
  if (s.optimizer === 'SGD') return new SGD(groups as never, { lr: 0 });
  return s.optimizer === 'Adam' ? new Adam(groups) : new AdamW(groups);
}

/** Runs every scenario in both dtypes on both sides; returns each one's worst error over all steps. */
export function compareOptimizers(scenarios: Scenario[]): { name: string; error: number }[] {
  const runs = (['float64', 'float32'] as const).flatMap((dtype) => scenarios.map((s) => ({ s, dtype })));
  const inputs = runs.map(({ s, dtype }) =>
    T.tidy(() => ({
      params: SHAPES.map((shape) => pack(T.randn(shape, { dtype }))),
      grads: Array.from({ length: STEPS }, (_, step) =>
        SHAPES.map((shape, i) => (MISSING.some(([a, b]) => a === step && b === i) ? null : pack(T.randn(shape, { dtype })))),
      ),
      optimizer: s.optimizer,
      groups: s.groups.map((g) => ({ params: g.params, kwargs: torchKwargs(g.options) })),
      lrChange: s.lrChange ?? null,
    })),
  );
  const expected = torchJson<number[][][][]>(
    `
results = []
for run in payload:
    params = [tensor(p).requires_grad_(True) for p in run['params']]
    groups = [{'params': [params[i] for i in g['params']], **g['kwargs']} for g in run['groups']]
    cls = getattr(torch.optim, run['optimizer'])
    opt = cls(groups, lr=groups[0]['lr'], foreach=False) if run['optimizer'] == 'SGD' else cls(groups, foreach=False)
    trace = []
    for step, grads in enumerate(run['grads']):
        for p, g in zip(params, grads):
            p.grad = None if g is None else tensor(g)
        opt.step()
        change = run['lrChange']
        if change is not None and step == change['afterStep']:
            for g in opt.param_groups:
                g['lr'] *= change['factor']
        trace.append([flat(p) for p in params])
    results.append(trace)
print(json.dumps(results))
`,
    inputs,
  );
  return runs.map(({ s, dtype }, r) => {
    const input = inputs[r]!;
    const params = input.params.map((p) => T.keep(T.tensor(Float64Array.from(p.values), p.shape, { dtype })).setRequiresGrad(true));
    const opt = make(s, params);
    let worst = 0;
    for (let step = 0; step < STEPS; step++) {
      T.tidy(() => {
        input.grads[step]!.forEach((g, i) => params[i]!.setGrad(g === null ? null : T.tensor(Float64Array.from(g.values), g.shape, { dtype })));
        opt.step();
        if (s.lrChange && step === s.lrChange.afterStep) for (const g of opt.paramGroups) g.lr *= s.lrChange.factor;
        params.forEach((p, i) => (worst = Math.max(worst, maxError(values(p), expected[r]![step]![i]!))));
      });
    }
    opt.dispose();
    T.dispose(params);
    const name = `${s.name} (${dtype})`;
    assert.ok(worst <= TOLERANCE, `${name}: worst parameter error ${worst} > ${TOLERANCE}`);
    return { name, error: worst };
  });
}
