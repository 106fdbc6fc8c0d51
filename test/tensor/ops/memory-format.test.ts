import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

test('channels_last keeps values, shape and the tensor; only the layout changes', () => {
  T.tidy(() => {
    T.manualSeed(1);
    const x = T.randn([2, 3, 5, 4]);
    const cl = T.toMemoryFormat(x, 'channels_last');
    assert.equal(T.isMemoryFormat(x, 'channels_last'), false);
    assert.equal(T.isMemoryFormat(cl, 'channels_last'), true);
    assert.deepEqual(cl.shape, x.shape);
    assert.deepEqual(Array.from(cl.data() as Float32Array), Array.from(x.data() as Float32Array));
    const p = T.clone(x);
    p.setRequiresGrad(true);
    T.setMemoryFormatInPlace(p, 'channels_last');
    assert.equal(T.isMemoryFormat(p, 'channels_last'), true);
    assert.equal(p.requiresGrad, true);
    assert.deepEqual(Array.from(p.data() as Float32Array), Array.from(x.data() as Float32Array));
    assert.throws(() => T.toMemoryFormat(T.ones([3, 3]), 'channels_last'), (e) => isSpotdiffError(e) && e.code === 'ERR_SHAPE');
    assert.throws(() => T.toMemoryFormat(x, 'nhwc' as T.MemoryFormat), (e) => isSpotdiffError(e) && /contiguous or channels_last/.test(e.message));
    const back = T.toMemoryFormat(cl, 'contiguous');
    assert.equal(T.isMemoryFormat(back, 'contiguous'), true);
    assert.deepEqual(Array.from(back.data() as Float32Array), Array.from(x.data() as Float32Array));
  });
});

test('a conv of channels_last input and weight equals the default layout within float tolerance', () => {
  T.tidy(() => {
    T.manualSeed(2);
    const x = T.randn([2, 8, 12, 12]);
    const w = T.randn([16, 8, 3, 3]);
    const ref = T.conv2d(x, w, null, { padding: 1 });
    const cl = T.conv2d(T.toMemoryFormat(x, 'channels_last'), T.toMemoryFormat(w, 'channels_last'), null, { padding: 1 });
    assert.equal(T.isMemoryFormat(cl, 'channels_last'), true);
    const d = T.maxAll(T.abs(T.sub(cl, ref))).item();
    assert.ok(d < 1e-4, `channels_last conv differs by ${d}`);
  });
});

test('channelsLastInPlace re-lays out the 4-D tensors of a list and leaves the others', () => {
  T.tidy(() => {
    const w = T.randn([4, 3, 3, 3]);
    const b = T.randn([4]);
    T.channelsLastInPlace([w, b]);
    assert.equal(T.isMemoryFormat(w, 'channels_last'), true);
    assert.equal(T.isMemoryFormat(b, 'contiguous'), true);
  });
});
