import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

// ampUnscaleInPlace: torch's _amp_foreach_non_finite_check_and_unscale_ (GradScaler.unscale_), fused
// where the device has the kernel, a loop elsewhere. Reference: each value times float32(1/scale),
// rounded to the tensor's dtype, and "any value not finite".

const inverse = Math.fround(1 / 65536);

function unscaled(values: readonly number[], dtype: 'float32' | 'float64'): number[] {
  return values.map((v) => (dtype === 'float32' ? Math.fround(Math.fround(v) * inverse) : v * inverse));
}

function check(device: T.Device): void {
  T.tidy(() => {
    const a = [3, -7.5, 1e-3, 65536 * 3.25];
    const b = [2 ** 20, -1, 0.1];
    const ga = T.tensor(a, [2, 2], { device });
    const gb = T.tensor(Float64Array.from(b), [3], { dtype: 'float64', device });
    const found = T.ampUnscaleInPlace([ga, gb], inverse);
    assert.deepEqual([found.shape, found.dtype, found.item()], [[1], 'float32', 0]);
    assert.deepEqual([...T.toDevice(ga, 'cpu').data()], unscaled(a, 'float32'), `${device}: float32 values`);
    assert.deepEqual([...T.toDevice(gb, 'cpu').data()], unscaled(b, 'float64'), `${device}: float64 values`);
    for (const bad of [Infinity, -Infinity, NaN]) {
      const clean = T.tensor([1, 2], [2], { device });
      const dirty = T.tensor([4, bad, 8], [3], { device });
      assert.equal(T.ampUnscaleInPlace([clean, dirty], 0.5).item(), 1, `${device}: ${bad} found`);
      assert.deepEqual([...T.toDevice(clean, 'cpu').data()], [0.5, 1], 'every tensor is unscaled, found or not (as torch)');
    }
  });
}

test('ampUnscaleInPlace: values times float32(1/scale) per dtype, inf/NaN found in any tensor (CPU; CUDA where present, through the fused kernel)', (t) => {
  check('cpu');
  if (T.cudaAvailable()) check('cuda');
  else t.diagnostic('no CUDA here: the fused CUDA kernel was not exercised');
  assert.throws(() => T.ampUnscaleInPlace([], 1), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') || /no gradients/.test(String(e)));
});

test('cudaMemoryInfo: free ≤ total on a GPU; refused for the CPU', (t) => {
  assert.throws(() => T.cudaMemoryInfo('cpu'), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /not a CUDA device/.test(e.message));
  if (!T.cudaAvailable()) {
    assert.throws(() => T.cudaMemoryInfo('cuda'), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /no usable CUDA/.test(e.message));
    t.diagnostic('no CUDA here: cudaMemoryInfo was not exercised on a device');
    return;
  }
  const m = T.cudaMemoryInfo('cuda');
  if (m === null) {
    t.diagnostic('this CUDA build cannot ask for device memory (no CUDA runtime headers at build time)');
    return;
  }
  assert.ok(m.total > 0 && m.free > 0 && m.free <= m.total, JSON.stringify(m));
});
