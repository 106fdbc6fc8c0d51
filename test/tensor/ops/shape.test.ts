import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';
import { assertMatches } from '../../helpers/close.js';
import { gradcheck, randn64 } from '../../helpers/gradcheck.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

const ref = new TorchReference();
T.manualSeed(31);
const a = ref.input('a', T.randn([2, 3, 4]));
const b = ref.input('b', T.randn([2, 3, 4]));
const sq = ref.input('sq', T.randn([4, 4]));
const col = ref.input('col', T.randn([3, 1]));
const idx = ref.input('idx', T.tensor(new BigInt64Array([2n, 0n, 2n])));
const gidx = ref.input('gidx', T.randint(0, 4, [2, 3, 2]));
const sidx = ref.input('sidx', T.tensor(new BigInt64Array([3n, 0n, 1n, 2n, 1n, 3n]), [2, 3, 1]));
const src = ref.input('src', T.randn([2, 3, 1]));
const mask = ref.input('mask', T.gt(T.randn([2, 3, 4]), 0.3));
const labels = ref.input('labels', T.tensor(new BigInt64Array([0n, 3n, 1n, 1n])));
const seq = ref.input('seq', T.arange(0, 10));

type Case = [name: string, run: () => T.Tensor | T.Tensor[], python: string];
const cases: Case[] = [
  ['reshape', () => T.reshape(a, [6, -1]), 'a.reshape(6, -1)'],
  ['view', () => T.view(a, [4, 6]), 'a.view(4, 6)'],
  ['permute', () => T.permute(a, [2, 0, 1]), 'a.permute(2, 0, 1)'],
  ['transpose', () => T.transpose(a, 0, 2), 'a.transpose(0, 2)'],
  ['flatten', () => T.flatten(a), 'a.flatten()'],
  ['flatten_from1', () => T.flatten(a, 1), 'a.flatten(1)'],
  ['squeeze', () => T.squeeze(col), 'col.squeeze()'],
  ['squeeze_dim', () => T.squeeze(col, 1), 'col.squeeze(1)'],
  ['unsqueeze', () => T.unsqueeze(a, -1), 'a.unsqueeze(-1)'],
  ['expand', () => T.expand(col, [3, 5]), 'col.expand(3, 5)'],
  ['expand_new_dim', () => T.expand(col, [2, -1, 4]), 'col.expand(2, -1, 4)'],
  ['repeat', () => T.repeat(col, [2, 3]), 'col.repeat(2, 3)'],
  ['cat', () => T.cat([a, b], 1), 'torch.cat([a, b], 1)'],
  ['cat_neg', () => T.cat([a, b, a], -1), 'torch.cat([a, b, a], -1)'],
  ['stack', () => T.stack([a, b]), 'torch.stack([a, b])'],
  ['stack_last', () => T.stack([a, b], 3), 'torch.stack([a, b], 3)'],
  ['slice', () => T.slice(a, 2, 1, 3), 'a[:, :, 1:3]'],
  ['slice_step', () => T.slice(a, 2, 0, 4, 2), 'a[:, :, ::2]'],
  ['slice_open', () => T.slice(a, 1, 1), 'a[:, 1:]'],
  ['slice_negative', () => T.slice(a, 1, -2), 'a[:, -2:]'],
  ['slice_past_end', () => T.slice(a, 0, 1, 99), 'a[1:99]'],
  ['narrow', () => T.narrow(a, 1, 1, 2), 'a.narrow(1, 1, 2)'],
  ['select', () => T.select(a, 1, 2), 'a.select(1, 2)'],
  ['select_neg', () => T.select(a, 0, -1), 'a[-1]'],
  ['index_select', () => T.indexSelect(a, 1, idx), 'a.index_select(1, idx)'],
  ['gather', () => T.gather(a, 2, gidx), 'a.gather(2, gidx)'],
  ['scatter', () => T.scatter(a, 2, sidx, src), 'a.scatter(2, sidx, src)'],
  ['scatter_scalar', () => T.scatter(a, 2, sidx, -7.5), 'a.scatter(2, sidx, -7.5)'],
  ['scatter_add', () => T.scatterAdd(a, 2, sidx, src), 'a.scatter_add(2, sidx, src)'],
  ['index', () => T.index(sq, [idx]), 'sq[idx]'],
  ['index_two', () => T.index(sq, [idx, T.tensor(new BigInt64Array([1n, 1n, 3n]))]), 'sq[idx, torch.tensor([1, 1, 3])]'],
  ['index_bool', () => T.index(a, [mask]), 'a[mask]'],
  ['masked_select', () => T.maskedSelect(a, mask), 'a.masked_select(mask)'],
  ['nonzero', () => T.nonzero(mask), 'mask.nonzero()'],
  ['split', () => T.split(seq, 3), 'seq.split(3)'],
  ['split_dim', () => T.split(a, 2, 2), 'a.split(2, 2)'],
  ['chunk', () => T.chunk(seq, 4), 'seq.chunk(4)'],
  ['chunk_dim', () => T.chunk(a, 3, 1), 'a.chunk(3, 1)'],
  ['flip', () => T.flip(a, [0, 2]), 'a.flip(0, 2)'],
  ['roll', () => T.roll(a, [1, -1], [1, 2]), 'a.roll((1, -1), (1, 2))'],
  ['tril', () => T.tril(sq), 'sq.tril()'],
  ['triu', () => T.triu(sq, 1), 'sq.triu(1)'],
  ['tril_neg', () => T.tril(sq, -1), 'sq.tril(-1)'],
  ['diagonal', () => T.diagonal(sq), 'sq.diagonal()'],
  ['diagonal_offset', () => T.diagonal(a, 1, 1, 2), 'a.diagonal(1, 1, 2)'],
  ['diag_embed', () => T.diagEmbed(col), 'torch.diag_embed(col)'],
  ['one_hot', () => T.oneHot(labels), 'F.one_hot(labels)'],
  ['one_hot_classes', () => T.oneHot(labels, 6), 'F.one_hot(labels, 6)'],
  ['unfold_dim', () => T.unfoldDim(seq, 0, 4, 3), 'seq.unfold(0, 4, 3)'],
  ['unfold_dim_2d', () => T.unfoldDim(a, 2, 2, 1), 'a.unfold(2, 2, 1)'],
];
for (const [name, , python] of cases) ref.case(name, python);
const results = ref.run();

test('shape ops match PyTorch exactly (same values, shapes and dtypes)', () => {
  T.tidy(() => {
    for (const [name, run] of cases) {
      const out = run();
      const expected = refOutputs(results, name);
      const outs = Array.isArray(out) ? out : [out];
      assert.equal(outs.length, expected.length, `${name}: ${outs.length} outputs, expected ${expected.length}`);
      outs.forEach((t, k) => assertMatches(`${name}[${k}]`, t, expected[k]!, { rtol: 0, atol: 0 }));
    }
  });
});

test('shape op gradients match finite differences (float64)', () => {
  const x = (seed: number, shape: readonly number[]): T.Tensor => randn64(shape, seed);
  const i64 = (values: number[], shape: number[]): T.Tensor => T.tensor(BigInt64Array.from(values, BigInt), shape);
  const checks: [string, (...t: T.Tensor[]) => T.Tensor, T.Tensor[]][] = [
    ['reshape', (t) => T.reshape(t, [3, 2]), [x(1, [2, 3])]],
    ['view', (t) => T.view(t, [6]), [x(2, [2, 3])]],
    ['permute', (t) => T.permute(t, [2, 0, 1]), [x(3, [2, 1, 3])]],
    ['transpose', (t) => T.transpose(t, 0, 1), [x(4, [2, 3])]],
    ['flatten', (t) => T.flatten(t, 1), [x(5, [2, 1, 3])]],
    ['squeeze_unsqueeze', (t) => T.unsqueeze(T.squeeze(t, 1), 0), [x(6, [2, 1, 2])]],
    ['expand', (t) => T.expand(t, [2, 3, 2]), [x(7, [3, 1])]],
    ['repeat', (t) => T.repeat(t, [2, 2]), [x(8, [1, 3])]],
    ['cat', (u, v) => T.cat([u, v], 1), [x(9, [2, 2]), x(10, [2, 1])]],
    ['stack', (u, v) => T.stack([u, v], 1), [x(11, [3]), x(12, [3])]],
    ['slice', (t) => T.slice(t, 1, 1, 4, 2), [x(13, [2, 4])]],
    ['narrow', (t) => T.narrow(t, 0, 1, 2), [x(14, [3, 2])]],
    ['select', (t) => T.select(t, 1, 2), [x(15, [2, 3])]],
    ['index_select', (t) => T.indexSelect(t, 0, i64([2, 0, 2], [3])), [x(16, [3, 2])]],
    ['gather', (t) => T.gather(t, 1, i64([0, 2, 2, 1, 1, 0], [2, 3])), [x(17, [2, 3])]],
    ['scatter', (t, s) => T.scatter(t, 1, i64([2, 0], [2, 1]), s), [x(18, [2, 3]), x(19, [2, 1])]],
    ['scatter_add', (t, s) => T.scatterAdd(t, 1, i64([2, 2, 0, 1], [2, 2]), s), [x(20, [2, 3]), x(21, [2, 2])]],
    ['index', (t) => T.index(t, [i64([1, 1, 0], [3])]), [x(22, [2, 3])]],
    ['masked_select', (t) => T.maskedSelect(t, T.tensor(Uint8Array.of(1, 0, 1, 1), [2, 2], { dtype: 'bool' })), [x(23, [2, 2])]],
    ['split', (t) => T.mul(T.split(t, 2, 1)[1]!, 3), [x(24, [2, 3])]],
    ['chunk', (t) => T.chunk(t, 2)[0]!, [x(25, [3, 2])]],
    ['flip', (t) => T.flip(t, [1]), [x(26, [2, 3])]],
    ['roll', (t) => T.roll(t, [1], [1]), [x(27, [2, 3])]],
    ['tril', (t) => T.tril(t), [x(28, [3, 3])]],
    ['triu', (t) => T.triu(t, 1), [x(29, [3, 3])]],
    ['diagonal', (t) => T.diagonal(t), [x(30, [3, 3])]],
    ['diag_embed', (t) => T.diagEmbed(t), [x(31, [2, 2])]],
    ['unfold_dim', (t) => T.unfoldDim(t, 0, 3, 2), [x(32, [5])]],
  ];
  for (const [name, f, inputs] of checks) gradcheck(name, f, inputs);
});

test('views share storage: a view sees an in-place change of its base', () => {
  T.tidy(() => {
    const base = T.zeros([2, 3]);
    const v = T.view(base, [6]);
    const s = T.select(base, 0, 1);
    T.fillInPlace(s, 4);
    assert.deepEqual([...v.data()], [0, 0, 0, 4, 4, 4]);
  });
});

test('shape ops refuse bad input with a SpotdiffError', () => {
  T.tidy(() => {
    const t = T.ones([2, 3]);
    const cases: [string, () => unknown, string][] = [
      ['reshape', () => T.reshape(t, [4, -1]), 'ERR_TORCH'],
      ['view of a transposed tensor', () => T.view(T.transpose(t, 0, 1), [6]), 'ERR_TORCH'],
      ['permute with too few dims', () => T.permute(t, [0]), 'ERR_SHAPE'],
      ['permute with a repeated dim', () => T.permute(t, [1, 1]), 'ERR_TORCH'],
      ['cat of nothing', () => T.cat([]), 'ERR_BAD_INPUT'],
      ['stack of nothing', () => T.stack([]), 'ERR_BAD_INPUT'],
      ['cat of mismatched shapes', () => T.cat([t, T.ones([3, 3])], 1), 'ERR_TORCH'],
      ['slice dim out of range', () => T.slice(t, 2, 0), 'ERR_SHAPE'],
      ['slice with step 0', () => T.slice(t, 0, 0, 2, 0), 'ERR_TORCH'],
      ['select out of range', () => T.select(t, 1, 3), 'ERR_TORCH'],
      ['index_select out of range', () => T.indexSelect(t, 1, T.tensor(new BigInt64Array([5n]))), 'ERR_TORCH'],
      ['index_select with float indices', () => T.indexSelect(t, 1, T.ones([1])), 'ERR_TORCH'],
      ['gather out of range', () => T.gather(t, 1, T.tensor(new BigInt64Array([7n, 0n]), [2, 1])), 'ERR_TORCH'],
      ['scatter out of range', () => T.scatter(t, 1, T.tensor(new BigInt64Array([7n, 0n]), [2, 1]), 1), 'ERR_TORCH'],
      ['bool index of the wrong shape', () => T.index(t, [T.ones([3], { dtype: 'bool' })]), 'ERR_TORCH'],
      ['one_hot of a float tensor', () => T.oneHot(t, 3), 'ERR_TORCH'],
      ['one_hot of a negative class', () => T.oneHot(T.tensor(new BigInt64Array([-1n])), 3), 'ERR_TORCH'],
      ['one_hot of a class past num_classes', () => T.oneHot(T.tensor(new BigInt64Array([3n])), 3), 'ERR_TORCH'],
      ['split of size 0', () => T.split(t, 0), 'ERR_TORCH'],
      ['expand to an incompatible shape', () => T.expand(t, [4, 3]), 'ERR_TORCH'],
    ];
    for (const [what, run, code] of cases) {
      assert.throws(run, (e: unknown) => isSpotdiffError(e) && e.code === code, `${what}: expected ${code}`);
    }
  });
});
