import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';
import { assertMatches } from '../../helpers/close.js';
import { gradcheck, randn64 } from '../../helpers/gradcheck.js';

const ref = new TorchReference();
T.manualSeed(21);
const a = ref.input('a', T.randn([3, 4, 5]));
const a64 = ref.input('a64', T.randn([4, 6], { dtype: 'float64' }));
const big = ref.input('big', T.randn([64, 300]));
const ia = ref.input('ia', T.randint(-9, 10, [3, 4]));
const m = ref.input('m', T.gt(T.randn([3, 4]), -1));
const none = ref.input('none', T.zeros([2, 2], { dtype: 'bool' }));

type Case = [name: string, run: () => T.Tensor | T.Tensor[], python: string];
const cases: Case[] = [
  ['sum_all', () => T.sum(a), 'a.sum()'],
  ['sum_dim', () => T.sum(a, 1), 'a.sum(1)'],
  ['sum_dims_keep', () => T.sum(a, [0, 2], true), 'a.sum((0, 2), keepdim=True)'],
  ['sum_neg_dim', () => T.sum(a, -1), 'a.sum(-1)'],
  ['sum_big', () => T.sum(big, 1), 'big.sum(1)'],
  ['sum_int', () => T.sum(ia), 'ia.sum()'],
  ['sum_int_dim', () => T.sum(ia, 0), 'ia.sum(0)'],
  ['sum_bool', () => T.sum(m), 'm.sum()'],
  ['mean_all', () => T.mean(a), 'a.mean()'],
  ['mean_dims', () => T.mean(a, [1, 2]), 'a.mean((1, 2))'],
  ['mean_keep', () => T.mean(a64, 0, true), 'a64.mean(0, keepdim=True)'],
  ['var_all', () => T.variance(a), 'a.var()'],
  ['var_dim', () => T.variance(a, 2), 'a.var(2)'],
  ['var_pop', () => T.variance(a, [0, 1], 0, true), 'a.var((0, 1), unbiased=False, keepdim=True)'],
  ['var_unbiased_flag', () => T.variance(a64, 1, false), 'a64.var(1, unbiased=False)'],
  ['std_all', () => T.std(a), 'a.std()'],
  ['std_dim', () => T.std(a64, 0), 'a64.std(0)'],
  ['std_pop', () => T.std(a, 1, 0), 'a.std(1, unbiased=False)'],
  ['std_unbiased_flag', () => T.std(a, [0, 2], true, true), 'a.std((0, 2), unbiased=True, keepdim=True)'],
  ['std_biased_flag', () => T.std(a, null, false), 'a.std(unbiased=False)'],
  ['amax', () => T.amax(a, 1), 'a.amax(1)'],
  ['amax_dims', () => T.amax(a, [0, 2], true), 'a.amax((0, 2), keepdim=True)'],
  ['amin', () => T.amin(a, -1), 'a.amin(-1)'],
  ['amax_int', () => T.amax(ia, 0), 'ia.amax(0)'],
  ['max_all', () => T.maxAll(a), 'a.max()'],
  ['min_all', () => T.minAll(a64), 'a64.min()'],
  ['max_dim', () => T.max(a, 1), 'a.max(1)'],
  ['max_dim_keep', () => T.max(a, 2, true), 'a.max(2, keepdim=True)'],
  ['min_dim', () => T.min(a64, 0), 'a64.min(0)'],
  ['max_int', () => T.max(ia, 1), 'ia.max(1)'],
  ['argmax_all', () => T.argmax(a), 'a.argmax()'],
  ['argmax_dim', () => T.argmax(a, 1, true), 'a.argmax(1, keepdim=True)'],
  ['argmin_dim', () => T.argmin(a, 2), 'a.argmin(2)'],
  ['argmin_all', () => T.argmin(a64), 'a64.argmin()'],
  ['logsumexp', () => T.logsumexp(a, 1), 'torch.logsumexp(a, 1)'],
  ['logsumexp_dims', () => T.logsumexp(T.mul(a, 50), [0, 2], true), 'torch.logsumexp(a * 50, (0, 2), keepdim=True)'],
  ['prod', () => T.prod(a, 1), 'a.prod(1)'],
  ['prod_int', () => T.prod(ia, 0, true), 'ia.prod(0, keepdim=True)'],
  ['norm_all', () => T.norm(a), 'torch.norm(a)'],
  ['norm_p1', () => T.norm(a, 1, 1), 'torch.norm(a, 1, dim=1)'],
  ['norm_p3_keep', () => T.norm(a64, 3, [1], true), 'torch.norm(a64, 3, dim=1, keepdim=True)'],
  ['norm_inf', () => T.norm(a, Infinity, [0, 1]), "torch.norm(a, float('inf'), dim=(0, 1))"],
  ['cumsum', () => T.cumsum(a, 2), 'a.cumsum(2)'],
  ['cumsum_int', () => T.cumsum(ia, 1), 'ia.cumsum(1)'],
  ['topk', () => T.topk(a, 3), 'a.topk(3)'],
  ['topk_smallest_dim', () => T.topk(a, 2, 1, false), 'a.topk(2, dim=1, largest=False)'],
  ['sort', () => T.sort(a), 'a.sort()'],
  ['sort_desc', () => T.sort(a64, 0, true), 'a64.sort(0, descending=True)'],
  ['sort_stable_ties', () => T.sort(ia, 1, false, true), 'torch.sort(ia, dim=1, stable=True)'],
  ['argsort', () => T.argsort(a, 1), 'a.argsort(1)'],
  ['argsort_desc', () => T.argsort(a64, -1, true), 'a64.argsort(-1, descending=True)'],
  ['all', () => T.all(m), 'm.all()'],
  ['any', () => T.any(m), 'm.any()'],
  ['all_false', () => T.all(none), 'none.all()'],
  ['any_false', () => T.any(none), 'none.any()'],
  ['quantile_all', () => T.quantile(a, 0.3), 'torch.quantile(a, 0.3)'],
  ['quantile_dim', () => T.quantile(a64, 0.9, 1, true), 'torch.quantile(a64, 0.9, dim=1, keepdim=True)'],
];
for (const [name, , python] of cases) ref.case(name, python);
const results = ref.run();

test('reductions match PyTorch (values 1e-5 / 1e-12 relative; indices exact)', () => {
  T.tidy(() => {
    for (const [name, run] of cases) {
      const out = run();
      const expected = refOutputs(results, name);
      const outs = Array.isArray(out) ? out : [out];
      assert.equal(outs.length, expected.length, `${name}: ${outs.length} outputs, expected ${expected.length}`);
      outs.forEach((t, k) => assertMatches(`${name}[${k}]`, t, expected[k]!));
    }
  });
});

test('reduction gradients match finite differences (float64)', () => {
  const x = (seed: number, shape: readonly number[] = [2, 3]): T.Tensor => randn64(shape, seed);
  const checks: [string, (t: T.Tensor) => T.Tensor, T.Tensor][] = [
    ['sum_all', (t) => T.sum(t), x(1)],
    ['sum_dim', (t) => T.sum(t, 1, true), x(2)],
    ['mean', (t) => T.mean(t, 0), x(3)],
    ['mean_all', (t) => T.mean(t), x(4)],
    ['var', (t) => T.variance(t, 1), x(5)],
    ['var_pop_all', (t) => T.variance(t, null, 0), x(6)],
    ['std', (t) => T.std(t, 0), x(7, [3, 2])],
    ['std_all_biased', (t) => T.std(t, null, false), x(8)],
    ['amax', (t) => T.amax(t, 1), x(9)],
    ['amin', (t) => T.amin(t, [0, 1]), x(10)],
    ['max_all', (t) => T.maxAll(t), x(11)],
    ['min_all', (t) => T.minAll(t), x(12)],
    ['max_values', (t) => T.max(t, 1)[0], x(13)],
    ['min_values', (t) => T.min(t, 0, true)[0], x(14)],
    ['logsumexp', (t) => T.logsumexp(t, 1), x(15)],
    ['prod', (t) => T.prod(t, 1), x(16)],
    ['norm2', (t) => T.norm(t), x(17)],
    ['norm1_dim', (t) => T.norm(t, 1, 1), x(18)],
    ['norm3_dim', (t) => T.norm(t, 3, 0, true), x(19)],
    ['cumsum', (t) => T.cumsum(t, 1), x(20)],
    ['topk_values', (t) => T.topk(t, 2)[0], x(21)],
    ['sort_values', (t) => T.sort(t, 0, true)[0], x(22)],
    ['quantile', (t) => T.quantile(t, 0.4, 1), x(23)],
  ];
  for (const [name, f, input] of checks) gradcheck(name, f, [input]);
});

test('max with indices: the gradient goes to the arg-max positions only', () => {
  T.tidy(() => {
    const t = T.tensor(Float64Array.of(1, 5, 2, 7, 3, 4), [2, 3], { dtype: 'float64' }).setRequiresGrad();
    const [values, indices] = T.max(t, 1);
    assert.deepEqual([...indices.data()], [1n, 0n]);
    T.sum(T.mul(values, T.tensor(Float64Array.of(2, 3), [2], { dtype: 'float64' }))).backward();
    assert.deepEqual([...t.grad!.data()], [0, 2, 0, 3, 0, 0]);
  });
});
