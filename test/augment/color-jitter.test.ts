import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  applyColorJitter,
  colorJitter,
  JITTER_OPS,
  rgbToGrayscale,
  sampleColorJitter,
  type ColorJitterParams,
} from '../../src/augment/color-jitter.js';
import { Random } from '../../src/util/random.js';
import { TorchReference, refOutputs } from '../helpers/torch-ref.js';
import { binomialBounds, maxAbsDiff, pyList, randomImages } from './fixtures.js';

// torchvision 0.14's functional_tensor is the reference; everything is float32, so 1e-5
// absolute leaves room for summation order (contrast's mean) and one-ulp differences.
const TOL = 1e-5;
const TF = 'import torchvision.transforms.functional as TF\n';

const images = randomImages(1, 4, 19, 23);
const perImage = {
  brightness: [0.6, 1.0, 1.37, 0],
  contrast: [0.55, 1.0, 1.4, 2.5],
  saturation: [0.6, 0, 1.33, 1.9],
  hue: [-0.5, -0.07, 0.1, 0.5],
};
// Jitter as ColorJitter draws it, with fixed orders, applied by torchvision op by op.
const jitterParams: (ColorJitterParams | null)[] = [
  { order: ['hue', 'brightness', 'saturation', 'contrast'], brightness: 1.3, contrast: 0.7, saturation: 1.2, hue: 0.09 },
  null,
  { order: ['contrast', 'saturation', 'hue', 'brightness'], brightness: 0.8, contrast: 1.35, saturation: null, hue: -0.04 },
  { order: ['saturation', 'hue', 'contrast', 'brightness'], brightness: null, contrast: 1.1, saturation: 0.65, hue: null },
];

const ref = new TorchReference();
ref.input('x', images);
for (const [op, factors] of Object.entries(perImage)) {
  ref.case(`${op}-each`, `${TF}out = torch.cat([TF.adjust_${op}(x[i:i+1], f) for i, f in enumerate(${pyList(factors)})])`);
  ref.case(`${op}-all`, `${TF}out = TF.adjust_${op}(x, ${factors[2]!.toPrecision(17)})`);
}
ref.case('gray1', `${TF}out = TF.rgb_to_grayscale(x, 1)`);
ref.case('gray3', `${TF}out = TF.rgb_to_grayscale(x, 3)`);
ref.case(
  'jitter',
  `${TF}
params = ${JSON.stringify(jitterParams).replace(/null/g, 'None')}
outs = []
for i, p in enumerate(params):
    img = x[i:i+1]
    if p is not None:
        for op in p['order']:
            if p[op] is not None:
                img = getattr(TF, 'adjust_' + op)(img, p[op])
    outs.append(img)
out = torch.cat(outs)`,
);
const results = ref.run();
const expected = (name: string): Float64Array => refOutputs(results, name)[0]!.values;

const ADJUST = { brightness: adjustBrightness, contrast: adjustContrast, saturation: adjustSaturation, hue: adjustHue };
for (const [op, factors] of Object.entries(perImage) as [keyof typeof ADJUST, number[]][]) {
  test(`adjust ${op} equals torchvision's adjust_${op} to ${TOL}, one factor per image and one for the batch`, () => {
    const each = ADJUST[op](images, factors);
    assert.deepEqual(each.shape, images.shape);
    assert.ok(maxAbsDiff(each.toFloat32(), expected(`${op}-each`)) <= TOL, `per image: ${maxAbsDiff(each.toFloat32(), expected(`${op}-each`))}`);
    const all = ADJUST[op](images, factors[2]!);
    assert.ok(maxAbsDiff(all.toFloat32(), expected(`${op}-all`)) <= TOL, `batch: ${maxAbsDiff(all.toFloat32(), expected(`${op}-all`))}`);
  });
}

test('identity factors leave images unchanged (brightness, contrast, saturation 1; hue 0 to float error)', () => {
  const x = images.toFloat32();
  for (const f of [adjustBrightness, adjustContrast, adjustSaturation]) assert.deepEqual(f(images, 1).toFloat32(), x);
  assert.ok(maxAbsDiff(adjustHue(images, 0).toFloat32(), x) < 1e-6);
});

test('grayscale equals rgb_to_grayscale with 1 and 3 output channels', () => {
  const g1 = rgbToGrayscale(images, 1);
  const g3 = rgbToGrayscale(images, 3);
  assert.deepEqual(g1.shape, [4, 1, 19, 23]);
  assert.deepEqual(g3.shape, [4, 3, 19, 23]);
  assert.ok(maxAbsDiff(g1.toFloat32(), expected('gray1')) <= 1e-6);
  assert.ok(maxAbsDiff(g3.toFloat32(), expected('gray3')) <= 1e-6);
});

test('jitter applies each image its own operations in its own order, as torchvision op by op; null leaves the image', () => {
  const out = applyColorJitter(images, jitterParams);
  assert.ok(maxAbsDiff(out.toFloat32(), expected('jitter')) <= TOL, `${maxAbsDiff(out.toFloat32(), expected('jitter'))}`);
  const one = (t: T.Tensor) => T.narrow(t, 0, 1, 1).toFloat32();
  assert.deepEqual(one(out), one(images), 'the image without jitter is bit for bit the input');
});

test('drawn jitter parameters stay in ColorJitter ranges and the order is a permutation (all 24 appear)', () => {
  const rng = new Random(7);
  const orders = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const p = sampleColorJitter(rng, { brightness: 0.4, contrast: 0.4, saturation: 1.2, hue: 0.1 });
    assert.deepEqual([...p.order].sort(), [...JITTER_OPS].sort());
    orders.add(p.order.join());
    assert.ok(p.brightness! >= 0.6 && p.brightness! <= 1.4);
    assert.ok(p.contrast! >= 0.6 && p.contrast! <= 1.4);
    assert.ok(p.saturation! >= 0 && p.saturation! <= 2.2, 'max(0, 1 − 1.2) = 0');
    assert.ok(p.hue! >= -0.1 && p.hue! <= 0.1);
  }
  assert.equal(orders.size, 24);
  const off = sampleColorJitter(rng, { brightness: 0, contrast: 0.1, saturation: 0, hue: 0 });
  assert.equal(off.brightness, null);
  assert.equal(off.saturation, null);
  assert.equal(off.hue, null);
  assert.notEqual(off.contrast, null);
});

test('colorJitter applies with probability p and is deterministic for a seed', () => {
  const batch = randomImages(3, 400, 2, 2);
  const strength = { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 };
  const a = colorJitter(batch, new Random(11), strength, 0.8);
  const b = colorJitter(batch, new Random(11), strength, 0.8);
  assert.deepEqual(a.params, b.params);
  assert.deepEqual(a.images.toFloat32(), b.images.toFloat32());
  const applied = a.params.filter((p) => p !== null).length;
  const [lo, hi] = binomialBounds(400, 0.8);
  assert.ok(applied >= lo && applied <= hi, `${applied} of 400 jittered`);
  const c = colorJitter(batch, new Random(12), strength, 0.8);
  assert.notDeepEqual(c.params, a.params);
});

test('bad factors, counts, orders and images are SpotdiffErrors', () => {
  assert.throws(() => adjustBrightness(images, -0.1), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => adjustHue(images, 0.6), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => adjustContrast(images, [1, 1]), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => adjustSaturation(images, Number.NaN), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => applyColorJitter(images, [null]), { code: 'ERR_BAD_INPUT' });
  const badOrder = { order: ['hue', 'hue', 'contrast', 'brightness'], brightness: 1, contrast: 1, saturation: 1, hue: 0 } as unknown as ColorJitterParams;
  assert.throws(() => applyColorJitter(images, [badOrder, null, null, null]), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => sampleColorJitter(new Random(1), { brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.7 }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => adjustHue(T.zeros([3, 8, 8]), 0.1), { code: 'ERR_SHAPE' });
  assert.throws(() => adjustHue(T.zeros([1, 1, 8, 8]), 0.1), { code: 'ERR_SHAPE' });
  assert.throws(() => adjustHue(T.zeros([1, 3, 8, 8], { dtype: 'uint8' }), 0.1), { code: 'ERR_DTYPE' });
  assert.throws(() => rgbToGrayscale(T.zeros([2, 3, 8, 8], { dtype: 'int64' })), { code: 'ERR_DTYPE' });
});
