import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';

const off = (): T.AutocastState => T.autocastState('cpu');

test('bf16 autocast runs conv2d and linear of float32 inputs in bfloat16; outside, float32', () => {
  T.tidy(() => {
    T.manualSeed(0);
    const x = T.randn([2, 3, 8, 8]);
    const w = T.randn([4, 3, 3, 3]);
    const lw = T.randn([5, 7]);
    const v = T.randn([2, 7]);
    const inside = T.withAutocast('bfloat16', () => [T.conv2d(x, w), T.linear(v, lw)], 'cpu');
    assert.deepEqual(inside.map((t) => t.dtype), ['bfloat16', 'bfloat16']);
    assert.equal(T.conv2d(x, w).dtype, 'float32');
    assert.equal(T.linear(v, lw).dtype, 'float32');
    // the library's cast, not a hand cast: the values are the float32 result rounded through bf16 inputs
    const ref = T.conv2d(T.toDtype(T.toDtype(x, 'bfloat16'), 'float32'), T.toDtype(T.toDtype(w, 'bfloat16'), 'float32'));
    const d = T.maxAll(T.abs(T.sub(T.toDtype(inside[0]!, 'float32'), ref))).item();
    assert.ok(d < 0.1, `bf16 conv differs by ${d}`);
  });
});

test('autocast state toggles inside and comes back after, nested', () => {
  assert.deepEqual(off().enabled, false);
  T.withAutocast('bfloat16', () => {
    assert.deepEqual(off(), { enabled: true, dtype: 'bfloat16' });
    T.withAutocast(null, () => assert.equal(off().enabled, false), 'cpu');
    assert.deepEqual(off(), { enabled: true, dtype: 'bfloat16' });
  }, 'cpu');
  assert.equal(off().enabled, false);
});

test('autocast state comes back when fn throws', () => {
  assert.throws(() => T.withAutocast('bfloat16', () => {
    T.withAutocast('bfloat16', () => {
      throw new Error('boom');
    }, 'cpu');
  }, 'cpu'), /boom/);
  assert.equal(off().enabled, false);
});

test('weights updated between autocast regions are cast afresh (no stale cached copy)', () => {
  T.tidy(() => {
    const w = T.ones([1, 1, 1, 1]);
    w.setRequiresGrad(true); // autocast caches casts of leaves that require grad
    const x = T.ones([1, 1, 2, 2]);
    const first = T.withAutocast('bfloat16', () => T.sum(T.conv2d(x, w)).item(), 'cpu');
    T.noGrad(() => T.mulInPlace(w, 3));
    const second = T.withAutocast('bfloat16', () => T.sum(T.conv2d(x, w)).item(), 'cpu');
    assert.deepEqual([first, second], [4, 12]);
  });
});

test('float16 autocast on cpu, other dtypes and promises are refused', () => {
  assert.throws(() => T.withAutocast('float16', () => 0, 'cpu'), (e) => isSpotdiffError(e) && /needs a CUDA device/.test(e.message));
  assert.throws(() => T.withAutocast('float64' as T.AutocastDType, () => 0, 'cpu'), (e) => isSpotdiffError(e) && e.code === 'ERR_DTYPE');
  assert.throws(() => T.withAutocast('bfloat16', () => Promise.resolve(1), 'cpu'), (e) => isSpotdiffError(e) && /synchronous/.test(e.message));
  assert.equal(off().enabled, false);
});
