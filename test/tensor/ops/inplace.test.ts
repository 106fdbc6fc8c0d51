import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';
import { assertMatches } from '../../helpers/close.js';
import { gradcheck, randn64 } from '../../helpers/gradcheck.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

const ref = new TorchReference();
T.manualSeed(81);
const a = ref.input('a', T.randn([3, 4]));
const b = ref.input('b', T.randn([3, 4]));
const row = ref.input('row', T.randn([4]));
const ia = ref.input('ia', T.randint(-5, 5, [3, 4]));
const rows = ref.input('rows', T.tensor(new BigInt64Array([2n, 0n, 2n])));
const colIdx = ref.input('colIdx', T.tensor(new BigInt64Array([1n, 3n, 1n])));
const vals = ref.input('vals', T.tensor([10, 20, 30]));

// Each case applies the op to a clone and returns the clone.
type Case = [name: string, run: (t: T.Tensor) => void, python: string, base?: T.Tensor];
const cases: Case[] = [
  ['add_', (t) => T.addInPlace(t, b), 'out.add_(b)'],
  ['add_alpha', (t) => T.addInPlace(t, row, -0.5), 'out.add_(row, alpha=-0.5)'],
  ['add_scalar', (t) => T.addInPlace(t, 1.25), 'out.add_(1.25)'],
  ['add_int', (t) => T.addInPlace(t, 3), 'out.add_(3)', ia],
  ['mul_', (t) => T.mulInPlace(t, row), 'out.mul_(row)'],
  ['mul_scalar', (t) => T.mulInPlace(t, 0.9), 'out.mul_(0.9)'],
  ['div_', (t) => T.divInPlace(t, T.add(T.abs(b), 0.5)), 'out.div_(b.abs() + 0.5)'],
  ['div_scalar', (t) => T.divInPlace(t, 3), 'out.div_(3)'],
  ['copy_', (t) => T.copyInPlace(t, b), 'out.copy_(b)'],
  ['copy_broadcast', (t) => T.copyInPlace(t, row), 'out.copy_(row)'],
  ['copy_cast', (t) => T.copyInPlace(t, T.mul(a, 3)), 'out.copy_(a * 3)', ia],
  ['zero_', (t) => T.zeroInPlace(t), 'out.zero_()'],
  ['fill_', (t) => T.fillInPlace(t, -2.5), 'out.fill_(-2.5)'],
  ['clamp_', (t) => T.clampInPlace(t, -0.3, 0.4), 'out.clamp_(-0.3, 0.4)'],
  ['clamp_min', (t) => T.clampInPlace(t, 0, null), 'out.clamp_(min=0)'],
  ['lerp_', (t) => T.lerpInPlace(t, b, 0.999), 'out.lerp_(b, 0.999)'],
  ['index_put_', (t) => T.indexPutInPlace(t, [rows, colIdx], vals), 'out.index_put_((rows, colIdx), vals)'],
  ['index_put_accumulate', (t) => T.indexPutInPlace(t, [rows, colIdx], vals, true), 'out.index_put_((rows, colIdx), vals, accumulate=True)'],
  ['index_put_rows', (t) => T.indexPutInPlace(t, [rows], row), 'out.index_put_((rows,), row)'],
  ['relu_', (t) => T.reluInPlace(t), 'out.relu_()'],
];
for (const [name, , python, base] of cases) ref.case(name, `out = ${base === ia ? 'ia' : 'a'}.clone()\n${python}`);
const results = ref.run();

test('in-place ops match PyTorch and change their tensor only', () => {
  T.tidy(() => {
    for (const [name, run, , base] of cases) {
      const original = base ?? a;
      const before = original.data();
      const t = T.clone(original);
      run(t);
      assertMatches(name, t, refOutputs(results, name)[0]!);
      assert.deepEqual(original.data(), before, `${name}: the source of the clone changed`);
    }
  });
});

test('in-place ops on non-leaf tensors differentiate like their out-of-place forms (float64)', () => {
  const x = (seed: number, shape: readonly number[] = [2, 3]): T.Tensor => randn64(shape, seed);
  const inPlace = (f: (y: T.Tensor, ...rest: T.Tensor[]) => void) => (t: T.Tensor, ...rest: T.Tensor[]): T.Tensor => {
    const y = T.mul(t, 1);
    f(y, ...rest);
    return y;
  };
  const i64 = (...v: bigint[]): T.Tensor => T.tensor(BigInt64Array.from(v));
  gradcheck('add_', inPlace((y, o) => T.addInPlace(y, o!, 2)), [x(1), x(2, [3])]);
  gradcheck('mul_', inPlace((y, o) => T.mulInPlace(y, o!)), [x(3), x(4)]);
  gradcheck('div_', inPlace((y) => T.divInPlace(y, 0.7)), [x(5)]);
  gradcheck('copy_', inPlace((y, o) => T.copyInPlace(y, o!)), [x(6), x(7, [3])]);
  gradcheck('clamp_', inPlace((y) => T.clampInPlace(y, -0.5, 0.5)), [x(8)]);
  gradcheck('lerp_', inPlace((y, o) => T.lerpInPlace(y, o!, 0.25)), [x(9), x(10)]);
  gradcheck('relu_', inPlace((y) => T.reluInPlace(y)), [x(15)]);
  gradcheck('index_put_', inPlace((y, v) => T.indexPutInPlace(y, [i64(1n, 0n), i64(2n, 2n)], v!)), [x(11), x(12, [2])]);
  gradcheck('index_put_accumulate', inPlace((y, v) => T.indexPutInPlace(y, [i64(1n, 1n), i64(0n, 0n)], v!, true)), [x(13), x(14, [2])]);
});

test('autograd guards: in-place on a leaf needs noGrad; changing a saved tensor fails at backward', () => {
  T.tidy(() => {
    const w = T.tensor([1, 2]).setRequiresGrad();
    assert.throws(() => T.addInPlace(w, 1), (e: unknown) => isSpotdiffError(e, 'ERR_TORCH') && /leaf Variable/.test(e.message));
    T.noGrad(() => T.addInPlace(w, 1)); // as an optimiser step does
    assert.deepEqual([...w.data()], [2, 3]);
    assert.equal(w.requiresGrad, true);

    const e = T.exp(w);
    const loss = T.sum(e);
    T.noGrad(() => T.mulInPlace(e, 2));
    assert.throws(() => loss.backward(), (err: unknown) => isSpotdiffError(err, 'ERR_TORCH') && /modified by an inplace operation/.test(err.message));
  });
});

test('in-place ops refuse bad input with a SpotdiffError', () => {
  T.tidy(() => {
    const t = T.ones([2, 3]);
    const cases: [string, () => unknown][] = [
      ['a result that would need broadcasting', () => T.addInPlace(T.ones([3]), T.ones([2, 3]))],
      ['a float result into an int tensor', () => T.addInPlace(T.ones([2], { dtype: 'int64' }), 0.5)],
      ['copy_ of an incompatible shape', () => T.copyInPlace(t, T.ones([4]))],
      ['index_put_ out of range', () => T.indexPutInPlace(t, [T.tensor(new BigInt64Array([5n]))], T.ones([3]))],
      ['clamp_ without bounds', () => T.clampInPlace(t, null, null)],
    ];
    for (const [what, run] of cases) assert.throws(run, (e: unknown) => isSpotdiffError(e, 'ERR_TORCH'), what);
    const gone = T.ones([2]);
    gone.dispose();
    assert.throws(() => T.fillInPlace(gone, 1), (e: unknown) => isSpotdiffError(e, 'ERR_DISPOSED'));
  });
});
