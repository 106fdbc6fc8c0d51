import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { blurPlanes, blurSignal, gaussianBlur, gaussianBlurImages, gaussianRadius } from '../../src/augment/gaussian-blur.js';
import { Random } from '../../src/util/random.js';
import { pythonJson } from '../helpers/python.js';
import { TorchReference, refOutputs } from '../helpers/torch-ref.js';
import { maxAbsDiff, randomImages } from './fixtures.js';

const images = randomImages(5, 3, 21, 26);
const SIGMAS = [0.3, 1.3, 2.0];

// torchvision's gaussian_blur (2-D kernel, reflect padding) with the kernel size we derive from σ.
const ref = new TorchReference();
ref.input('x', images);
for (const s of SIGMAS) {
  const k = 2 * gaussianRadius(s) + 1;
  ref.case(`tv-${s}`, `import torchvision.transforms.functional as TF\nout = TF.gaussian_blur(x, [${k}, ${k}], [${s}, ${s}])`);
}
ref.case('tv-k5', `import torchvision.transforms.functional as TF\nout = TF.gaussian_blur(x, [5, 5], [2.0, 2.0])`);
ref.case('tv-each', `import torchvision.transforms.functional as TF\nout = torch.cat([x[0:1], TF.gaussian_blur(x[1:2], [9, 9], [1.0, 1.0]), TF.gaussian_blur(x[2:3], [3, 3], [0.25, 0.25])])`);
const results = ref.run();
const expected = (name: string): Float64Array => refOutputs(results, name)[0]!.values;

for (const s of SIGMAS) {
  test(`image blur σ=${s} (kernel ${2 * gaussianRadius(s) + 1}) equals torchvision's gaussian_blur to 1e-5`, () => {
    const out = gaussianBlurImages(images, s);
    assert.deepEqual(out.shape, images.shape);
    assert.ok(maxAbsDiff(out.toFloat32(), expected(`tv-${s}`)) <= 1e-5, `${maxAbsDiff(out.toFloat32(), expected(`tv-${s}`))}`);
  });
}

test('an explicit radius gives torchvision\'s kernel_size (5 taps at σ=2)', () => {
  const out = gaussianBlurImages(images, 2, { radius: 2 });
  assert.ok(maxAbsDiff(out.toFloat32(), expected('tv-k5')) <= 1e-5);
});

test('one σ per image: null keeps the image bit for bit, the others match torchvision', () => {
  const out = gaussianBlurImages(images, [null, 1.0, 0.25]);
  assert.ok(maxAbsDiff(out.toFloat32(), expected('tv-each')) <= 1e-5);
  assert.deepEqual(T.narrow(out, 0, 0, 1).toFloat32(), T.narrow(images, 0, 0, 1).toFloat32());
});

test('1-D host blur and 2-D map blur match scipy (gaussian_filter1d / gaussian_filter, mode reflect, truncate 4)', () => {
  const rng = new Random(3);
  const signal = Array.from({ length: 37 }, () => rng.float());
  const map = Float32Array.from({ length: 2 * 30 * 17 }, () => rng.float());
  const py = pythonJson<{ s8: number[]; s1: number[]; map: number[] }>(
    `import json, sys, numpy as np
from scipy.ndimage import gaussian_filter1d, gaussian_filter
s = np.array(json.loads(sys.argv[1]))
m = np.array(json.loads(sys.argv[2]), dtype=np.float32).reshape(2, 30, 17)
print(json.dumps({'s8': gaussian_filter1d(s, 8).tolist(), 's1': gaussian_filter1d(s, 1.5).tolist(),
                  'map': np.stack([gaussian_filter(p, 3) for p in m]).ravel().tolist()}))`,
    [JSON.stringify(signal), JSON.stringify(Array.from(map))],
  );
  assert.ok(maxAbsDiff(blurSignal(signal, 8), py.s8) < 1e-12, 'radius 32 on 37 samples: the border pattern repeats as in scipy');
  assert.ok(maxAbsDiff(blurSignal(signal, 1.5), py.s1) < 1e-12);
  const blurred = gaussianBlur(T.tensor(map, [2, 1, 30, 17]), 3);
  assert.deepEqual(blurred.shape, [2, 1, 30, 17]);
  assert.ok(maxAbsDiff(blurred.toFloat32(), py.map) < 1e-6);
  const flat = blurPlanes(T.tensor(map, [2, 30, 17]), 3);
  assert.deepEqual(flat.toFloat32(), T.reshape(blurred, [2, 30, 17]).toFloat32(), 'any leading dims, same numbers');
});

test('the symmetric border keeps a map\'s mass; σ = 0 is a copy', () => {
  const m = T.zeros([1, 1, 40, 40]);
  T.fillInPlace(T.narrow(T.narrow(m, 2, 0, 6), 3, 35, 5), 1);
  const b = gaussianBlur(m, 8);
  assert.ok(Math.abs(T.sum(b).item() - 30) < 1e-4, `mass ${T.sum(b).item()}`);
  assert.deepEqual(gaussianBlur(m, 0).toFloat32(), m.toFloat32());
});

test('bad shapes and σ are SpotdiffErrors', () => {
  assert.throws(() => gaussianBlur(T.zeros([2, 3, 4, 4]), 4), { code: 'ERR_SHAPE' });
  assert.throws(() => blurPlanes(T.zeros([5]), 1), { code: 'ERR_SHAPE' });
  assert.throws(() => blurPlanes(T.zeros([5, 5]), -1), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => blurPlanes(T.zeros([5, 5]), 1, { radius: 1.5 }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => gaussianBlurImages(images, [1, 2]), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => gaussianBlurImages(T.zeros([2, 1, 8, 8]), 1), { code: 'ERR_SHAPE' });
  assert.throws(() => gaussianBlurImages(T.zeros([2, 3, 8, 8], { dtype: 'int32' }), 1), { code: 'ERR_DTYPE' });
});
