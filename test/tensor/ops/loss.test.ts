import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';
import { assertMatches } from '../../helpers/close.js';
import { gradcheck, randn64, uniform64 } from '../../helpers/gradcheck.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

const ref = new TorchReference();
T.manualSeed(51);
const logits = ref.input('logits', T.randn([6, 4]));
const target = ref.input('target', T.tensor(new BigInt64Array([0n, 3n, 1n, 1n, 2n, 3n])));
const ignored = ref.input('ignored', T.tensor(new BigInt64Array([0n, -100n, 1n, 2n, 2n, -100n])));
const cw = ref.input('cw', T.tensor([0.5, 2, 1, 1.5]));
const probs = ref.input('probs', T.softmax(T.randn([6, 4]), 1));
const seg = ref.input('seg', T.randn([2, 3, 4, 5]));
const segTarget = ref.input('segTarget', T.randint(0, 3, [2, 4, 5]));
const z = ref.input('z', T.mul(T.randn([3, 5]), 3));
const y = ref.input('y', T.rand([3, 5]));
const ew = ref.input('ew', T.rand([3, 5]));
const pw = ref.input('pw', T.add(T.rand([5]), 0.5));
const a64 = ref.input('a64', T.randn([3, 4], { dtype: 'float64' }));
const b64 = ref.input('b64', T.randn([3, 4], { dtype: 'float64' }));

type Case = [name: string, run: () => T.Tensor, python: string];
const cases: Case[] = [
  ['ce', () => T.crossEntropyRaw(logits, target), 'F.cross_entropy(logits, target)'],
  ['ce_sum', () => T.crossEntropyRaw(logits, target, { reduction: 'sum' }), "F.cross_entropy(logits, target, reduction='sum')"],
  ['ce_none', () => T.crossEntropyRaw(logits, target, { reduction: 'none' }), "F.cross_entropy(logits, target, reduction='none')"],
  ['ce_weight', () => T.crossEntropyRaw(logits, target, { weight: cw }), 'F.cross_entropy(logits, target, weight=cw)'],
  ['ce_smoothing', () => T.crossEntropyRaw(logits, target, { labelSmoothing: 0.1 }), 'F.cross_entropy(logits, target, label_smoothing=0.1)'],
  ['ce_weight_smoothing', () => T.crossEntropyRaw(logits, target, { weight: cw, labelSmoothing: 0.2 }), 'F.cross_entropy(logits, target, weight=cw, label_smoothing=0.2)'],
  ['ce_ignore', () => T.crossEntropyRaw(logits, ignored), 'F.cross_entropy(logits, ignored)'],
  ['ce_ignore_custom', () => T.crossEntropyRaw(logits, target, { ignoreIndex: 3, weight: cw }), 'F.cross_entropy(logits, target, weight=cw, ignore_index=3)'],
  ['ce_probs', () => T.crossEntropyRaw(logits, probs), 'F.cross_entropy(logits, probs)'],
  ['ce_probs_smoothing', () => T.crossEntropyRaw(logits, probs, { labelSmoothing: 0.3, weight: cw }), 'F.cross_entropy(logits, probs, weight=cw, label_smoothing=0.3)'],
  ['ce_2d', () => T.crossEntropyRaw(seg, segTarget), 'F.cross_entropy(seg, segTarget)'],
  ['ce_2d_none', () => T.crossEntropyRaw(seg, segTarget, { reduction: 'none', labelSmoothing: 0.05 }), "F.cross_entropy(seg, segTarget, reduction='none', label_smoothing=0.05)"],
  ['nll', () => T.nllLossRaw(T.logSoftmax(logits, 1), target), 'F.nll_loss(F.log_softmax(logits, 1), target)'],
  ['nll_weight_ignore', () => T.nllLossRaw(T.logSoftmax(logits, 1), ignored, { weight: cw }), 'F.nll_loss(F.log_softmax(logits, 1), ignored, weight=cw)'],
  ['nll_2d_sum', () => T.nllLossRaw(T.logSoftmax(seg, 1), segTarget, { reduction: 'sum' }), "F.nll_loss(F.log_softmax(seg, 1), segTarget, reduction='sum')"],
  ['bce', () => T.bceWithLogitsRaw(z, y), 'F.binary_cross_entropy_with_logits(z, y)'],
  ['bce_weight', () => T.bceWithLogitsRaw(z, y, { weight: ew, reduction: 'sum' }), "F.binary_cross_entropy_with_logits(z, y, weight=ew, reduction='sum')"],
  ['bce_pos_weight', () => T.bceWithLogitsRaw(z, y, { posWeight: pw }), 'F.binary_cross_entropy_with_logits(z, y, pos_weight=pw)'],
  ['bce_both_none', () => T.bceWithLogitsRaw(z, y, { weight: ew, posWeight: pw, reduction: 'none' }), "F.binary_cross_entropy_with_logits(z, y, weight=ew, pos_weight=pw, reduction='none')"],
  ['mse', () => T.mseLossRaw(a64, b64), 'F.mse_loss(a64, b64)'],
  ['mse_sum', () => T.mseLossRaw(z, y, 'sum'), "F.mse_loss(z, y, reduction='sum')"],
  ['mse_none', () => T.mseLossRaw(z, y, 'none'), "F.mse_loss(z, y, reduction='none')"],
  ['l1', () => T.l1LossRaw(a64, b64), 'F.l1_loss(a64, b64)'],
  ['l1_sum', () => T.l1LossRaw(z, y, 'sum'), "F.l1_loss(z, y, reduction='sum')"],
  ['l1_none', () => T.l1LossRaw(z, y, 'none'), "F.l1_loss(z, y, reduction='none')"],
];
for (const [name, , python] of cases) ref.case(name, python);
const results = ref.run();

test('losses match PyTorch (float32 1e-5, float64 1e-12 relative)', () => {
  T.tidy(() => {
    for (const [name, run] of cases) assertMatches(name, run(), refOutputs(results, name)[0]!);
  });
});

test('loss gradients match finite differences (float64)', () => {
  const idx = (values: number[]): T.Tensor => T.tensor(BigInt64Array.from(values, BigInt));
  const w = T.tensor(Float64Array.of(0.5, 2, 1.5), [3], { dtype: 'float64' });
  const x = (seed: number, shape: readonly number[] = [4, 3]): T.Tensor => randn64(shape, seed);
  const t4 = idx([0, 2, 1, 2]);
  gradcheck('cross_entropy', (l) => T.crossEntropyRaw(l, t4), [x(1)]);
  gradcheck('cross_entropy_weight', (l) => T.crossEntropyRaw(l, t4, { weight: w }), [x(2)]);
  gradcheck('cross_entropy_smoothing', (l) => T.crossEntropyRaw(l, t4, { labelSmoothing: 0.15 }), [x(3)]);
  gradcheck('cross_entropy_weight_smoothing_sum', (l) => T.crossEntropyRaw(l, t4, { weight: w, labelSmoothing: 0.1, reduction: 'sum' }), [x(4)]);
  gradcheck('cross_entropy_ignore', (l) => T.crossEntropyRaw(l, idx([0, -100, 1, 2])), [x(5)]);
  gradcheck('cross_entropy_none', (l) => T.crossEntropyRaw(l, t4, { reduction: 'none' }), [x(6)]);
  gradcheck('cross_entropy_probs', (l, p) => T.crossEntropyRaw(l, p), [x(7), T.softmax(x(8), 1)]);
  gradcheck('cross_entropy_2d', (l) => T.crossEntropyRaw(l, T.tensor(BigInt64Array.of(0n, 2n, 1n, 1n), [1, 2, 2])), [x(9, [1, 3, 2, 2])]);
  gradcheck('nll_loss', (l) => T.nllLossRaw(l, t4, { weight: w }), [x(10)]);
  gradcheck('bce_with_logits', (l, y) => T.bceWithLogitsRaw(l, y), [x(11, [2, 3]), uniform64([2, 3], 12, 0, 1)]);
  gradcheck('bce_with_logits_weights', (l) => T.bceWithLogitsRaw(l, uniform64([2, 3], 13, 0, 1), { weight: uniform64([2, 3], 14, 0.5, 2), posWeight: uniform64([3], 15, 0.5, 3) }), [x(16, [2, 3])]);
  gradcheck('mse', (a, b) => T.mseLossRaw(a, b), [x(17, [2, 3]), x(18, [2, 3])]);
  gradcheck('mse_none', (a, b) => T.mseLossRaw(a, b, 'none'), [x(19, [2, 3]), x(20, [2, 3])]);
  gradcheck('l1', (a, b) => T.l1LossRaw(a, b, 'sum'), [x(21, [2, 3]), x(22, [2, 3])]);
});

test('losses refuse targets of the wrong kind with a clear SpotdiffError', () => {
  T.tidy(() => {
    const l = T.ones([2, 3]);
    const cases: [string, () => unknown, string, RegExp][] = [
      ['float targets of the wrong shape', () => T.crossEntropyRaw(l, T.ones([2])), 'ERR_SHAPE', /class-probability targets must have the input's shape \[2, 3\]/],
      ['int32 class indices', () => T.crossEntropyRaw(l, T.tensor(Int32Array.of(0, 1))), 'ERR_DTYPE', /must be int64, got int32/],
      ['class indices of the wrong shape', () => T.crossEntropyRaw(l, T.tensor(BigInt64Array.of(0n, 1n, 2n))), 'ERR_SHAPE', /shape \[2\], got \[3\]/],
      ['int64 logits', () => T.crossEntropyRaw(T.ones([2, 3], { dtype: 'int64' }), T.tensor(BigInt64Array.of(0n, 1n))), 'ERR_DTYPE', /floating-point/],
      ['a class index out of range', () => T.crossEntropyRaw(l, T.tensor(BigInt64Array.of(0n, 7n))), 'ERR_TORCH', /out of bounds/],
      ['a weight of the wrong length', () => T.crossEntropyRaw(l, T.tensor(BigInt64Array.of(0n, 1n)), { weight: T.ones([4]) }), 'ERR_TORCH', /weight/],
      ['nll with float targets', () => T.nllLossRaw(l, T.ones([2])), 'ERR_DTYPE', /must be int64/],
      ['bce with int targets', () => T.bceWithLogitsRaw(l, T.ones([2, 3], { dtype: 'int64' })), 'ERR_TORCH', /Long/],
    ];
    for (const [what, run, code, message] of cases) {
      assert.throws(run, (e: unknown) => isSpotdiffError(e) && e.code === code && message.test(e.message), `${what}: expected ${code} ${message}`);
    }
  });
});
