import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';
import { assertMatches } from '../../helpers/close.js';
import { gradcheck, randn64, uniform64 } from '../../helpers/gradcheck.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

const ref = new TorchReference();
T.manualSeed(41);
const x = ref.input('x', T.randn([2, 4, 9, 8]));
const w = ref.input('w', T.randn([6, 4, 3, 3]));
const wg = ref.input('wg', T.randn([6, 2, 3, 3]));
const bias = ref.input('bias', T.randn([6]));
const wt = ref.input('wt', T.randn([4, 3, 3, 3]));
const wtg = ref.input('wtg', T.randn([4, 1, 3, 3]));
const bt = ref.input('bt', T.randn([3]));
const gamma = ref.input('gamma', T.add(T.rand([4]), 0.5));
const beta = ref.input('beta', T.randn([4]));
const rm = ref.input('rm', T.randn([4]));
const rv = ref.input('rv', T.add(T.rand([4]), 0.5));
const lw = ref.input('lw', T.randn([5, 8]));
const lb = ref.input('lb', T.randn([5]));
const small = ref.input('small', T.randn([1, 2, 3, 4]));
const x64 = ref.input('x64', T.randn([2, 3, 5, 5], { dtype: 'float64' }));
const p1 = ref.input('p1', T.randn([2, 7, 5]));
const p2 = ref.input('p2', T.randn([2, 6, 5]));
const q1 = ref.input('q1', T.randn([30, 8]));
const q2 = ref.input('q2', T.randn([40, 8]));
const cols = ref.input('cols', T.randn([2, 8, 12]));
const u8 = ref.input('u8', T.randint(0, 255, [1, 1, 3, 4], { dtype: 'uint8' }));

type Case = [name: string, run: () => T.Tensor | T.Tensor[], python: string];
const cases: Case[] = [
  ['conv2d', () => T.conv2d(x, w), 'F.conv2d(x, w)'],
  ['conv2d_bias_stride_pad', () => T.conv2d(x, w, bias, { stride: 2, padding: 1 }), 'F.conv2d(x, w, bias, stride=2, padding=1)'],
  ['conv2d_dilation', () => T.conv2d(x, w, null, { dilation: 2, padding: [2, 1] }), 'F.conv2d(x, w, dilation=2, padding=(2, 1))'],
  ['conv2d_groups', () => T.conv2d(x, wg, bias, { groups: 2, stride: [1, 2] }), 'F.conv2d(x, wg, bias, stride=(1, 2), groups=2)'],
  ['conv2d_f64', () => T.conv2d(x64, T.toDtype(T.slice(w, 1, 0, 3), 'float64'), null, { padding: 1 }), 'F.conv2d(x64, w[:, :3].double(), padding=1)'],
  ['conv_transpose2d', () => T.convTranspose2d(x, wt, bt), 'F.conv_transpose2d(x, wt, bt)'],
  ['conv_transpose2d_stride', () => T.convTranspose2d(x, wt, null, { stride: 2, padding: 1, outputPadding: 1 }), 'F.conv_transpose2d(x, wt, stride=2, padding=1, output_padding=1)'],
  ['conv_transpose2d_groups_dil', () => T.convTranspose2d(x, wtg, null, { groups: 4, dilation: 2 }), 'F.conv_transpose2d(x, wtg, groups=4, dilation=2)'],
  [
    'batch_norm_train',
    () => {
      const m = T.clone(rm);
      const v = T.clone(rv);
      return [T.batchNorm(x, { weight: gamma, bias: beta, runningMean: m, runningVar: v, training: true, momentum: 0.2 }), m, v];
    },
    'y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.2)\nout = (y, rm, rv)',
  ],
  ['batch_norm_eval', () => T.batchNorm(x, { weight: gamma, bias: beta, runningMean: rm, runningVar: rv, training: false, eps: 1e-3 }), 'F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=1e-3)'],
  ['batch_norm_no_affine_no_stats', () => T.batchNorm(x, { training: true }), 'F.batch_norm(x, None, None, training=True)'],
  ['batch_norm_1d', () => T.batchNorm(T.flatten(T.slice(x, 3, 0, 1), 2), { training: false, runningMean: rm, runningVar: rv }), 'F.batch_norm(x[..., :1].flatten(2), rm, rv, training=False)'],
  ['group_norm', () => T.groupNorm(x, 2, gamma, beta), 'F.group_norm(x, 2, gamma, beta)'],
  ['group_norm_plain', () => T.groupNorm(x, 4, null, null, 1e-3), 'F.group_norm(x, 4, eps=1e-3)'],
  ['layer_norm', () => T.layerNorm(x, [9, 8]), 'F.layer_norm(x, (9, 8))'],
  ['layer_norm_affine', () => T.layerNorm(p1, [5], lb, T.select(lw, 1, 0)), 'F.layer_norm(p1, (5,), lb, lw[:, 0])'],
  ['linear', () => T.linear(T.slice(x, 3, 0, 8), lw, lb), 'F.linear(x, lw, lb)'],
  ['linear_nobias', () => T.linear(q1, lw), 'F.linear(q1, lw)'],
  ['max_pool2d', () => T.maxPool2d(x, 2), 'F.max_pool2d(x, 2)'],
  ['max_pool2d_opts', () => T.maxPool2d(x, 3, { stride: 2, padding: 1 }), 'F.max_pool2d(x, 3, 2, 1)'],
  ['max_pool2d_ceil_dil', () => T.maxPool2d(x, [2, 3], { stride: 2, dilation: 2, ceilMode: true }), 'F.max_pool2d(x, (2, 3), 2, dilation=2, ceil_mode=True)'],
  ['avg_pool2d', () => T.avgPool2d(x, 2), 'F.avg_pool2d(x, 2)'],
  ['avg_pool2d_pad', () => T.avgPool2d(x, 3, { stride: 2, padding: 1 }), 'F.avg_pool2d(x, 3, 2, 1)'],
  ['avg_pool2d_no_pad_count', () => T.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }), 'F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)'],
  ['adaptive_avg_pool2d', () => T.adaptiveAvgPool2d(x, [4, 3]), 'F.adaptive_avg_pool2d(x, (4, 3))'],
  ['adaptive_avg_pool2d_1', () => T.adaptiveAvgPool2d(x, 1), 'F.adaptive_avg_pool2d(x, 1)'],
  ['adaptive_max_pool2d', () => T.adaptiveMaxPool2d(x, [5, 3]), 'F.adaptive_max_pool2d(x, (5, 3))'],
  ['bilinear', () => T.interpolate(x, [13, 5]), "F.interpolate(x, (13, 5), mode='bilinear', align_corners=False)"],
  ['bilinear_align', () => T.interpolate(x, [13, 17], 'bilinear', true), "F.interpolate(x, (13, 17), mode='bilinear', align_corners=True)"],
  ['bilinear_scale', () => T.interpolate(x, { scaleFactor: 1.7 }), "F.interpolate(x, scale_factor=1.7, mode='bilinear', align_corners=False)"],
  ['bilinear_scale_pair', () => T.interpolate(x, { scaleFactor: [0.6, 2.5] }), "F.interpolate(x, scale_factor=(0.6, 2.5), mode='bilinear')"],
  ['bilinear_scale_align', () => T.interpolate(x, { scaleFactor: 1.5 }, 'bilinear', true), "F.interpolate(x, scale_factor=1.5, mode='bilinear', align_corners=True)"],
  ['nearest', () => T.interpolate(x, [20, 5], 'nearest'), "F.interpolate(x, (20, 5), mode='nearest')"],
  ['nearest_scale', () => T.interpolate(x, { scaleFactor: 1.7 }, 'nearest'), "F.interpolate(x, scale_factor=1.7, mode='nearest')"],
  ['nearest_uint8', () => T.interpolate(u8, 7, 'nearest'), "F.interpolate(u8, 7, mode='nearest')"],
  ['bicubic', () => T.interpolate(x, [12, 11], 'bicubic'), "F.interpolate(x, (12, 11), mode='bicubic', align_corners=False)"],
  ['bicubic_align', () => T.interpolate(x, [5, 11], 'bicubic', true), "F.interpolate(x, (5, 11), mode='bicubic', align_corners=True)"],
  ['bicubic_scale', () => T.interpolate(x, { scaleFactor: 2.3 }, 'bicubic'), "F.interpolate(x, scale_factor=2.3, mode='bicubic')"],
  ['pad_constant', () => T.pad(x, [1, 2, 0, 3], 'constant', -1.5), "F.pad(x, (1, 2, 0, 3), 'constant', -1.5)"],
  ['pad_constant_last', () => T.pad(p1, [2, 1]), 'F.pad(p1, (2, 1))'],
  ['pad_negative_crop', () => T.pad(x, [-1, -2]), 'F.pad(x, (-1, -2))'],
  ['pad_reflect', () => T.pad(x, [2, 1, 3, 0], 'reflect'), "F.pad(x, (2, 1, 3, 0), 'reflect')"],
  ['pad_replicate', () => T.pad(x, [2, 1, 3, 4], 'replicate'), "F.pad(x, (2, 1, 3, 4), 'replicate')"],
  ['pad_circular', () => T.pad(x, [2, 1, 1, 2], 'circular'), "F.pad(x, (2, 1, 1, 2), 'circular')"],
  ['pad_reflect_1d', () => T.pad(p1, [3, 2], 'reflect'), "F.pad(p1, (3, 2), 'reflect')"],
  ['softmax', () => T.softmax(x, 1), 'F.softmax(x, 1)'],
  ['softmax_last', () => T.softmax(T.mul(p1, 30), -1), 'F.softmax(p1 * 30, -1)'],
  ['log_softmax', () => T.logSoftmax(x, 1), 'F.log_softmax(x, 1)'],
  ['log_softmax_last', () => T.logSoftmax(T.mul(p1, 30), -1), 'F.log_softmax(p1 * 30, -1)'],
  ['normalize', () => T.normalize(x), 'F.normalize(x)'],
  ['normalize_p1_dim', () => T.normalize(p1, 1, -1), 'F.normalize(p1, 1, -1)'],
  ['normalize_zero_row', () => T.normalize(T.cat([T.zeros([1, 8]), T.slice(q1, 0, 0, 2)])), 'F.normalize(torch.cat([torch.zeros(1, 8), q1[:2]]))'],
  ['cosine_similarity', () => T.cosineSimilarity(x, T.flip(x, [0])), 'F.cosine_similarity(x, x.flip(0))'],
  ['cosine_similarity_dim', () => T.cosineSimilarity(p1, T.slice(p1, 0, 1, 2), -1), 'F.cosine_similarity(p1, p1[1:2], -1)'],
  ['cdist', () => T.cdist(p1, p2), "torch.cdist(p1, p2)"],
  ['cdist_exact', () => T.cdist(q1, q2, 2, true), "torch.cdist(q1, q2, compute_mode='donot_use_mm_for_euclid_dist')"],
  ['cdist_mm', () => T.cdist(q1, q2), 'torch.cdist(q1, q2)'],
  ['cdist_p1', () => T.cdist(p1, p2, 1), 'torch.cdist(p1, p2, 1)'],
  ['cdist_p3', () => T.cdist(q1, q2, 3), 'torch.cdist(q1, q2, 3)'],
  ['unfold', () => T.unfold(x, 3), 'F.unfold(x, 3)'],
  ['unfold_opts', () => T.unfold(x, [2, 3], { dilation: [1, 2], padding: 1, stride: 2 }), 'F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=2)'],
  ['fold', () => T.fold(cols, [4, 5], 2), 'F.fold(cols, (4, 5), 2)'],
  ['fold_opts', () => T.fold(cols, [5, 6], [2, 2], { stride: 2, padding: 1 }), 'F.fold(cols, (5, 6), 2, stride=2, padding=1)'],
  ['pixel_shuffle', () => T.pixelShuffle(x, 2), 'F.pixel_shuffle(x, 2)'],
  ['small_all', () => T.softmax(small, 3), 'F.softmax(small, 3)'],
];
for (const [name, , python] of cases) ref.case(name, python);
const results = ref.run();

test('nn ops match PyTorch (float32 1e-5 / float64 1e-12 relative; running statistics too)', () => {
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

const r = (seed: number, shape: readonly number[]): T.Tensor => randn64(shape, seed);

test('convolution and linear gradients match finite differences (float64)', () => {
  gradcheck('conv2d', (a, k, b) => T.conv2d(a, k, b), [r(1, [1, 2, 4, 4]), r(2, [2, 2, 3, 3]), r(3, [2])]);
  gradcheck('conv2d_stride_pad', (a, k) => T.conv2d(a, k, null, { stride: 2, padding: 1 }), [r(4, [1, 2, 5, 4]), r(5, [2, 2, 3, 2])]);
  gradcheck('conv2d_dilation', (a, k) => T.conv2d(a, k, null, { dilation: 2, padding: [1, 2] }), [r(6, [1, 1, 5, 5]), r(7, [2, 1, 2, 2])]);
  gradcheck('conv2d_groups', (a, k, b) => T.conv2d(a, k, b, { groups: 2 }), [r(8, [2, 4, 3, 3]), r(9, [4, 2, 2, 2]), r(10, [4])]);
  gradcheck('conv_transpose2d', (a, k, b) => T.convTranspose2d(a, k, b), [r(11, [1, 2, 3, 3]), r(12, [2, 2, 2, 2]), r(13, [2])]);
  gradcheck('conv_transpose2d_stride', (a, k) => T.convTranspose2d(a, k, null, { stride: 2, padding: 1, outputPadding: 1 }), [r(14, [1, 2, 3, 2]), r(15, [2, 1, 3, 3])]);
  gradcheck('conv_transpose2d_groups_dil', (a, k) => T.convTranspose2d(a, k, null, { groups: 2, dilation: 2 }), [r(16, [1, 2, 3, 3]), r(17, [2, 1, 2, 2])]);
  gradcheck('linear', (a, k, b) => T.linear(a, k, b), [r(18, [3, 4]), r(19, [2, 4]), r(20, [2])]);
  gradcheck('linear_3d', (a, k) => T.linear(a, k), [r(21, [2, 2, 3]), r(22, [2, 3])]);
});

test('normalisation gradients match finite differences (float64)', () => {
  const stats = (): { runningMean: T.Tensor; runningVar: T.Tensor } => ({
    runningMean: T.tensor(Float64Array.of(0.1, -0.2), [2], { dtype: 'float64' }),
    runningVar: T.tensor(Float64Array.of(0.8, 1.3), [2], { dtype: 'float64' }),
  });
  gradcheck('batch_norm_train', (a, g, b) => T.batchNorm(a, { weight: g, bias: b, ...stats(), training: true }), [r(30, [3, 2, 2, 2]), uniform64([2], 31, 0.5, 1.5), r(32, [2])]);
  gradcheck('batch_norm_train_no_stats', (a) => T.batchNorm(a, { training: true }), [r(33, [4, 2])]);
  gradcheck('batch_norm_eval', (a, g, b) => T.batchNorm(a, { weight: g, bias: b, ...stats(), training: false }), [r(34, [2, 2, 2, 2]), uniform64([2], 35, 0.5, 1.5), r(36, [2])]);
  gradcheck('group_norm', (a, g, b) => T.groupNorm(a, 2, g, b), [r(37, [2, 4, 2, 1]), uniform64([4], 38, 0.5, 1.5), r(39, [4])]);
  gradcheck('layer_norm', (a, g, b) => T.layerNorm(a, [3], g, b), [r(40, [2, 2, 3]), uniform64([3], 41, 0.5, 1.5), r(42, [3])]);
  gradcheck('layer_norm_2d', (a) => T.layerNorm(a, [2, 3]), [r(43, [2, 2, 3])]);
  gradcheck('softmax', (a) => T.softmax(a, 1), [r(44, [2, 3])]);
  gradcheck('log_softmax', (a) => T.logSoftmax(a, 0), [r(45, [3, 2])]);
  gradcheck('normalize', (a) => T.normalize(a), [r(46, [2, 3])]);
  gradcheck('normalize_p1', (a) => T.normalize(a, 1, 0), [r(47, [3, 2])]);
  gradcheck('cosine_similarity', (a, b) => T.cosineSimilarity(a, b), [r(48, [2, 3]), r(49, [2, 3])]);
  gradcheck('cdist', (a, b) => T.cdist(a, b), [r(50, [3, 2]), r(51, [2, 2])]);
  gradcheck('cdist_exact', (a, b) => T.cdist(a, b, 2, true), [r(52, [1, 3, 2]), r(53, [1, 2, 2])]);
  gradcheck('cdist_p1', (a, b) => T.cdist(a, b, 1), [r(54, [3, 2]), r(55, [2, 2])]);
  gradcheck('cdist_p3', (a, b) => T.cdist(a, b, 3), [r(56, [2, 2]), r(57, [2, 2])]);
});

test('pooling, resampling, padding and im2col gradients match finite differences (float64)', () => {
  const img = (seed: number, h = 4, w = 4): T.Tensor => r(seed, [1, 2, h, w]);
  gradcheck('max_pool2d', (a) => T.maxPool2d(a, 2), [img(60)]);
  gradcheck('max_pool2d_pad_stride', (a) => T.maxPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true }), [img(61, 5, 4)]);
  gradcheck('max_pool2d_dilation', (a) => T.maxPool2d(a, 2, { stride: 1, dilation: 2 }), [img(62)]);
  gradcheck('avg_pool2d', (a) => T.avgPool2d(a, 2, { stride: 1 }), [img(63, 3, 3)]);
  gradcheck('avg_pool2d_pad', (a) => T.avgPool2d(a, 3, { stride: 2, padding: 1, countIncludePad: false }), [img(64)]);
  gradcheck('adaptive_avg_pool2d', (a) => T.adaptiveAvgPool2d(a, [3, 2]), [img(65, 5, 3)]);
  gradcheck('adaptive_max_pool2d', (a) => T.adaptiveMaxPool2d(a, [2, 3]), [img(66, 3, 5)]);
  for (const align of [false, true]) {
    gradcheck(`bilinear_up_align_${align}`, (a) => T.interpolate(a, [5, 4], 'bilinear', align), [img(67, 3, 2)]);
    gradcheck(`bilinear_down_align_${align}`, (a) => T.interpolate(a, [2, 3], 'bilinear', align), [img(68, 4, 5)]);
    gradcheck(`bicubic_align_${align}`, (a) => T.interpolate(a, [5, 3], 'bicubic', align), [img(69, 3, 4)]);
  }
  gradcheck('bilinear_scale', (a) => T.interpolate(a, { scaleFactor: 1.6 }), [img(70, 3, 3)]);
  gradcheck('nearest', (a) => T.interpolate(a, [5, 3], 'nearest'), [img(71, 3, 2)]);
  gradcheck('nearest_down', (a) => T.interpolate(a, [2, 3], 'nearest'), [img(72, 4, 5)]);
  gradcheck('pad_constant', (a) => T.pad(a, [1, 2, 2, 0], 'constant', 0.5), [img(73, 2, 3)]);
  gradcheck('pad_crop', (a) => T.pad(a, [-1, 1]), [img(74, 2, 3)]);
  gradcheck('pad_reflect', (a) => T.pad(a, [2, 1, 1, 2], 'reflect'), [img(75, 3, 3)]);
  gradcheck('pad_replicate', (a) => T.pad(a, [2, 1, 1, 2], 'replicate'), [img(76, 2, 3)]);
  gradcheck('pad_circular', (a) => T.pad(a, [1, 1, 1, 0], 'circular'), [img(77, 2, 3)]);
  gradcheck('unfold', (a) => T.unfold(a, 2, { stride: 1, padding: 1 }), [img(78, 3, 3)]);
  gradcheck('fold', (a) => T.fold(a, [3, 3], 2), [r(79, [1, 4, 4])]);
  gradcheck('pixel_shuffle', (a) => T.pixelShuffle(a, 2), [r(80, [1, 4, 2, 1])]);
});

test('batch_norm in training mode updates the running statistics as torch does', () => {
  T.tidy(() => {
    const input = T.tensor(Float64Array.of(1, 2, 3, 4, 10, 20, 30, 40), [2, 2, 2], { dtype: 'float64' });
    const runningMean = T.zeros([2], { dtype: 'float64' });
    const runningVar = T.ones([2], { dtype: 'float64' });
    T.batchNorm(input, { runningMean, runningVar, training: true, momentum: 0.5 });
    // channel 0 holds 1, 2, 10, 20: mean 8.25, unbiased variance 232.75 / 3; channel 1: 3, 4, 30, 40
    const [m0, m1] = [...(runningMean.data() as Float64Array)];
    const [v0] = [...(runningVar.data() as Float64Array)];
    assert.ok(Math.abs(m0! - 0.5 * 8.25) < 1e-12 && Math.abs(m1! - 0.5 * 19.25) < 1e-12, `running mean ${m0}, ${m1}`);
    assert.ok(Math.abs(v0! - (0.5 + (0.5 * 232.75) / 3)) < 1e-12, `running var ${v0}`);
  });
});

test('nn ops refuse bad input with a SpotdiffError', () => {
  T.tidy(() => {
    const img = T.ones([1, 2, 4, 4]);
    const k = T.ones([3, 2, 3, 3]);
    const cases: [string, () => unknown, string][] = [
      ['conv2d on int64', () => T.conv2d(T.ones([1, 2, 4, 4], { dtype: 'int64' }), k), 'ERR_DTYPE'],
      ['conv2d on a 3-d input', () => T.conv2d(T.ones([2, 4, 4]), k), 'ERR_SHAPE'],
      ['conv2d with a channel mismatch', () => T.conv2d(T.ones([1, 3, 4, 4]), k), 'ERR_SHAPE'],
      ['conv2d with a kernel larger than the input', () => T.conv2d(T.ones([1, 2, 2, 2]), k), 'ERR_TORCH'],
      ['conv2d with stride 0', () => T.conv2d(img, k, null, { stride: 0 }), 'ERR_TORCH'],
      ['conv2d with float weight and double input', () => T.conv2d(T.ones([1, 2, 4, 4], { dtype: 'float64' }), k), 'ERR_TORCH'],
      ['batch_norm with one value per channel in training', () => T.batchNorm(T.ones([1, 3]), { training: true }), 'ERR_SHAPE'],
      ['batch_norm with wrong-size running stats', () => T.batchNorm(img, { training: false, runningMean: T.zeros([3]), runningVar: T.ones([3]) }), 'ERR_TORCH'],
      ['batch_norm in eval mode without running stats', () => T.batchNorm(img, { training: false }), 'ERR_TORCH'],
      ['group_norm with groups not dividing channels', () => T.groupNorm(T.ones([1, 3, 2, 2]), 2), 'ERR_TORCH'],
      ['layer_norm with the wrong trailing shape', () => T.layerNorm(img, [5]), 'ERR_TORCH'],
      ['linear with mismatched features', () => T.linear(T.ones([2, 3]), T.ones([4, 5])), 'ERR_SHAPE'],
      ['linear with a 3-d weight', () => T.linear(T.ones([2, 3]), T.ones([4, 3, 1])), 'ERR_SHAPE'],
      ['max_pool2d on a 2-d input', () => T.maxPool2d(T.ones([4, 4]), 2), 'ERR_SHAPE'],
      ['max_pool2d with too much padding', () => T.maxPool2d(img, 2, { padding: 2 }), 'ERR_TORCH'],
      ['interpolate to size 0', () => T.interpolate(img, 0), 'ERR_SHAPE'],
      ['interpolate by a negative scale', () => T.interpolate(img, { scaleFactor: -2 }), 'ERR_BAD_INPUT'],
      ['bilinear on int64', () => T.interpolate(T.ones([1, 1, 2, 2], { dtype: 'int64' }), 4), 'ERR_DTYPE'],
      ['reflect padding wider than the input', () => T.pad(img, [4, 4], 'reflect'), 'ERR_TORCH'],
      ['pad with an odd list', () => T.pad(img, [1, 1, 1]), 'ERR_TORCH'],
      ['softmax dim out of range', () => T.softmax(img, 4), 'ERR_TORCH'],
      ['cdist with different feature sizes', () => T.cdist(T.ones([2, 3]), T.ones([2, 4])), 'ERR_SHAPE'],
      ['cdist of int64', () => T.cdist(T.ones([2, 3], { dtype: 'int64' }), T.ones([2, 3], { dtype: 'int64' })), 'ERR_TORCH'],
      ['unfold with a kernel larger than the input', () => T.unfold(img, 5), 'ERR_TORCH'],
      ['fold with the wrong number of blocks', () => T.fold(T.ones([1, 4, 3]), 4, 2), 'ERR_TORCH'],
    ];
    for (const [what, run, code] of cases) {
      assert.throws(run, (e: unknown) => isSpotdiffError(e) && e.code === code, `${what}: expected ${code}`);
    }
  });
});

// gridSample against torch.nn.functional.grid_sample: every mode and padding, points inside,
// on and beyond the border, both align_corners.
T.manualSeed(3);
const gsInput = T.keep(T.rand([2, 3, 7, 9]));
const grid = T.keep(T.sub(T.mul(T.rand([2, 5, 6, 2]), 2.4), 1.2));
const gsRef = new TorchReference();
gsRef.input('x', gsInput);
gsRef.input('g', grid);
const gsCases: [T.GridSampleMode, T.GridSamplePadding, boolean][] = [];
for (const mode of ['bilinear', 'nearest', 'bicubic'] as const) {
  for (const padding of ['zeros', 'border', 'reflection'] as const) {
    for (const align of [false, true]) {
      gsCases.push([mode, padding, align]);
      gsRef.case(`${mode}-${padding}-${align}`, `import torch.nn.functional as F\nout = F.grid_sample(x, g, mode='${mode}', padding_mode='${padding}', align_corners=${align ? 'True' : 'False'})`);
    }
  }
}
const gsResults = gsRef.run();

test('gridSample equals F.grid_sample (modes, paddings, align_corners) to 1e-5', () => {
  for (const [mode, padding, align] of gsCases) {
    const want = refOutputs(gsResults, `${mode}-${padding}-${align}`)[0]!;
    const got = T.gridSample(gsInput, grid, mode, padding, align);
    assert.deepEqual(got.shape, [2, 3, 5, 6]);
    const g = got.toFloat32();
    const d = Math.max(...Array.from(g, (v, i) => Math.abs(v - (want.values[i] as number))));
    assert.ok(d <= 1e-5, `${mode} ${padding} ${align}: ${d}`);
  }
});

test('gridSample refuses a grid of another batch or last size, and unknown modes', () => {
  assert.throws(() => T.gridSample(gsInput, T.zeros([1, 5, 6, 2])), { code: 'ERR_SHAPE' });
  assert.throws(() => T.gridSample(gsInput, T.zeros([2, 5, 6, 3])), { code: 'ERR_SHAPE' });
  assert.throws(() => T.gridSample(gsInput, grid, 'area' as T.GridSampleMode), { code: 'ERR_BAD_INPUT' });
});
