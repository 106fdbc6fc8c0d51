import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';

test('tidy frees what it made and keeps what it returns', () => {
  const before = T.liveTensorCount();
  const kept = T.tidy(() => {
    const a = T.ones([3, 3]);
    const b = T.add(a, 2);
    return { sum: T.sum(b), list: [T.mul(b, b)] };
  });
  assert.equal(T.liveTensorCount(), before + 2);
  assert.equal(kept.sum.item(), 27);
  T.dispose(kept);
  assert.equal(T.liveTensorCount(), before);
});

test('nested tidy moves results to the enclosing scope only', () => {
  const before = T.liveTensorCount();
  const outer = T.tidy(() => {
    const inner = T.tidy(() => T.zeros([2]));
    assert.equal(inner.isDisposed, false);
    T.zeros([5]);
    return T.add(inner, 1);
  });
  assert.equal(T.liveTensorCount(), before + 1);
  assert.deepEqual(Array.from(outer.data() as Float32Array), [1, 1]);
  outer.dispose();
  assert.equal(T.liveTensorCount(), before);
});

test('keep lets a tensor outlive its scope; a thrown error still frees the scope', () => {
  const before = T.liveTensorCount();
  let saved: T.Tensor | undefined;
  T.tidy(() => {
    saved = T.keep(T.ones([4]));
    T.ones([4]);
  });
  assert.equal(T.liveTensorCount(), before + 1);
  assert.throws(() => T.tidy(() => {
    T.ones([8]);
    throw new Error('boom');
  }), /boom/);
  assert.equal(T.liveTensorCount(), before + 1);
  saved!.dispose();
  assert.equal(T.liveTensorCount(), before);
});

test('a disposed tensor says so instead of crashing', () => {
  const t = T.ones([2]);
  t.dispose();
  t.dispose();
  assert.throws(() => T.add(t, 1), (e) => isSpotdiffError(e, 'ERR_DISPOSED'));
});

test('libtorch errors become SpotdiffErrors naming the op and shapes', () => {
  T.tidy(() => {
    const a = T.ones([2, 3]);
    assert.throws(() => T.mm(a, a), (e: unknown) => isSpotdiffError(e, 'ERR_TORCH') && /mm\(tensor\[2, 3\] float32, tensor\[2, 3\] float32\)/.test((e as Error).message));
    assert.throws(() => T.matmul(a, a), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    assert.throws(() => T.conv2d(a, a), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    assert.throws(() => T.tensor([1, 2, 3], [2, 2]), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    assert.throws(() => T.cat([T.ones([2, 2]), T.ones([3, 3])], 0), (e) => isSpotdiffError(e, 'ERR_TORCH'));
  });
});

test('autograd: backward, grad, noGrad', () => {
  T.tidy(() => {
    const x = T.tensor([1, 2, 3]).setRequiresGrad();
    const y = T.sum(T.mul(x, x));
    y.backward();
    assert.deepEqual(Array.from(x.grad!.data() as Float32Array), [2, 4, 6]);
    const z = T.noGrad(() => T.mul(x, 2));
    assert.equal(z.requiresGrad, false);
    x.setGrad(null);
    assert.equal(x.grad, null);
  });
});

test('seeded random numbers repeat', () => {
  T.tidy(() => {
    T.manualSeed(7);
    const a = T.rand([5]).data();
    T.manualSeed(7);
    const b = T.rand([5]).data();
    assert.deepEqual(a, b);
  });
});
