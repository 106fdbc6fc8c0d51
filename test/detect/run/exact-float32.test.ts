import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { useExactFloat32On } from '../../../src/detect/run/exact-float32.js';

test('detectors switch TensorFloat-32 off on a CUDA device and leave it alone on the CPU', (t) => {
  const start = T.allowTf32();
  try {
    T.setAllowTf32({ convolutions: true, matmul: true });
    useExactFloat32On('cpu');
    assert.deepEqual(T.allowTf32(), { convolutions: true, matmul: true });
    if (!T.cudaAvailable()) {
      t.diagnostic('no CUDA here: the switch on a CUDA device was not exercised');
      return;
    }
    useExactFloat32On('cuda');
    assert.deepEqual(T.allowTf32(), { convolutions: false, matmul: false });
  } finally {
    T.setAllowTf32(start);
  }
});
