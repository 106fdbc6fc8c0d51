import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as T from '../../src/tensor/index.js';
import { valuesOf } from '../helpers/close.js';
import { gradcheck, randn64 } from '../helpers/gradcheck.js';
import { isSpotdiffError } from '../../src/util/errors.js';

// Values that probe each dtype's edges: rounding ties, subnormals, overflow, signed zero.
// (That the rounding is torch's own is checked against PyTorch in ops/creation.test.ts.)
const probe = Float64Array.of(0, -0, 1, -1, 0.1, 1 / 3, 2.5, -2.5, 65504, 65520, 1e-8, 6e-8, 3.0e38, 1e39, -1e39, 255.5, 1234.5678);

test('float dtypes round-trip through tensor()/data()', () => {
  T.tidy(() => {
    for (const d of ['float32', 'float16', 'bfloat16'] as const) {
      const t = T.tensor(probe, [probe.length], { dtype: d });
      assert.equal(t.dtype, d);
      const back = t.data();
      assert.ok(back instanceof Float32Array, `${d} reads back as Float32Array`);
      // writing the widened values back gives the same tensor (float16/bfloat16 widen exactly)
      assert.deepEqual(T.tensor(back, [back.length], { dtype: d }).data(), back);
    }
    const f64 = T.tensor(probe, [probe.length], { dtype: 'float64' }).data();
    assert.ok(f64 instanceof Float64Array);
    assert.ok(Object.is(f64[1], -0));
    assert.deepEqual(f64, probe);
    const specials = T.tensor(Float32Array.of(NaN, Infinity, -Infinity, 1.4e-45)).data();
    assert.ok(Number.isNaN(specials[0]) && specials[1] === Infinity && specials[2] === -Infinity && specials[3] === 1.401298464324817e-45);
  });
});

test('integer and bool dtypes round-trip exactly, with their typed arrays', () => {
  T.tidy(() => {
    const i64 = BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n);
    const t64 = T.tensor(i64);
    assert.equal(t64.dtype, 'int64');
    assert.deepEqual(t64.data(), i64);
    const cases: [T.DType, Int32Array | Int16Array | Int8Array | Uint8Array][] = [
      ['int32', Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 0, 7)],
      ['int16', Int16Array.of(-32768, 32767, 0, -7)],
      ['int8', Int8Array.of(-128, 127, 0, 5)],
      ['uint8', Uint8Array.of(0, 255, 128, 1)],
    ];
    for (const [d, arr] of cases) {
      const t = T.tensor(arr);
      assert.equal(t.dtype, d);
      const back = t.data();
      assert.equal(back.constructor, arr.constructor, `${d} reads back as ${arr.constructor.name}`);
      assert.deepEqual(back, arr);
    }
    const b = T.tensor(Uint8Array.of(0, 1, 1, 0), [2, 2], { dtype: 'bool' });
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.data(), Uint8Array.of(0, 1, 1, 0));
    // conversions between them follow torch: truncation toward zero, wrap-around for uint8
    assert.deepEqual(T.toDtype(T.tensor([-1.7, 2.9, 300]), 'int32').data(), Int32Array.of(-1, 2, 300));
    assert.deepEqual(T.toDtype(T.tensor(Int32Array.of(-1, 256, 257)), 'uint8').data(), Uint8Array.of(255, 0, 1));
    assert.deepEqual(T.toDtype(T.tensor([0, 0.5, -2]), 'bool').data(), Uint8Array.of(0, 1, 1));
    assert.deepEqual(T.tensor(BigInt64Array.of(5n, -6n)).toFloat32(), Float32Array.of(5, -6));
  });
});

test('integer scalars keep integer tensors integral; fractional scalars promote to float', () => {
  T.tidy(() => {
    const i = T.tensor(BigInt64Array.of(1n, 2n, 3n));
    assert.equal(T.add(i, 2).dtype, 'int64');
    assert.deepEqual(T.add(i, 2).data(), BigInt64Array.of(3n, 4n, 5n));
    assert.equal(T.mul(i, 2).dtype, 'int64');
    assert.equal(T.add(i, 0.5).dtype, 'float32');
    assert.deepEqual([...T.add(i, 0.5).data()], [1.5, 2.5, 3.5]);
    assert.equal(T.add(T.tensor(Int32Array.of(1)), 2).dtype, 'int32');
    assert.equal(T.div(i, 2).dtype, 'float32'); // true division, as torch
    assert.equal(T.add(T.tensor(Int32Array.of(1)), T.tensor(BigInt64Array.of(1n))).dtype, 'int64');
    assert.equal(T.add(T.ones([1], { dtype: 'float64' }), 2).dtype, 'float64');
    assert.equal(T.add(T.ones([1], { dtype: 'float16' }), 0.5).dtype, 'float16');
    assert.equal(T.add(T.ones([1], { dtype: 'bool' }), 1).dtype, 'int64');
  });
});

test('a tensor answers about itself', () => {
  T.tidy(() => {
    const t = T.zeros([2, 3, 4], { dtype: 'float64' });
    assert.deepEqual(t.shape, [2, 3, 4]);
    assert.equal(t.rank, 3);
    assert.equal(t.size, 24);
    assert.equal(t.dtype, 'float64');
    assert.equal(t.device, 'cpu');
    assert.equal(t.requiresGrad, false);
    assert.equal(String(t), 'Tensor(shape=[2, 3, 4], dtype=float64, device=cpu)');
    assert.equal(T.scalar(4.5).item(), 4.5);
    assert.equal(T.scalar(3, { dtype: 'int64' }).item(), 3);
    assert.throws(() => t.item(), (e: unknown) => isSpotdiffError(e, 'ERR_SHAPE'));
    // data() is a copy: writing to it leaves the tensor alone
    const d = t.data();
    d[0] = 9;
    assert.equal(t.data()[0], 0);
    // non-contiguous tensors read back in logical (C) order
    const tr = T.transpose(T.tensor([1, 2, 3, 4, 5, 6], [2, 3]), 0, 1);
    assert.deepEqual([...tr.data()], [1, 4, 2, 5, 3, 6]);
    assert.deepEqual([...T.slice(T.arange(0, 10), 0, 1, 9, 3).data()], [1n, 4n, 7n]);
    assert.equal(T.zeros([0, 5]).data().length, 0);
  });
});

test('data() of strided, expanded and narrow-dtype tensors equals a read of their contiguous copy', () => {
  T.tidy(() => {
    T.manualSeed(3);
    const base = T.randn([3, 200, 300]); // large enough for libtorch's parallel copy
    const views: [string, T.Tensor][] = [
      ['transposed', T.transpose(base, 1, 2)],
      ['sliced with a step', T.slice(base, 2, 1, 300, 7)],
      ['expanded (stride 0)', T.expand(T.slice(base, 0, 0, 1), [4, 200, 300])],
      ['float16 permuted', T.permute(T.toDtype(base, 'float16'), [2, 0, 1])],
      ['bfloat16 transposed', T.transpose(T.toDtype(base, 'bfloat16'), 0, 2)],
      ['bool transposed', T.transpose(T.gt(base, 0), 0, 1)],
      ['int64 transposed', T.transpose(T.toDtype(T.mul(base, 100), 'int64'), 0, 1)],
    ];
    for (const [what, v] of views) {
      const direct = v.data();
      const viaCopy = T.contiguous(v).data();
      assert.equal(direct.constructor, viaCopy.constructor, what);
      assert.deepEqual(direct, viaCopy, what);
    }
  });
});

test('backward with a gradient argument, accumulation, and retain_graph', () => {
  T.tidy(() => {
    const x = T.tensor(Float64Array.of(1, -2, 3), [3], { dtype: 'float64' }).setRequiresGrad();
    const y = T.mul(x, x); // dy/dx = 2x
    y.backward(T.tensor(Float64Array.of(1, 10, 100), [3], { dtype: 'float64' }), { retainGraph: true });
    assert.deepEqual([...x.grad!.data()], [2, -40, 600]);
    // a second backward through the retained graph accumulates into .grad
    y.backward(T.tensor(Float64Array.of(1, 1, 1), [3], { dtype: 'float64' }));
    assert.deepEqual([...x.grad!.data()], [4, -44, 606]);
    // the graph is now freed
    assert.throws(() => y.backward(T.onesLike(y)), (e: unknown) => isSpotdiffError(e, 'ERR_TORCH') && /second time/.test(e.message));
    // a new graph keeps accumulating until the gradient is cleared
    T.sum(x).backward();
    assert.deepEqual([...x.grad!.data()], [5, -43, 607]);
    x.setGrad(null);
    assert.equal(x.grad, null);
    T.sum(T.mul(x, 3)).backward();
    assert.deepEqual([...x.grad!.data()], [3, 3, 3]);
    x.setGrad(T.zerosLike(x));
    assert.deepEqual([...x.grad!.data()], [0, 0, 0]);
  });
});

test('createGraph gives differentiable gradients (second derivatives)', () => {
  T.tidy(() => {
    const x = T.tensor(Float64Array.of(2, -1), [2], { dtype: 'float64' }).setRequiresGrad();
    T.sum(T.pow(x, 3)).backward(undefined, { createGraph: true });
    const g = x.grad!; // 3x²
    assert.deepEqual([...g.data()], [12, 3]);
    assert.equal(g.requiresGrad, true);
    x.setGrad(null);
    T.sum(g).backward();
    assert.deepEqual([...x.grad!.data()], [12, -6]); // 6x
  });
});

test('noGrad and enableGrad nest and restore the mode', () => {
  T.tidy(() => {
    const x = T.ones([2]).setRequiresGrad();
    T.noGrad(() => {
      assert.equal(T.mul(x, 2).requiresGrad, false);
      assert.equal(T.enableGrad(() => T.mul(x, 2)).requiresGrad, true);
      assert.equal(T.mul(x, 2).requiresGrad, false);
    });
    assert.throws(() => T.noGrad(() => {
      throw new Error('inside');
    }), /inside/);
    assert.equal(T.mul(x, 2).requiresGrad, true);
  });
});

test('gradcheck itself catches a wrong gradient', () => {
  // y = x² + stopgrad(x²)·1e-3: autograd sees 2x, the function changes by 2x·1.001
  assert.throws(() => gradcheck('wrong', (t) => T.add(T.mul(t, t), T.mul(T.detach(T.mul(t, t)), 1e-3)), [randn64([3], 1)]), /finite difference/);
  gradcheck('right', (t) => T.mul(T.mul(t, t), 1.001), [randn64([3], 1)]);
});

test('autograd misuse gives a SpotdiffError', () => {
  T.tidy(() => {
    const x = T.ones([2]).setRequiresGrad();
    const cases: [string, () => unknown, string][] = [
      ['backward of a non-scalar without a gradient', () => T.exp(x).backward(), 'ERR_TORCH'],
      ['a gradient of the wrong shape', () => T.exp(x).backward(T.ones([3])), 'ERR_TORCH'],
      ['backward of a tensor outside any graph', () => T.ones([1]).backward(), 'ERR_TORCH'],
      ['requiresGrad on an integer tensor', () => T.ones([2], { dtype: 'int64' }).setRequiresGrad(), 'ERR_DTYPE'],
      ['setGrad of the wrong shape', () => x.setGrad(T.ones([3])), 'ERR_SHAPE'],
      ['setGrad of the wrong dtype', () => x.setGrad(T.ones([2], { dtype: 'float64' })), 'ERR_DTYPE'],
    ];
    for (const [what, run, code] of cases) {
      assert.throws(run, (e: unknown) => isSpotdiffError(e) && e.code === code, `${what}: expected ${code}`);
    }
  });
});

test('a disposed tensor and non-tensor arguments give a SpotdiffError, never a crash', () => {
  const t = T.ones([2]);
  t.dispose();
  for (const use of [() => t.shape, () => t.data(), () => t.backward(), () => t.grad, () => T.add(t, 1), () => T.cat([T.ones([2]), t])]) {
    assert.throws(use, (e: unknown) => isSpotdiffError(e, 'ERR_DISPOSED'));
  }
  T.tidy(() => {
    const notTensors: unknown[] = [{}, null, 3, 'x', new Float32Array(2)];
    for (const v of notTensors) {
      assert.throws(() => T.relu(v as T.Tensor), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'), `relu(${String(v)})`);
    }
    assert.throws(() => T.add(T.ones([2]), 'two' as unknown as number), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
    assert.throws(() => T.sum(T.ones([2]), ['a'] as unknown as number[]), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
  });
});

test('engine settings refuse values that would abort libtorch', () => {
  const threads = T.getNumThreads();
  for (const n of [0, -2, 1.5, NaN]) assert.throws(() => T.setNumThreads(n), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'), String(n));
  assert.equal(T.getNumThreads(), threads);
});

test('setNumThreads sizes the OpenBLAS pool too (it is not libtorch\'s, and was left at every core)', (t) => {
  const threads = T.getNumThreads();
  t.after(() => T.setNumThreads(threads));
  if (T.engineInfo().blasThreads === 0) return t.diagnostic('this libtorch multiplies matrices with another BLAS');
  for (const n of [1, 3, 2]) {
    T.setNumThreads(n);
    assert.deepEqual([T.getNumThreads(), T.engineInfo().blasThreads], [n, n]);
  }
});

test('the raw addon survives bad calls (each probed in a child process)', () => {
  // What the TypeScript layer never passes, but a mistake could: none may take the process down.
  const probes = [
    'native.setNumThreads(0)',
    'native.setNumThreads(-4)',
    'native.op("add", 5)',
    'native.op("no_such_op", [])',
    'native.meta({})',
    'native.toData(7)',
    'native.fromData([1, 2], [2], "float32", "cpu")',
    'native.fromData(new Float32Array(2), [2], "float32", "tpu")',
    'native.fromData(new Float32Array(2), [3], "float32", "cpu")',
    'native.backward(native.fromData(new Float32Array(1), [1], "float32", "cpu"), null, false, false)',
    'native.manualSeed("x")',
  ];
  const script = `
    const { native } = await import(${JSON.stringify(new URL('../../src/tensor/native.js', import.meta.url).href)});
    for (const p of ${JSON.stringify(probes)}) {
      try { eval(p); console.log('returned', p); } catch (e) { console.log('threw', p); }
    }
    console.log('alive');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, `child died with ${r.signal}: ${r.stderr.slice(-500)}`);
  assert.match(r.stdout, /alive/);
  for (const p of probes) assert.ok(r.stdout.includes(`threw ${p}`), `${p} should throw: ${r.stdout}`);
});

test('tidy leaves no native tensors behind after forward and backward passes', () => {
  const before = T.liveTensorCount();
  for (let i = 0; i < 20; i++) {
    T.tidy(() => {
      const w = T.randn([4, 3]).setRequiresGrad();
      const loss = T.sum(T.relu(T.matmul(T.randn([5, 4]), w)));
      loss.backward();
      void w.grad;
    });
  }
  assert.equal(T.liveTensorCount(), before);
  assert.deepEqual([...valuesOf(T.tidy(() => T.keep(T.ones([1]))))], [1]);
});
