import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import {
  applyGlobalAugment,
  globalAugment,
  sampleGlobalAugment,
  strongAugment,
  STRONG_AUGMENT,
  weakAugment,
  WEAK_AUGMENT,
  type GlobalAugmentConfig,
  type GlobalAugmentParams,
} from '../../src/augment/global.js';
import { resizedCrops, sampleResizedCrop } from '../../src/augment/resized-crop.js';
import { normalizeImages } from '../../src/augment/normalize.js';
import { gaussianRadius } from '../../src/augment/gaussian-blur.js';
import { Random } from '../../src/util/random.js';
import { TorchReference, refOutputs } from '../helpers/torch-ref.js';
import { binomialBounds, maxAbsDiff, randomImages } from './fixtures.js';

const images = randomImages(9, 3, 40, 52);
const crops = [
  { top: 3, left: 5, height: 30, width: 41 },
  { top: 0, left: 0, height: 40, width: 52 },
  { top: 20, left: 30, height: 11, width: 9 },
];
// Hand-made parameters for the whole pipeline, so that torchvision can run the same steps.
const pipeline: GlobalAugmentParams[] = [
  { crop: crops[0]!, jitter: { order: ['contrast', 'hue', 'brightness', 'saturation'], brightness: 1.2, contrast: 0.8, saturation: 1.3, hue: 0.05 }, grayscale: false, blurSigma: 1.4, flip: true },
  { crop: crops[1]!, jitter: null, grayscale: true, blurSigma: null, flip: false },
  { crop: crops[2]!, jitter: { order: ['saturation', 'brightness', 'hue', 'contrast'], brightness: 0.7, contrast: 1.1, saturation: 0.9, hue: -0.08 }, grayscale: true, blurSigma: 0.6, flip: true },
];

const ref = new TorchReference();
ref.input('x', images);
ref.case(
  'crops',
  `import torchvision.transforms.functional as TF
boxes = ${JSON.stringify(crops)}
out = torch.cat([TF.resized_crop(x[i:i+1], b['top'], b['left'], b['height'], b['width'], [24, 30], TF.InterpolationMode.BILINEAR) for i, b in enumerate(boxes)])`,
);
ref.case(
  'pipeline',
  `import torchvision.transforms.functional as TF
params = ${JSON.stringify(pipeline.map((p) => ({ ...p, kernel: p.blurSigma === null ? null : 2 * gaussianRadius(p.blurSigma) + 1 }))).replace(/null/g, 'None').replace(/true/g, 'True').replace(/false/g, 'False')}
outs = []
for i, p in enumerate(params):
    b = p['crop']
    img = TF.resized_crop(x[i:i+1], b['top'], b['left'], b['height'], b['width'], [24, 30], TF.InterpolationMode.BILINEAR)
    j = p['jitter']
    if j is not None:
        for op in j['order']:
            if j[op] is not None:
                img = getattr(TF, 'adjust_' + op)(img, j[op])
    if p['grayscale']:
        img = TF.rgb_to_grayscale(img, 3)
    if p['blurSigma'] is not None:
        img = TF.gaussian_blur(img, [p['kernel']] * 2, [p['blurSigma']] * 2)
    if p['flip']:
        img = TF.hflip(img)
    outs.append(img)
out = torch.cat(outs)`,
);
ref.case('normalize', `import torchvision.transforms.functional as TF\nout = TF.normalize(x, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])`);
const results = ref.run();
const expected = (name: string): Float64Array => refOutputs(results, name)[0]!.values;

test('resized crops equal torchvision\'s resized_crop (bilinear, tensors) to 1e-5', () => {
  const out = resizedCrops(images, crops, [24, 30]);
  assert.deepEqual(out.shape, [3, 3, 24, 30]);
  assert.ok(maxAbsDiff(out.toFloat32(), expected('crops')) <= 1e-5, `${maxAbsDiff(out.toFloat32(), expected('crops'))}`);
});

test('the whole pipeline (crop, jitter, grayscale, blur, flip) equals the same steps in torchvision to 1e-5', () => {
  const out = applyGlobalAugment(images, pipeline, [24, 30]);
  assert.ok(maxAbsDiff(out.toFloat32(), expected('pipeline')) <= 1e-5, `${maxAbsDiff(out.toFloat32(), expected('pipeline'))}`);
});

test('normalisation equals torchvision\'s Normalize with ImageNet statistics', () => {
  assert.ok(maxAbsDiff(normalizeImages(images).toFloat32(), expected('normalize')) <= 1e-5);
});

test('flip flips: a full-image crop with only the flip is the mirror image, without it the input itself', () => {
  const full = { top: 0, left: 0, height: 40, width: 52 };
  const plain = { crop: full, jitter: null, grayscale: false, blurSigma: null };
  const out = applyGlobalAugment(images, [{ ...plain, flip: true }, { ...plain, flip: false }, { ...plain, flip: true }]);
  const flipped = T.flip(images, [3]);
  // Crop and flip are one grid_sample: its float32 sampling points sit within ~1e-7 px of the pixel centres.
  for (const [n, f] of [[0, true], [1, false], [2, true]] as const) {
    assert.ok(maxAbsDiff(T.narrow(out, 0, n, 1).toFloat32(), T.narrow(f ? flipped : images, 0, n, 1).toFloat32()) <= 1e-5);
  }
});

// Rounded sides can move the aspect a little past the drawn ratio: (w−½)/(h+½) ≤ r ≤ (w+½)/(h−½).
function checkCrop(c: { height: number; width: number; top: number; left: number }, h: number, w: number, cfg: GlobalAugmentConfig): void {
  assert.ok(c.top >= 0 && c.left >= 0 && c.top + c.height <= h && c.left + c.width <= w, `crop inside: ${JSON.stringify(c)}`);
  const fallback = c.height === h && c.width === w;
  if (!fallback) {
    const area = (c.height * c.width) / (h * w);
    const slack = (c.height + c.width + 1) / (2 * h * w) + 1e-9; // rounding each side by ≤ ½ px
    assert.ok(area >= cfg.cropScale[0] - slack && area <= cfg.cropScale[1] + slack, `area ${area}`);
    assert.ok((c.width - 0.5) / (c.height + 0.5) <= cfg.cropRatio[1] && (c.width + 0.5) / (c.height - 0.5) >= cfg.cropRatio[0], `aspect ${c.width}/${c.height}`);
  }
}

for (const [name, cfg] of [['weak', WEAK_AUGMENT], ['strong', STRONG_AUGMENT]] as const) {
  test(`${name} augmentation: parameters over 4000 draws stay in range and probabilities match`, () => {
    const rng = new Random(name === 'weak' ? 1 : 2);
    const draws = Array.from({ length: 4000 }, () => sampleGlobalAugment(rng, 224, 180, cfg));
    for (const d of draws) {
      checkCrop(d.crop, 224, 180, cfg);
      if (d.jitter !== null) {
        for (const k of ['brightness', 'contrast', 'saturation'] as const) {
          assert.ok(d.jitter[k]! >= 1 - cfg.jitter[k] && d.jitter[k]! <= 1 + cfg.jitter[k], `${k} ${d.jitter[k]}`);
        }
        assert.ok(Math.abs(d.jitter.hue!) <= cfg.jitter.hue);
      }
      if (d.blurSigma !== null) assert.ok(d.blurSigma >= cfg.blurSigma[0] && d.blurSigma <= cfg.blurSigma[1]);
    }
    const rate = (f: (d: GlobalAugmentParams) => boolean, p: number, what: string): void => {
      const k = draws.filter(f).length;
      const [lo, hi] = binomialBounds(draws.length, p);
      assert.ok(k >= lo && k <= hi, `${what}: ${k} of ${draws.length}, p=${p}`);
    };
    rate((d) => d.jitter !== null, cfg.jitterP, 'jitter');
    rate((d) => d.blurSigma !== null, cfg.blurP, 'blur');
    rate((d) => d.flip, cfg.flipP, 'flip');
    if (cfg.grayscaleP === 0) assert.ok(draws.every((d) => !d.grayscale));
    else rate((d) => d.grayscale, cfg.grayscaleP, 'grayscale');
    const areas = draws.map((d) => (d.crop.height * d.crop.width) / (224 * 180));
    assert.ok(Math.min(...areas) < cfg.cropScale[0] + 0.05, 'crop areas reach the low end of the scale range');
  });
}

test('weak and strong: output shape, deterministic for a seed, different for another seed', () => {
  const batch = randomImages(4, 4, 48, 64);
  for (const aug of [weakAugment, strongAugment]) {
    const a = aug(batch, new Random(5), [32, 40]);
    const b = aug(batch, new Random(5), [32, 40]);
    const c = aug(batch, new Random(6), [32, 40]);
    assert.deepEqual(a.images.shape, [4, 3, 32, 40]);
    assert.deepEqual(a.params, b.params);
    assert.deepEqual(a.images.toFloat32(), b.images.toFloat32());
    assert.notDeepEqual(a.params, c.params);
    assert.deepEqual(aug(batch, new Random(5)).images.shape, [4, 3, 48, 64], 'default output size: the input size');
  }
});

test('bad input and configuration are SpotdiffErrors', () => {
  assert.throws(() => weakAugment(T.zeros([3, 8, 8]), new Random(1)), { code: 'ERR_SHAPE' });
  assert.throws(() => weakAugment(T.zeros([2, 4, 8, 8]), new Random(1)), { code: 'ERR_SHAPE' });
  assert.throws(() => strongAugment(T.zeros([2, 3, 8, 8], { dtype: 'uint8' }), new Random(1)), { code: 'ERR_DTYPE' });
  assert.throws(() => globalAugment(images, new Random(1), { ...WEAK_AUGMENT, flipP: 1.5 }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => globalAugment(images, new Random(1), { ...WEAK_AUGMENT, cropScale: [0.9, 0.2] }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => applyGlobalAugment(images, pipeline.slice(0, 2)), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => applyGlobalAugment(images, pipeline, [0, 5]), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => resizedCrops(images, [crops[0]!, crops[1]!, { top: 35, left: 0, height: 10, width: 5 }], [8, 8]), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => normalizeImages(images, [0.5, 0.5], [1, 1, 1]), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => normalizeImages(images, [0.5, 0.5, 0.5], [1, 0, 1]), { code: 'ERR_BAD_INPUT' });
});

test('the crop falls back to the centred whole image clipped to the ratio when no draw fits', () => {
  const wide = sampleResizedCrop(new Random(1), 10, 100, [0.99, 1], [1, 2]);
  assert.deepEqual(wide, { top: 0, left: 40, height: 10, width: 20 });
  const square = sampleResizedCrop(new Random(1), 50, 50, [1, 1], [3 / 4, 4 / 3]);
  assert.equal(square.height * square.width, 2500);
});
