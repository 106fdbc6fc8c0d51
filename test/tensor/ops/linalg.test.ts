import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';
import { assertMatches } from '../../helpers/close.js';
import { gradcheck, randn64 } from '../../helpers/gradcheck.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

const ref = new TorchReference();
T.manualSeed(61);
const a = ref.input('a', T.randn([3, 4]));
const b = ref.input('b', T.randn([4, 5]));
const v = ref.input('v', T.randn([4]));
const w = ref.input('w', T.randn([3]));
const ba = ref.input('ba', T.randn([2, 3, 4]));
const bb = ref.input('bb', T.randn([2, 4, 5]));
const bc = ref.input('bc', T.randn([2, 3, 5]));
const c = ref.input('c', T.randn([3, 5]));
const m64 = ref.input('m64', T.randn([4, 4], { dtype: 'float64' }));
const r64 = ref.input('r64', T.randn([4, 2], { dtype: 'float64' }));
const spd = ref.input('spd', T.add(T.matmul(m64, T.transpose(m64, 0, 1)), T.eye(4, { dtype: 'float64' })));
const g = T.randn([2, 3, 3]);
const bspd = ref.input('bspd', T.add(T.matmul(g, T.transpose(g, 1, 2)), T.mul(T.eye(3), 4)));

type Case = [name: string, run: () => T.Tensor, python: string];
const cases: Case[] = [
  ['matmul', () => T.matmul(a, b), 'a @ b'],
  ['matmul_vec', () => T.matmul(a, v), 'a @ v'],
  ['matmul_vec_left', () => T.matmul(w, a), 'w @ a'],
  ['matmul_batched', () => T.matmul(ba, bb), 'ba @ bb'],
  ['matmul_broadcast', () => T.matmul(ba, b), 'ba @ b'],
  ['mm', () => T.mm(a, b), 'torch.mm(a, b)'],
  ['bmm', () => T.bmm(ba, bb), 'torch.bmm(ba, bb)'],
  ['einsum', () => T.einsum('bij,bjk->bik', ba, bb), "torch.einsum('bij,bjk->bik', ba, bb)"],
  ['einsum_trace', () => T.einsum('ii', m64), "torch.einsum('ii', m64)"],
  ['einsum_outer_sum', () => T.einsum('i,j->', v, w), "torch.einsum('i,j->', v, w)"],
  ['einsum_ellipsis', () => T.einsum('...ij->...ji', ba), "torch.einsum('...ij->...ji', ba)"],
  ['outer', () => T.outer(v, w), 'torch.outer(v, w)'],
  ['dot', () => T.dot(v, v), 'torch.dot(v, v)'],
  ['inverse', () => T.inverse(m64), 'torch.linalg.inv(m64)'],
  ['inverse_batched', () => T.inverse(bspd), 'torch.linalg.inv(bspd)'],
  ['cholesky', () => T.cholesky(spd), 'torch.linalg.cholesky(spd)'],
  ['cholesky_upper', () => T.cholesky(spd, true), 'torch.linalg.cholesky(spd, upper=True)'],
  ['cholesky_batched', () => T.cholesky(bspd), 'torch.linalg.cholesky(bspd)'],
  ['cholesky_inverse', () => T.choleskyInverse(T.cholesky(spd)), 'torch.cholesky_inverse(torch.linalg.cholesky(spd))'],
  ['cholesky_inverse_upper', () => T.choleskyInverse(T.cholesky(spd, true), true), 'torch.cholesky_inverse(torch.linalg.cholesky(spd, upper=True), upper=True)'],
  ['solve', () => T.solve(m64, r64), 'torch.linalg.solve(m64, r64)'],
  ['solve_vec', () => T.solve(spd, T.select(r64, 1, 0)), 'torch.linalg.solve(spd, r64[:, 0])'],
  ['baddbmm', () => T.baddbmm(bc, ba, bb, 0.5, 2), 'torch.baddbmm(bc, ba, bb, beta=0.5, alpha=2)'],
  ['addmm', () => T.addmm(c, a, b, 2, -1), 'torch.addmm(c, a, b, beta=2, alpha=-1)'],
  ['addmm_broadcast', () => T.addmm(T.select(c, 0, 0), a, b), 'torch.addmm(c[0], a, b)'],
];
for (const [name, , python] of cases) ref.case(name, python);
const results = ref.run();

test('linear algebra matches PyTorch (float32 1e-5, float64 1e-12 relative)', () => {
  T.tidy(() => {
    for (const [name, run] of cases) assertMatches(name, run(), refOutputs(results, name)[0]!);
  });
});

test('linear algebra gradients match finite differences (float64)', () => {
  const x = (seed: number, shape: readonly number[]): T.Tensor => randn64(shape, seed);
  const eye = (n: number): T.Tensor => T.eye(n, { dtype: 'float64' });
  // A well-conditioned matrix: random plus a multiple of the identity.
  const cond = (seed: number, n: number): T.Tensor => T.add(x(seed, [n, n]), T.mul(eye(n), 3));
  gradcheck('matmul', (p, q) => T.matmul(p, q), [x(1, [2, 3]), x(2, [3, 2])]);
  gradcheck('matmul_batched_broadcast', (p, q) => T.matmul(p, q), [x(3, [2, 2, 3]), x(4, [3, 1])]);
  gradcheck('matmul_vec', (p, q) => T.matmul(p, q), [x(5, [2, 3]), x(6, [3])]);
  gradcheck('mm', (p, q) => T.mm(p, q), [x(7, [2, 2]), x(8, [2, 3])]);
  gradcheck('bmm', (p, q) => T.bmm(p, q), [x(9, [2, 2, 2]), x(10, [2, 2, 1])]);
  gradcheck('einsum', (p, q) => T.einsum('ij,kj->ik', p, q), [x(11, [2, 3]), x(12, [2, 3])]);
  gradcheck('einsum_diag', (p) => T.einsum('ii->i', p), [x(13, [3, 3])]);
  gradcheck('outer', (p, q) => T.outer(p, q), [x(14, [3]), x(15, [2])]);
  gradcheck('dot', (p, q) => T.dot(p, q), [x(16, [3]), x(17, [3])]);
  gradcheck('inverse', (p) => T.inverse(p), [cond(18, 3)]);
  gradcheck('solve', (p, q) => T.solve(p, q), [cond(19, 3), x(20, [3, 2])]);
  gradcheck('cholesky', (p) => T.cholesky(T.add(T.matmul(p, T.transpose(p, 0, 1)), eye(3))), [x(21, [3, 3])]);
  gradcheck('cholesky_upper', (p) => T.cholesky(T.add(T.matmul(p, T.transpose(p, 0, 1)), eye(2)), true), [x(22, [2, 2])]);
  gradcheck('cholesky_inverse', (p) => T.choleskyInverse(T.add(T.tril(p), T.mul(eye(3), 3))), [x(23, [3, 3])]);
  gradcheck('baddbmm', (i, p, q) => T.baddbmm(i, p, q, 0.5, 2), [x(24, [1, 2, 2]), x(25, [1, 2, 3]), x(26, [1, 3, 2])]);
  gradcheck('addmm', (i, p, q) => T.addmm(i, p, q, 2, -1), [x(27, [2]), x(28, [3, 2]), x(29, [2, 2])]);
});

test('linear algebra refuses bad input with a SpotdiffError', () => {
  T.tidy(() => {
    const cases: [string, () => unknown, string][] = [
      ['matmul with mismatched inner sizes', () => T.matmul(T.ones([2, 3]), T.ones([2, 3])), 'ERR_SHAPE'],
      ['matmul of 0-d tensors', () => T.matmul(T.scalar(2), T.scalar(3)), 'ERR_SHAPE'],
      ['mm with mismatched inner sizes', () => T.mm(T.ones([2, 3]), T.ones([2, 3])), 'ERR_TORCH'],
      ['bmm of 2-d tensors', () => T.bmm(T.ones([2, 3]), T.ones([3, 2])), 'ERR_TORCH'],
      ['einsum with too few operands', () => T.einsum('ij,jk->ik', T.ones([2, 3])), 'ERR_TORCH'],
      ['inverse of a singular matrix', () => T.inverse(T.zeros([2, 2])), 'ERR_TORCH'],
      ['inverse of a non-square matrix', () => T.inverse(T.ones([2, 3])), 'ERR_TORCH'],
      ['inverse of an int64 matrix', () => T.inverse(T.eye(2, { dtype: 'int64' })), 'ERR_TORCH'],
      ['cholesky of an indefinite matrix', () => T.cholesky(T.tensor([1, 2, 2, 1], [2, 2])), 'ERR_TORCH'],
      ['solve with mismatched sizes', () => T.solve(T.eye(2), T.ones([3])), 'ERR_TORCH'],
      ['dot of different lengths', () => T.dot(T.ones([2]), T.ones([3])), 'ERR_TORCH'],
    ];
    for (const [what, run, code] of cases) {
      assert.throws(run, (e: unknown) => isSpotdiffError(e) && e.code === code, `${what}: expected ${code}`);
    }
  });
});
