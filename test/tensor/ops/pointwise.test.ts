import { test } from 'node:test';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';
import { assertMatches } from '../../helpers/close.js';
import { gradcheck, randn64, uniform64 } from '../../helpers/gradcheck.js';
import assert from 'node:assert/strict';
import { isSpotdiffError } from '../../../src/util/errors.js';

// Forward parity with torch 1.13 on seeded inputs (one Python run for the whole file), then
// gradients against finite differences in float64.

const ref = new TorchReference();
T.manualSeed(11);
const a = ref.input('a', T.randn([3, 4]));
const b = ref.input('b', T.randn([4]));
const c = ref.input('c', T.randn([3, 4]));
const pos = ref.input('pos', T.add(T.rand([3, 4]), 0.1));
const a64 = ref.input('a64', T.randn([3, 4], { dtype: 'float64' }));
const b64 = ref.input('b64', T.randn([3, 1], { dtype: 'float64' }));
const ia = ref.input('ia', T.randint(-5, 6, [3, 4]));
const ib = ref.input('ib', T.randint(1, 4, [4]));
const i32 = ref.input('i32', T.randint(-5, 6, [3, 4], { dtype: 'int32' }));
const u8 = ref.input('u8', T.randint(0, 200, [4], { dtype: 'uint8' }));
const m = ref.input('m', T.gt(T.randn([3, 4]), 0));
const withNan = ref.input('withNan', T.tensor([1, NaN, Infinity, -Infinity, 0, -2]));

type Case = [name: string, run: () => T.Tensor, python: string];
const cases: Case[] = [
  ['add', () => T.add(a, b), 'a + b'],
  ['add_alpha', () => T.add(a, b, 2.5), 'torch.add(a, b, alpha=2.5)'],
  ['add_scalar', () => T.add(a, 1.5), 'a + 1.5'],
  ['sub', () => T.sub(a, c), 'a - c'],
  ['sub_alpha', () => T.sub(a, b, 0.5), 'torch.sub(a, b, alpha=0.5)'],
  ['sub_scalar', () => T.sub(a, 3), 'a - 3'],
  ['rsub', () => T.rsub(a, 2), '2 - a'],
  ['mul', () => T.mul(a, b), 'a * b'],
  ['mul_scalar', () => T.mul(a, -0.25), 'a * -0.25'],
  ['div', () => T.div(a, pos), 'a / pos'],
  ['div_scalar', () => T.div(a, 3), 'a / 3'],
  ['pow', () => T.pow(pos, c), 'pos ** c'],
  ['pow_scalar', () => T.pow(a, 3), 'a ** 3'],
  ['pow_frac', () => T.pow(pos, 0.5), 'pos ** 0.5'],
  ['rpow', () => T.rpow(a, 2), '2 ** a'],
  ['remainder', () => T.remainder(a, pos), 'torch.remainder(a, pos)'],
  ['remainder_scalar', () => T.remainder(a, 0.7), 'torch.remainder(a, 0.7)'],
  ['maximum', () => T.maximum(a, b), 'torch.maximum(a, b)'],
  ['minimum', () => T.minimum(a, c), 'torch.minimum(a, c)'],
  ['atan2', () => T.atan2(a, c), 'torch.atan2(a, c)'],
  ['eq', () => T.eq(ia, 2), 'ia == 2'],
  ['ne', () => T.ne(ia, ib), 'ia != ib'],
  ['lt', () => T.lt(a, b), 'a < b'],
  ['le', () => T.le(a, 0.25), 'a <= 0.25'],
  ['gt', () => T.gt(a, c), 'a > c'],
  ['ge', () => T.ge(ia, 0), 'ia >= 0'],
  ['logical_and', () => T.logicalAnd(m, T.gt(a, 0)), 'torch.logical_and(m, a > 0)'],
  ['logical_or', () => T.logicalOr(m, T.gt(a, 0)), 'torch.logical_or(m, a > 0)'],
  ['logical_not', () => T.logicalNot(m), 'torch.logical_not(m)'],
  ['isnan', () => T.isnan(withNan), 'torch.isnan(withNan)'],
  ['isfinite', () => T.isfinite(withNan), 'torch.isfinite(withNan)'],
  ['neg', () => T.neg(a), '-a'],
  ['abs', () => T.abs(a), 'torch.abs(a)'],
  ['sqrt', () => T.sqrt(pos), 'torch.sqrt(pos)'],
  ['rsqrt', () => T.rsqrt(pos), 'torch.rsqrt(pos)'],
  ['exp', () => T.exp(a), 'torch.exp(a)'],
  ['log', () => T.log(pos), 'torch.log(pos)'],
  ['log1p', () => T.log1p(pos), 'torch.log1p(pos)'],
  ['sin', () => T.sin(a), 'torch.sin(a)'],
  ['cos', () => T.cos(a), 'torch.cos(a)'],
  ['erf', () => T.erf(a), 'torch.erf(a)'],
  ['sign', () => T.sign(a), 'torch.sign(a)'],
  ['floor', () => T.floor(T.mul(a, 3)), 'torch.floor(a * 3)'],
  ['ceil', () => T.ceil(T.mul(a, 3)), 'torch.ceil(a * 3)'],
  ['round', () => T.round(T.mul(a, 3)), 'torch.round(a * 3)'],
  ['reciprocal', () => T.reciprocal(pos), 'torch.reciprocal(pos)'],
  ['square', () => T.square(a), 'torch.square(a)'],
  ['relu', () => T.relu(a), 'F.relu(a)'],
  ['leaky_relu', () => T.leakyRelu(a, 0.2), 'F.leaky_relu(a, 0.2)'],
  ['leaky_relu_default', () => T.leakyRelu(a), 'F.leaky_relu(a)'],
  ['sigmoid', () => T.sigmoid(a), 'torch.sigmoid(a)'],
  ['tanh', () => T.tanh(a), 'torch.tanh(a)'],
  ['gelu', () => T.gelu(a), 'F.gelu(a)'],
  ['silu', () => T.silu(a), 'F.silu(a)'],
  ['softplus', () => T.softplus(a), 'F.softplus(a)'],
  ['softplus_beta', () => T.softplus(T.mul(a, 10), 2, 5), 'F.softplus(a * 10, 2, 5)'],
  ['clamp', () => T.clamp(a, -0.5, 0.5), 'torch.clamp(a, -0.5, 0.5)'],
  ['clamp_min', () => T.clamp(a, 0), 'torch.clamp(a, min=0)'],
  ['clamp_max', () => T.clamp(a, null, 0.1), 'torch.clamp(a, max=0.1)'],
  ['where', () => T.where(m, a, c), 'torch.where(m, a, c)'],
  ['where_scalar', () => T.where(m, a, 0.5), 'torch.where(m, a, torch.tensor(0.5))'],
  ['where_scalar_first', () => T.where(m, -1.5, c), 'torch.where(m, torch.tensor(-1.5), c)'],
  ['masked_fill', () => T.maskedFill(a, m, 3.5), 'a.masked_fill(m, 3.5)'],
  ['masked_fill_tensor', () => T.maskedFill(a, m, T.scalar(-2)), 'a.masked_fill(m, torch.tensor(-2.0))'],
  ['lerp', () => T.lerp(a, c, 0.3), 'torch.lerp(a, c, 0.3)'],
  // float64 keeps float64, broadcasting [3,4] with [3,1]
  ['add64', () => T.add(a64, b64), 'a64 + b64'],
  ['div64', () => T.div(a64, T.add(T.abs(b64), 1)), 'a64 / (b64.abs() + 1)'],
  ['exp64', () => T.exp(a64), 'torch.exp(a64)'],
  ['gelu64', () => T.gelu(a64), 'F.gelu(a64)'],
  ['mixed32_64', () => T.mul(a, a64), 'a * a64'],
  // integer promotion: an integral JS number is an integer scalar
  ['int_add_int', () => T.add(ia, 2), 'ia + 2'],
  ['int_add_float', () => T.add(ia, 0.5), 'ia + 0.5'],
  ['int_mul_int', () => T.mul(ia, ib), 'ia * ib'],
  ['int_mul_float', () => T.mul(ia, 2.5), 'ia * 2.5'],
  ['int_div', () => T.div(ia, ib), 'ia / ib'],
  ['int_pow', () => T.pow(ia, 2), 'ia ** 2'],
  ['int_remainder', () => T.remainder(ia, 3), 'torch.remainder(ia, 3)'],
  ['int_neg', () => T.neg(ia), '-ia'],
  ['int_abs', () => T.abs(ia), 'torch.abs(ia)'],
  ['int_clamp', () => T.clamp(ia, -2, 2), 'torch.clamp(ia, -2, 2)'],
  ['int32_add', () => T.add(i32, 7), 'i32 + 7'],
  ['int32_plus_int64', () => T.add(i32, ia), 'i32 + ia'],
  ['int_plus_float_tensor', () => T.add(ia, a), 'ia + a'],
  ['int_sqrt', () => T.sqrt(T.abs(ia)), 'torch.sqrt(torch.abs(ia))'],
  ['uint8_add', () => T.add(u8, 100), 'u8 + 100'],
  ['bool_add', () => T.add(m, 1), 'm + 1'],
  ['bool_mul_float', () => T.mul(m, a), 'm * a'],
  ['float_add_bool_scalar', () => T.add(a, true as unknown as number), 'a + True'],
  ['int_where', () => T.where(m, ia, 0), 'torch.where(m, ia, torch.tensor(0))'],
];
for (const [name, , python] of cases) ref.case(name, python);
const results = ref.run();

test('pointwise forward matches PyTorch (float32 1e-5, float64 1e-12 relative; ints and bools exact)', () => {
  T.tidy(() => {
    for (const [name, run] of cases) assertMatches(name, run(), refOutputs(results, name)[0]!);
  });
});

// Inputs stay away from the kinks of abs/relu/clamp/maximum (seeded values far from them relative to h).
const x = (seed: number, shape: readonly number[] = [2, 3]): T.Tensor => randn64(shape, seed);
const p = (seed: number, shape: readonly number[] = [2, 3]): T.Tensor => uniform64(shape, seed, 0.3, 2);

test('pointwise gradients match finite differences (float64, h = 1e-6, rtol 1e-6)', () => {
  const unary: [string, (t: T.Tensor) => T.Tensor, T.Tensor][] = [
    ['neg', T.neg, x(1)],
    ['abs', T.abs, x(2)],
    ['sqrt', T.sqrt, p(3)],
    ['rsqrt', T.rsqrt, p(4)],
    ['exp', T.exp, x(5)],
    ['log', T.log, p(6)],
    ['log1p', T.log1p, p(7)],
    ['sin', T.sin, x(8)],
    ['cos', T.cos, x(9)],
    ['erf', T.erf, x(10)],
    ['reciprocal', T.reciprocal, p(11)],
    ['square', T.square, x(12)],
    ['relu', T.relu, x(13)],
    ['leaky_relu', (t) => T.leakyRelu(t, 0.2), x(14)],
    ['sigmoid', T.sigmoid, x(15)],
    ['tanh', T.tanh, x(16)],
    ['gelu', T.gelu, x(17)],
    ['silu', T.silu, x(18)],
    ['softplus', (t) => T.softplus(t, 2, 20), x(19)],
    ['clamp', (t) => T.clamp(t, -0.5, 0.5), x(20)],
    ['clamp_min', (t) => T.clamp(t, 0.1), x(21)],
    ['add_scalar', (t) => T.add(t, 2.5), x(22)],
    ['sub_scalar', (t) => T.sub(t, 2.5), x(23)],
    ['rsub', (t) => T.rsub(t, 1.5), x(24)],
    ['mul_scalar', (t) => T.mul(t, -1.5), x(25)],
    ['div_scalar', (t) => T.div(t, 0.3), x(26)],
    ['pow_scalar', (t) => T.pow(t, 3), x(27)],
    ['pow_frac', (t) => T.pow(t, 1.7), p(28)],
    ['rpow', (t) => T.rpow(t, 2.5), x(29)],
    ['remainder_scalar', (t) => T.remainder(t, 0.7), x(30)],
    ['floor', T.floor, x(31)],
    ['round', T.round, x(32)],
    ['ceil', T.ceil, x(34)],
    ['sign', T.sign, x(33)],
  ];
  for (const [name, f, input] of unary) gradcheck(name, f, [input]);

  const binary: [string, (u: T.Tensor, v: T.Tensor) => T.Tensor, T.Tensor, T.Tensor][] = [
    ['add', (u, v) => T.add(u, v), x(40), x(41, [3])],
    ['add_alpha', (u, v) => T.add(u, v, -2), x(42), x(43, [2, 1])],
    ['sub', (u, v) => T.sub(u, v), x(44), x(45, [3])],
    ['sub_alpha', (u, v) => T.sub(u, v, 0.5), x(46), x(47)],
    ['mul', T.mul, x(48), x(49, [3])],
    ['div', T.div, x(50), p(51, [3])],
    ['pow', T.pow, p(52), x(53, [3])],
    ['maximum', T.maximum, x(54), x(55)],
    ['minimum', T.minimum, x(56), x(57)],
    ['atan2', T.atan2, x(58), x(59)],
    ['remainder', T.remainder, x(60), p(61)],
    ['lerp', (u, v) => T.lerp(u, v, 0.3), x(62), x(63)],
    ['where', (u, v) => T.where(T.gt(u, 0), T.mul(u, 2), v), x(64), x(65, [3])],
    ['masked_fill', (u, v) => T.maskedFill(T.mul(u, v), T.gt(v, 0), 1.5), x(66), x(67)],
  ];
  for (const [name, f, u, v] of binary) gradcheck(name, f, [u, v]);
});

test('pointwise ops refuse bad input with a SpotdiffError', () => {
  T.tidy(() => {
    const f = T.ones([3]);
    const cases: [string, () => unknown, string][] = [
      ['shapes that do not broadcast', () => T.add(T.ones([2]), f), 'ERR_TORCH'],
      ['a float mask (libtorch would ignore it)', () => T.maskedFill(f, T.ones([3]), 0), 'ERR_DTYPE'],
      ['a mask that does not broadcast', () => T.maskedFill(f, T.ones([4], { dtype: 'bool' }), 0), 'ERR_TORCH'],
      ['a float condition for where', () => T.where(f, f, f), 'ERR_TORCH'],
      ['integer remainder by zero', () => T.remainder(T.ones([2], { dtype: 'int64' }), 0), 'ERR_TORCH'],
      ['an integer to a negative integer power', () => T.pow(T.ones([2], { dtype: 'int64' }), -1), 'ERR_TORCH'],
      ['negation of bools', () => T.neg(T.ones([2], { dtype: 'bool' })), 'ERR_TORCH'],
      ['gelu of int64', () => T.gelu(T.ones([2], { dtype: 'int64' })), 'ERR_TORCH'],
      ['clamp without bounds', () => T.clamp(f, null, null), 'ERR_TORCH'],
    ];
    for (const [what, run, code] of cases) {
      assert.throws(run, (e: unknown) => isSpotdiffError(e) && e.code === code, `${what}: expected ${code}`);
    }
  });
});
