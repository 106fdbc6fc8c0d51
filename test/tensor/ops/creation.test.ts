import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';
import { assertMatches } from '../../helpers/close.js';
import { gradcheck, randn64 } from '../../helpers/gradcheck.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

const ref = new TorchReference();
T.manualSeed(71);
const a = ref.input('a', T.randn([3, 4]));
const ia = ref.input('ia', T.randint(-3, 3, [2, 2]));
// Values that probe rounding: ties, subnormals, overflow to inf, signed zero.
const probe = Float64Array.of(0, -0, 1, -1, 0.1, 1 / 3, 2.5, -2.5, 65504, 65520, 1e-8, 6e-8, 3.0e38, 1e39, -1e39, 255.5, 1234.5678);
ref.input('probe', T.tensor(probe, [probe.length], { dtype: 'float64' }));

type Case = [name: string, run: () => T.Tensor, python: string];
const cases: Case[] = [
  ['tensor_list', () => T.tensor([1.5, -2, 3.25, 1e-3]), 'torch.tensor([1.5, -2, 3.25, 1e-3])'],
  ['tensor_list_shape', () => T.tensor([1, 2, 3, 4, 5, 6], [2, 3]), 'torch.tensor([[1., 2, 3], [4, 5, 6]])'],
  ['tensor_list_int64', () => T.tensor([16777217, -3, 2 ** 40], [3], { dtype: 'int64' }), 'torch.tensor([16777217, -3, 2 ** 40])'],
  ['tensor_list_float64', () => T.tensor([0.1, 1 / 3], [2], { dtype: 'float64' }), 'torch.tensor([0.1, 1 / 3], dtype=torch.float64)'],
  ['tensor_list_float16', () => T.tensor([0.1, 1 / 3, 65504, 1e-5], [4], { dtype: 'float16' }), 'torch.tensor([0.1, 1 / 3, 65504, 1e-5], dtype=torch.float16)'],
  ['probe_float32', () => T.tensor(probe, [probe.length], { dtype: 'float32' }), 'probe.float()'],
  ['probe_float16', () => T.tensor(probe, [probe.length], { dtype: 'float16' }), 'probe.half()'],
  ['probe_bfloat16', () => T.tensor(probe, [probe.length], { dtype: 'bfloat16' }), 'probe.bfloat16()'],
  ['probe_int32', () => T.tensor(probe.slice(0, 8), [8], { dtype: 'int32' }), 'probe[:8].int()'],
  ['tensor_list_bool', () => T.tensor([0, 1, 2, 0], [4], { dtype: 'bool' }), 'torch.tensor([0, 1, 2, 0]).bool()'],
  ['tensor_int32_to_float', () => T.tensor(Int32Array.of(1, -2, 3), [3], { dtype: 'float32' }), 'torch.tensor([1, -2, 3], dtype=torch.float32)'],
  ['tensor_float_to_int', () => T.tensor(Float32Array.of(1.7, -2.7, 3), [3], { dtype: 'int64' }), 'torch.tensor([1.7, -2.7, 3]).long()'],
  ['scalar', () => T.scalar(2.5), 'torch.tensor(2.5)'],
  ['scalar_int', () => T.scalar(7, { dtype: 'int64' }), 'torch.tensor(7)'],
  ['zeros', () => T.zeros([2, 3]), 'torch.zeros(2, 3)'],
  ['zeros_empty', () => T.zeros([0, 3]), 'torch.zeros(0, 3)'],
  ['zeros_scalar', () => T.zeros([]), 'torch.zeros(())'],
  ['ones_int', () => T.ones([4], { dtype: 'int32' }), 'torch.ones(4, dtype=torch.int32)'],
  ['full', () => T.full([2, 2], 0.3), 'torch.full((2, 2), 0.3)'],
  ['full_int_value_float', () => T.full([3], 3), 'torch.full((3,), 3, dtype=torch.float32)'],
  ['full_int64', () => T.full([3], -9, { dtype: 'int64' }), 'torch.full((3,), -9)'],
  ['full_bool', () => T.full([2], 1, { dtype: 'bool' }), 'torch.full((2,), True)'],
  ['arange', () => T.arange(0, 5), 'torch.arange(0, 5)'],
  ['arange_step', () => T.arange(-3, 10, 4), 'torch.arange(-3, 10, 4)'],
  ['arange_float', () => T.arange(0, 1, 0.1), 'torch.arange(0, 1, 0.1)'],
  ['arange_float_dtype', () => T.arange(0, 6, 1, { dtype: 'float64' }), 'torch.arange(0, 6, dtype=torch.float64)'],
  ['arange_negative_step', () => T.arange(5, 0, -1.5), 'torch.arange(5, 0, -1.5)'],
  ['linspace', () => T.linspace(-1, 1, 7), 'torch.linspace(-1, 1, 7)'],
  ['linspace_f64', () => T.linspace(0, 1, 11, { dtype: 'float64' }), 'torch.linspace(0, 1, 11, dtype=torch.float64)'],
  ['eye', () => T.eye(3), 'torch.eye(3)'],
  ['eye_int', () => T.eye(2, { dtype: 'int64' }), 'torch.eye(2, dtype=torch.int64)'],
  ['zeros_like', () => T.zerosLike(ia), 'torch.zeros_like(ia)'],
  ['ones_like', () => T.onesLike(a), 'torch.ones_like(a)'],
  ['full_like', () => T.fullLike(ia, 4), 'torch.full_like(ia, 4)'],
  ['clone', () => T.clone(a), 'a.clone()'],
  ['contiguous', () => T.contiguous(T.transpose(a, 0, 1)), 'a.t().contiguous()'],
  ['detach', () => T.detach(a), 'a.detach()'],
  ['to_float64', () => T.toDtype(a, 'float64'), 'a.double()'],
  ['to_float16', () => T.toDtype(a, 'float16'), 'a.half()'],
  ['to_bfloat16', () => T.toDtype(a, 'bfloat16'), 'a.bfloat16()'],
  ['to_int32_truncates', () => T.toDtype(T.mul(a, 3), 'int32'), '(a * 3).int()'],
  ['to_uint8', () => T.toDtype(T.abs(T.mul(a, 50)), 'uint8'), '(a * 50).abs().to(torch.uint8)'],
  ['to_bool', () => T.toDtype(ia, 'bool'), 'ia.bool()'],
  ['to_device_cpu', () => T.toDevice(a, 'cpu'), "a.to('cpu')"],
  ['alias', () => T.alias(a), 'a'],
];
for (const [name, , python] of cases) ref.case(name, python);
const results = ref.run();

test('creation ops match PyTorch (values, shapes and dtypes)', () => {
  T.tidy(() => {
    for (const [name, run] of cases) assertMatches(name, run(), refOutputs(results, name)[0]!, { rtol: 0, atol: 0 });
  });
});

test('clone, detach, alias and contiguous: storage and autograd semantics', () => {
  T.tidy(() => {
    const x = T.tensor([1, 2, 3]).setRequiresGrad();
    const d = T.detach(x);
    assert.equal(d.requiresGrad, false);
    const c = T.clone(x);
    assert.equal(c.requiresGrad, true);
    T.noGrad(() => T.fillInPlace(d, 5)); // detach shares storage with x
    assert.deepEqual([...x.data()], [5, 5, 5]);
    assert.deepEqual([...c.data()], [1, 2, 3]); // clone does not
    const al = T.alias(x);
    al.dispose();
    assert.deepEqual([...x.data()], [5, 5, 5]); // disposing an alias leaves the original
    assert.equal(T.contiguous(T.transpose(T.ones([2, 3]), 0, 1)).shape.join(), '3,2');
  });
  gradcheck('clone', (t) => T.mul(T.clone(t), 2), [randn64([2, 2], 1)]);
  gradcheck('contiguous', (t) => T.contiguous(T.transpose(t, 0, 1)), [randn64([2, 3], 2)]);
  gradcheck('to_float64', (t) => T.toDtype(T.mul(t, 3), 'float64'), [randn64([3], 3)]);
  T.tidy(() => {
    const x = T.tensor([1, 2, 3]).setRequiresGrad();
    T.sum(T.add(T.mul(x, x), T.mul(T.detach(x), 10))).backward();
    assert.deepEqual([...x.grad!.data()], [2, 4, 6]); // the detached term adds nothing
  });
});

test('creation refuses bad input with a SpotdiffError', () => {
  T.tidy(() => {
    const cases: [string, () => unknown, string, RegExp][] = [
      ['too few values for the shape', () => T.tensor([1, 2, 3], [2, 2]), 'ERR_SHAPE', /3 values cannot fill shape \[2, 2\]/],
      ['a negative size', () => T.zeros([2, -1]), 'ERR_SHAPE', /invalid shape/],
      ['a fractional size', () => T.ones([2.5]), 'ERR_SHAPE', /invalid shape/],
      ['an unknown dtype', () => T.zeros([2], { dtype: 'complex64' as T.DType }), 'ERR_BAD_INPUT', /unknown dtype "complex64" \(use float32/],
      ['an unknown dtype in tensor()', () => T.tensor([1], [1], { dtype: 'float8' as T.DType }), 'ERR_BAD_INPUT', /unknown dtype/],
      ['an unknown dtype in toDtype', () => T.toDtype(T.ones([1]), 'half' as T.DType), 'ERR_BAD_INPUT', /unknown dtype/],
      ['an unknown device', () => T.ones([2], { device: 'tpu' }), 'ERR_BAD_INPUT', /unknown device "tpu"/],
      ['an unknown device in tensor()', () => T.tensor([1], [1], { device: 'gpu0' }), 'ERR_BAD_INPUT', /unknown device/],
      ['an unknown device in toDevice', () => T.toDevice(T.ones([1]), 'metal'), 'ERR_BAD_INPUT', /unknown device/],
      ['a Uint32Array', () => T.tensor(new Uint32Array(2) as unknown as Int32Array), 'ERR_BAD_INPUT', /cannot read values from Uint32Array/],
      ['a non-array', () => T.tensor({ length: 2 } as unknown as Float32Array), 'ERR_BAD_INPUT', /cannot read values/],
      ['NaN into int64', () => T.full([2], NaN, { dtype: 'int64' }), 'ERR_TORCH', /cannot be converted/],
      ['arange with step 0', () => T.arange(0, 5, 0), 'ERR_TORCH', /step must be nonzero/],
      ['arange running the wrong way', () => T.arange(5, 0, 1), 'ERR_TORCH', /inconsistent/],
      ['linspace with negative steps', () => T.linspace(0, 1, -1), 'ERR_TORCH', /non-negative/],
      ['eye of negative size', () => T.eye(-1), 'ERR_TORCH', /greater or equal to 0/],
      ['an impossible allocation', () => T.zeros([1e6, 1e6, 1e6]), 'ERR_TORCH', /allocate/],
    ];
    for (const [what, run, code, message] of cases) {
      assert.throws(run, (e: unknown) => isSpotdiffError(e) && e.code === code && message.test(e.message), `${what}: expected ${code} ${message}`);
    }
    if (!T.cudaAvailable()) {
      assert.throws(() => T.ones([1], { device: 'cuda' }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /no usable CUDA/.test(e.message));
    }
  });
});

test('pinMemory gives a page-locked copy with the same values where CUDA is, and a coded error where it is not', () => {
  T.tidy(() => {
    const a = T.tensor([1, 2, 3, 4], [2, 2]);
    assert.equal(T.isPinned(a), false);
    if (T.cudaAvailable()) {
      const pinned = T.pinMemory(a);
      assert.equal(T.isPinned(pinned), true);
      assert.deepEqual([...pinned.data()], [1, 2, 3, 4]);
      assert.deepEqual([...T.toDevice(T.toDevice(pinned, 'cuda', { nonBlocking: true }), 'cpu').data()], [1, 2, 3, 4]);
    } else {
      // Page-locked memory is CUDA's allocator: without it libtorch refuses, and the process lives on.
      assert.throws(() => T.pinMemory(a), (e: unknown) => isSpotdiffError(e, 'ERR_TORCH') && /pin_memory/.test(e.message));
    }
  });
});

test('a Uint8ClampedArray reads as uint8', () => {
  T.tidy(() => {
    const t = T.tensor(Uint8ClampedArray.of(0, 128, 255) as unknown as Uint8Array);
    assert.equal(t.dtype, 'uint8');
    assert.deepEqual([...t.data()], [0, 128, 255]);
  });
});
