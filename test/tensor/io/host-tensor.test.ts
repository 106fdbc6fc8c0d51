import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bfloat16BitsToNumber,
  float16BitsToNumber,
  fromFloat32,
  hostTensor,
  hostTensorFrom,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  toFloat32,
  typedView,
} from '../../../src/tensor/io/index.js';
import { Random } from '../../../src/util/random.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { runPython } from '../../helpers/python.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('spotdiff-host-tensor-');

// Float32 inputs for the rounding checks: random bit patterns over the whole range, values near
// float16's range and subnormal boundaries, and exact ties (round half to even).
const rng = new Random(7);
const inputs = new Float32Array(40_000);
const bits = new Uint32Array(inputs.buffer);
for (let i = 0; i < 20_000; i++) bits[i] = rng.uint32();
for (let i = 20_000; i < 36_000; i++) inputs[i] = (rng.float() * 2 - 1) * 2 ** rng.intBetween(-28, 17);
const edges = [0, -0, 65504, 65519.99, 65520, -65520, 2 ** -14, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -25 * 1.0001, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -8, 1 + 3 * 2 ** -8, Infinity, -Infinity, NaN, 3.4e38, 1e-45];
for (let i = 0; i < 4000; i++) inputs[36_000 + i] = edges[i % edges.length]! * (i >= edges.length ? 1 + (i % 7) * 2 ** -23 : 1);

// Torch / numpy as the reference: float16 via numpy's astype (round half to even, as torch's
// .half()), bfloat16 via torch's .bfloat16(), and every float16 bit pattern widened to float32.
writeFileSync(join(dir, 'in.f32'), inputs);
runPython(
  `
import sys, numpy as np, torch
d = sys.argv[1]
x = np.fromfile(d + '/in.f32', dtype=np.float32)
x.astype(np.float16).view(np.uint16).tofile(d + '/half.u16')
torch.from_numpy(x.copy()).bfloat16().view(torch.int16).numpy().view(np.uint16).tofile(d + '/bf16.u16')
np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32).tofile(d + '/widened.f32')
`,
  [dir],
);
const read16 = (name: string): Uint16Array => new Uint16Array(readFileSync(join(dir, name)).buffer.slice(0));
const halfRef = read16('half.u16');
const bf16Ref = read16('bf16.u16');
const widenedRef = new Float32Array(readFileSync(join(dir, 'widened.f32')).buffer.slice(0));

test('float16 bits -> number: all 65536 patterns equal numpy (NaNs stay NaN)', () => {
  for (let h = 0; h < 65536; h++) {
    const got = float16BitsToNumber(h);
    if (Number.isNaN(widenedRef[h])) assert.ok(Number.isNaN(got), `0x${h.toString(16)}`);
    else assert.ok(Object.is(Math.fround(got), widenedRef[h]) && got === Math.fround(got), `0x${h.toString(16)}: ${got} vs ${widenedRef[h]}`);
  }
});

test('number -> float16 and bfloat16 bits: round half to even, exactly as numpy/torch, over 40k values', () => {
  let halfMismatch = 0;
  let bfMismatch = 0;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]!;
    const h = numberToFloat16Bits(x);
    const b = numberToBfloat16Bits(x);
    if (Number.isNaN(x)) {
      assert.ok(Number.isNaN(float16BitsToNumber(h)) && Number.isNaN(bfloat16BitsToNumber(b)));
      continue;
    }
    if (h !== halfRef[i]) halfMismatch++;
    if (b !== bf16Ref[i]) bfMismatch++;
  }
  assert.equal(halfMismatch, 0);
  assert.equal(bfMismatch, 0);
  // bfloat16 widening is exact: the top half of the float32.
  assert.equal(bfloat16BitsToNumber(0x3f80), 1);
  assert.equal(bfloat16BitsToNumber(0xc0a0), -5);
});

test('typed views share memory when aligned and copy when not; toFloat32 converts every dtype by value', () => {
  const backing = new Uint8Array(13);
  const ints = new Int32Array([7, -8, 2 ** 30]);
  backing.set(new Uint8Array(ints.buffer), 1); // misaligned for int32
  const mis = hostTensor('int32', [3], backing.subarray(1, 13));
  const v = typedView(mis) as Int32Array;
  assert.deepEqual(Array.from(v), [7, -8, 2 ** 30]);
  const aligned = hostTensorFrom('int32', [3], ints);
  assert.equal(typedView(aligned).buffer, ints.buffer, 'aligned: a view, not a copy');

  assert.deepEqual(Array.from(toFloat32(hostTensorFrom('int64', [2], new BigInt64Array([-3n, 1n << 40n])))), [-3, 2 ** 40]);
  assert.deepEqual(Array.from(toFloat32(hostTensorFrom('bool', [2], new Uint8Array([1, 0])))), [1, 0]);
  assert.deepEqual(Array.from(toFloat32(hostTensorFrom('float64', [1], new Float64Array([0.1])))), [Math.fround(0.1)]);
  const half = fromFloat32('float16', [3], new Float32Array([1, -2.5, 65504]));
  assert.deepEqual(Array.from(toFloat32(half)), [1, -2.5, 65504]);
  const bf = fromFloat32('bfloat16', [2], new Float32Array([1, 3]));
  assert.deepEqual(Array.from(typedView(bf) as Uint16Array), [0x3f80, 0x4040]);
  assert.deepEqual(Array.from(toFloat32(bf)), [1, 3]);
});

test('a host tensor must have exactly dtype × shape bytes and a matching typed array', () => {
  assert.throws(() => hostTensor('float32', [2, 3], new Uint8Array(20)), (e) => isSpotdiffError(e, 'ERR_SHAPE') && /needs 24 bytes, got 20/.test((e as Error).message));
  assert.throws(() => hostTensor('float32', [-1], new Uint8Array(0)), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
  assert.throws(() => hostTensorFrom('float32', [2], new Float64Array(2)), (e) => isSpotdiffError(e, 'ERR_DTYPE') && /Float32Array/.test((e as Error).message));
  assert.deepEqual(hostTensor('bool', [], new Uint8Array(1)).shape, []);
});
