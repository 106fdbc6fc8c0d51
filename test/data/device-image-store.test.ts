import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { DeviceImageStore } from '../../src/data/device-image-store.js';
import { isSpotdiffError } from '../../src/util/errors.js';

/** uint8 [n, 2, 3, 3] whose bytes name their sample: every byte of sample i is 10·i + position mod 10. */
function bytesOf(indices: readonly number[]): T.Tensor {
  const per = 2 * 3 * 3;
  const data = new Uint8Array(indices.length * per);
  indices.forEach((s, k) => {
    for (let j = 0; j < per; j++) data[k * per + j] = 10 * s + (j % 10);
  });
  return T.tensor(data, [indices.length, 2, 3, 3], { dtype: 'uint8' });
}

test('device image store: gathers exactly the bytes put, in the order asked; holds/complete follow the rows written', () => {
  const live = T.liveTensorCount();
  const store = new DeviceImageStore('cpu', 5, 2, 3);
  try {
    assert.equal(store.bytes, 5 * 2 * 3 * 3);
    assert.equal(store.holds([0]), false);
    T.tidy(() => store.put([3, 1], bytesOf([3, 1])));
    // A padded distributed batch may hold one sample twice: same bytes, one row.
    T.tidy(() => store.put([0, 0, 4], bytesOf([0, 0, 4])));
    assert.deepEqual([store.holds([3, 1, 0, 4]), store.holds([2]), store.complete], [true, false, false]);
    const got = T.tidy(() => store.gather([4, 1, 1, 3]).data());
    assert.deepEqual(got, T.tidy(() => bytesOf([4, 1, 1, 3]).data()));
    T.tidy(() => store.put([2], bytesOf([2])));
    assert.equal(store.complete, true);
  } finally {
    store.dispose();
  }
  assert.equal(T.liveTensorCount(), live, 'the store frees its tensor');
});

test('device image store: refuses wrong shapes, dtypes, indices, and gathering what was never put', () => {
  const store = new DeviceImageStore('cpu', 3, 2, 3);
  try {
    const shape = (e: unknown): boolean => isSpotdiffError(e, 'ERR_SHAPE');
    const input = (e: unknown): boolean => isSpotdiffError(e, 'ERR_BAD_INPUT');
    T.tidy(() => {
      assert.throws(() => store.put([0], bytesOf([0, 1])), shape);
      assert.throws(() => store.put([0], T.zeros([1, 2, 3, 3])), shape, 'float32 bytes');
      assert.throws(() => store.put([0], T.zeros([1, 3, 2, 3], { dtype: 'uint8' })), shape);
      assert.throws(() => store.put([3], bytesOf([3])), input);
      assert.throws(() => store.put([-1], bytesOf([0])), input);
      assert.throws(() => store.gather([0]), /never put/);
    });
    assert.equal(store.holds([0]), false, 'a refused put writes nothing');
    assert.throws(() => new DeviceImageStore('cpu', 0, 2, 3), input);
  } finally {
    store.dispose();
  }
});
