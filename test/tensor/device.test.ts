import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';

test('TensorFloat-32: libtorch starts with PyTorch’s defaults (convolutions yes, matrix products no); the setting round-trips', () => {
  const start = T.allowTf32();
  try {
    assert.deepEqual(start, { convolutions: true, matmul: false });
    for (const t of [{ convolutions: false, matmul: true }, { convolutions: true, matmul: true }, { convolutions: false, matmul: false }]) {
      T.setAllowTf32(t);
      assert.deepEqual(T.allowTf32(), t);
    }
  } finally {
    T.setAllowTf32(start);
  }
});
