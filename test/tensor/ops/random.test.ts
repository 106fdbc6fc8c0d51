import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';
import { assertMatches } from '../../helpers/close.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { gradcheck, randn64 } from '../../helpers/gradcheck.js';

// Seeded draws must equal torch's own for the same seed: libtorch's default CPU generator is
// the Mersenne Twister that Python's torch.manual_seed seeds, and every op here is the same
// ATen kernel Python calls. Each case reseeds, in TS and in Python alike.

const ref = new TorchReference();
const probs = ref.input('probs', T.tensor([0.1, 0.9, 0.5, 0.0, 1.0, 0.3, 0.7, 0.25]));
const ones = ref.input('ones', T.ones([4, 6]));
const img = ref.input('img', T.ones([2, 5, 3, 3]));
const weights = ref.input('weights', T.tensor([1, 2, 3, 4, 0, 10]));

type Case = [name: string, seed: number, run: () => T.Tensor | T.Tensor[], python: string];
const filled = (shape: readonly number[], init: (t: T.Tensor) => void): T.Tensor => {
  const t = T.zeros(shape);
  init(t);
  return t;
};
const cases: Case[] = [
  ['rand', 1, () => T.rand([5, 7]), 'torch.rand(5, 7)'],
  ['rand_f64', 2, () => T.rand([3, 3], { dtype: 'float64' }), 'torch.rand(3, 3, dtype=torch.float64)'],
  ['randn_short', 3, () => T.randn([5]), 'torch.randn(5)'],
  ['randn_vectorised', 4, () => T.randn([4, 9]), 'torch.randn(4, 9)'],
  ['randn_f64', 5, () => T.randn([17], { dtype: 'float64' }), 'torch.randn(17, dtype=torch.float64)'],
  ['randint', 6, () => T.randint(0, 10, [50]), 'torch.randint(0, 10, (50,))'],
  ['randint_int32', 7, () => T.randint(-5, 5, [3, 4], { dtype: 'int32' }), 'torch.randint(-5, 5, (3, 4), dtype=torch.int32)'],
  ['randperm_small', 8, () => T.randperm(10), 'torch.randperm(10)'],
  ['randperm_large', 9, () => T.randperm(3000), 'torch.randperm(3000)'],
  ['bernoulli', 10, () => T.bernoulli(probs), 'torch.bernoulli(probs)'],
  ['multinomial', 11, () => T.multinomial(weights, 4), 'torch.multinomial(weights, 4)'],
  ['multinomial_replacement', 12, () => T.multinomial(weights, 9, true), 'torch.multinomial(weights, 9, True)'],
  ['normal_', 13, () => filled([4, 5], (t) => T.normal_(t, 2, 0.5)), 'out = torch.zeros(4, 5); out.normal_(2, 0.5)'],
  ['normal_short', 14, () => filled([3], (t) => T.normal_(t)), 'out = torch.zeros(3); out.normal_()'],
  ['uniform_', 15, () => filled([4, 5], (t) => T.uniform_(t, -1, 3)), 'out = torch.zeros(4, 5); out.uniform_(-1, 3)'],
  ['kaiming_uniform_default', 16, () => filled([6, 4, 3, 3], (t) => T.kaimingUniform_(t)), 'out = torch.nn.init.kaiming_uniform_(torch.zeros(6, 4, 3, 3))'],
  ['kaiming_uniform_sqrt5', 17, () => filled([8, 5], (t) => T.kaimingUniform_(t, { a: Math.sqrt(5) })), 'out = torch.nn.init.kaiming_uniform_(torch.zeros(8, 5), a=math.sqrt(5))'],
  ['kaiming_uniform_fan_out_relu', 18, () => filled([6, 4, 3, 3], (t) => T.kaimingUniform_(t, { mode: 'fan_out', nonlinearity: 'relu' })), "out = torch.nn.init.kaiming_uniform_(torch.zeros(6, 4, 3, 3), mode='fan_out', nonlinearity='relu')"],
  ['kaiming_normal_fan_out_relu', 19, () => filled([6, 4, 3, 3], (t) => T.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu' })), "out = torch.nn.init.kaiming_normal_(torch.zeros(6, 4, 3, 3), mode='fan_out', nonlinearity='relu')"],
  ['kaiming_normal_tanh', 20, () => filled([5, 3], (t) => T.kaimingNormal_(t, { nonlinearity: 'tanh' })), "out = torch.nn.init.kaiming_normal_(torch.zeros(5, 3), nonlinearity='tanh')"],
  ['kaiming_normal_leaky', 21, () => filled([5, 3, 2], (t) => T.kaimingNormal_(t, { a: 0.2 })), 'out = torch.nn.init.kaiming_normal_(torch.zeros(5, 3, 2), a=0.2)'],
  ['xavier_uniform', 22, () => filled([6, 4, 3, 3], (t) => T.xavierUniform_(t)), 'out = torch.nn.init.xavier_uniform_(torch.zeros(6, 4, 3, 3))'],
  ['xavier_uniform_gain', 23, () => filled([7, 5], (t) => T.xavierUniform_(t, 2.5)), 'out = torch.nn.init.xavier_uniform_(torch.zeros(7, 5), gain=2.5)'],
  ['xavier_normal', 24, () => filled([6, 4, 3, 3], (t) => T.xavierNormal_(t, 0.5)), 'out = torch.nn.init.xavier_normal_(torch.zeros(6, 4, 3, 3), gain=0.5)'],
  ['dropout', 25, () => T.dropout(ones, 0.3, true), 'F.dropout(ones, 0.3, True)'],
  ['dropout_eval', 26, () => T.dropout(ones, 0.3, false), 'F.dropout(ones, 0.3, False)'],
  ['dropout2d', 27, () => T.dropout2d(img, 0.4, true), 'F.dropout2d(img, 0.4, True)'],
  ['dropout2d_eval', 28, () => T.dropout2d(img, 0.4, false), 'F.dropout2d(img, 0.4, False)'],
  ['stream', 29, () => [T.rand([3]), T.randn([20]), T.randint(0, 100, [4]), T.randperm(6), T.randn([2])], 'out = (torch.rand(3), torch.randn(20), torch.randint(0, 100, (4,)), torch.randperm(6), torch.randn(2))'],
  ['big_seed', 2 ** 40 + 7, () => T.rand([4]), 'torch.rand(4)'],
  ['negative_seed', -3, () => T.rand([4]), 'torch.rand(4)'],
];
for (const [name, seed, , python] of cases) ref.case(name, `torch.manual_seed(${seed})\n${python.includes('out =') ? python : `out = ${python}`}`);
const results = ref.run();

test('seeded random ops give torch.manual_seed(s)\'s exact stream', () => {
  T.tidy(() => {
    for (const [name, seed, run] of cases) {
      T.manualSeed(seed);
      const out = run();
      const outs = Array.isArray(out) ? out : [out];
      const expected = refOutputs(results, name);
      assert.equal(outs.length, expected.length, name);
      outs.forEach((t, k) => assertMatches(`${name}[${k}]`, t, expected[k]!, { rtol: 0, atol: 0 }));
    }
  });
});

test('dropout gradients match finite differences (float64, same mask via reseeding)', () => {
  gradcheck('dropout', (t) => {
    T.manualSeed(5);
    return T.dropout(t, 0.4, true);
  }, [randn64([3, 4], 1)]);
  gradcheck('dropout2d', (t) => {
    T.manualSeed(6);
    return T.dropout2d(t, 0.5, true);
  }, [randn64([2, 3, 2, 1], 2)]);
});

test('fanIn is torch.nn.init\'s fan_in (in-channels × receptive field)', () => {
  T.tidy(() => {
    assert.equal(T.fanIn(T.zeros([6, 4, 3, 3])), 36);
    assert.equal(T.fanIn(T.zeros([8, 5])), 5);
  });
});

test('draws differ between seeds and repeat for the same seed', () => {
  T.tidy(() => {
    T.manualSeed(5);
    const a = T.randn([8]).data();
    const b = T.randn([8]).data();
    T.manualSeed(5);
    assert.deepEqual(T.randn([8]).data(), a);
    assert.notDeepEqual(a, b);
  });
});

test('random initialisers refuse bad arguments with a SpotdiffError', () => {
  T.tidy(() => {
    const w = T.zeros([3, 3]);
    const cases: [string, () => unknown, string][] = [
      ['an unknown kaiming mode', () => T.kaimingUniform_(w, { mode: 'fan_avg' as 'fan_in' }), 'ERR_BAD_INPUT'],
      ['an unknown nonlinearity', () => T.kaimingNormal_(w, { nonlinearity: 'softsign' as 'relu' }), 'ERR_BAD_INPUT'],
      ['kaiming on a 1-d tensor', () => T.kaimingUniform_(T.zeros([3])), 'ERR_SHAPE'],
      ['xavier on a 1-d tensor', () => T.xavierUniform_(T.zeros([3])), 'ERR_SHAPE'],
      ['normal_ with a negative std', () => T.normal_(w, 0, -1), 'ERR_TORCH'],
      ['normal_ of an int64 tensor', () => T.normal_(T.zeros([2], { dtype: 'int64' })), 'ERR_TORCH'],
      ['uniform_ with low > high', () => T.uniform_(w, 2, 1), 'ERR_TORCH'],
      ['randint with low >= high', () => T.randint(5, 2, [3]), 'ERR_TORCH'],
      ['randperm of a negative count', () => T.randperm(-1), 'ERR_TORCH'],
      ['rand of a negative shape', () => T.rand([-1]), 'ERR_SHAPE'],
      ['bernoulli of probabilities above 1', () => T.bernoulli(T.full([2], 1.5)), 'ERR_TORCH'],
      ['dropout with p = 1.5', () => T.dropout(w, 1.5, true), 'ERR_TORCH'],
      ['dropout2d of a 2-d tensor', () => T.dropout2d(w, 0.5, true), 'ERR_SHAPE'],
      ['multinomial of more samples than categories', () => T.multinomial(T.ones([3]), 5), 'ERR_TORCH'],
    ];
    for (const [what, run, code] of cases) {
      assert.throws(run, (e: unknown) => isSpotdiffError(e) && e.code === code, `${what}: expected ${code}`);
    }
  });
});
