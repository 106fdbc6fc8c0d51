import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { fromHost, toHost } from '../../src/tensor/host.js';
import { fromFloat32, hostTensorFrom, toFloat32, typedView, type HostTensor } from '../../src/tensor/io/index.js';

const cases: HostTensor[] = [
  hostTensorFrom('float32', [2, 3], Float32Array.of(0, -1.5, 3.25, 1e-30, -0, 65504.5)),
  hostTensorFrom('float64', [3], Float64Array.of(Math.PI, -1e300, 5e-324)),
  hostTensorFrom('int64', [2], BigInt64Array.of(-(2n ** 62n), 7n)),
  hostTensorFrom('int32', [1, 2], Int32Array.of(-2147483648, 2147483647)),
  hostTensorFrom('int16', [2], Int16Array.of(-32768, 12)),
  hostTensorFrom('int8', [2], Int8Array.of(-128, 127)),
  hostTensorFrom('uint8', [3], Uint8Array.of(0, 128, 255)),
  hostTensorFrom('bool', [3], Uint8Array.of(1, 0, 1)),
  hostTensorFrom('int64', [], BigInt64Array.of(42n)),
  hostTensorFrom('float32', [0, 4], new Float32Array(0)),
  fromFloat32('float16', [4], Float32Array.of(1, -0.333251953125, 65504, 5.960464477539063e-8)),
  fromFloat32('bfloat16', [3], Float32Array.of(1, -3.140625, 1e38)),
];

test('fromHost then toHost gives back the same dtype, shape and bytes, for every dtype', () => {
  T.tidy(() => {
    for (const h of cases) {
      const t = fromHost(h);
      assert.equal(t.dtype, h.dtype);
      assert.deepEqual([...t.shape], [...h.shape]);
      const back = toHost(t);
      assert.equal(back.dtype, h.dtype);
      assert.deepEqual([...back.shape], [...h.shape]);
      assert.deepEqual([...back.data], [...h.data], `${h.dtype} bytes`);
    }
  });
});

test('fromHost gives the engine the values (float16/bfloat16 included), and copies: the host bytes may change after', () => {
  T.tidy(() => {
    const half = cases[10]!;
    assert.deepEqual([...fromHost(half).toFloat32()], [1, -0.333251953125, 65504, 5.960464477539063e-8]);
    const bf = cases[11]!;
    assert.deepEqual([...fromHost(bf).toFloat32()], [...toFloat32(bf)]);
    assert.equal(fromHost(bf).toFloat32()[1], -3.140625);
    const values = Float32Array.of(1, 2, 3);
    const h = hostTensorFrom('float32', [3], values);
    const t = fromHost(h);
    values[0] = 100;
    assert.deepEqual([...t.toFloat32()], [1, 2, 3]);
  });
});

test('a host tensor whose bytes are a misaligned view (as inside a checkpoint file) converts correctly', () => {
  const buf = new Uint8Array(4 * 3 + 1);
  new Float32Array(buf.buffer, 0, 3).set([1.5, -2, 7]);
  buf.copyWithin(1, 0, 12);
  const h: HostTensor = { dtype: 'float32', shape: [3], data: buf.subarray(1, 13) };
  assert.deepEqual([...typedView(h)], [1.5, -2, 7]);
  T.tidy(() => assert.deepEqual([...fromHost(h).toFloat32()], [1.5, -2, 7]));
});
