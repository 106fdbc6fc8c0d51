import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { applySmoothBlend, sampleSmoothBlend, smoothBlend, type SmoothBlendPatch } from '../../src/augment/smooth-blend.js';
import { Random } from '../../src/util/random.js';
import { TorchReference, refOutputs } from '../helpers/torch-ref.js';
import { maxAbsDiff, randomImages } from './fixtures.js';

const [N, H, W] = [5, 96, 128];
const images = randomImages(21, N, H, W);
const drawn = smoothBlend(images, new Random(4));
// A patch in a corner and one on the right edge: the blur meets the border.
const edgePatches: SmoothBlendPatch[] = [
  { source: { top: 40, left: 50, height: 9, width: 10 }, target: { top: 0, left: 0, height: 9, width: 10 }, jitter: { order: ['hue', 'contrast', 'brightness', 'saturation'], brightness: 1.1, contrast: 0.9, saturation: 1.05, hue: 0.08 } },
  { source: { top: 0, left: 0, height: 12, width: 7 }, target: { top: 60, left: 121, height: 12, width: 7 }, jitter: { order: ['brightness', 'saturation', 'contrast', 'hue'], brightness: 0.92, contrast: 1.07, saturation: 0.95, hue: -0.1 } },
];
const edgeImages = T.narrow(images, 0, 0, 2);
const edgeImage = applySmoothBlend(edgeImages, edgePatches);
const edgeZero = applySmoothBlend(edgeImages, edgePatches, { fill: 'zero' });

// The reference: scipy blurs the 0/1 box mask (σ=8, mode 'reflect' = our 'symmetric', truncate 4),
// torchvision jitters the cut patch op by op, and the blend is written out in torch.
function blendReference(name: string, x: T.Tensor, patches: readonly SmoothBlendPatch[], fill: 'image' | 'zero'): void {
  ref.input(name, x);
  ref.case(
    name,
    `import numpy as np, torchvision.transforms.functional as TF
from scipy.ndimage import gaussian_filter
x = ${name}
patches = ${JSON.stringify(patches)}
alphas, outs = [], []
for i, p in enumerate(patches):
    s, t, j = p['source'], p['target'], p['jitter']
    mask = np.zeros(x.shape[2:], dtype=np.float64)
    mask[t['top']:t['top'] + t['height'], t['left']:t['left'] + t['width']] = 1
    alpha = torch.from_numpy(gaussian_filter(mask, 8)).float()[None, None]
    patch = x[i:i+1, :, s['top']:s['top'] + s['height'], s['left']:s['left'] + s['width']]
    for op in j['order']:
        patch = getattr(TF, 'adjust_' + op)(patch, j[op])
    u = x[i:i+1].clone() if '${fill}' == 'image' else torch.zeros_like(x[i:i+1])
    u[:, :, t['top']:t['top'] + t['height'], t['left']:t['left'] + t['width']] = patch
    alphas.append(alpha)
    outs.append((1 - alpha) * x[i:i+1] + alpha * u)
out = (torch.cat(outs), torch.cat(alphas))`,
  );
}
const ref = new TorchReference();
blendReference('drawn', images, drawn.patches, 'image');
blendReference('edge', edgeImages, edgePatches, 'image');
blendReference('edgezero', edgeImages, edgePatches, 'zero');
const results = ref.run();
const [drawnOut, drawnAlpha] = refOutputs(results, 'drawn');

test('patch area is 0.5–1% of the image and the aspect ratio 0.3–3 (up to rounding of the sides)', () => {
  const rng = new Random(9);
  const many = Array.from({ length: 2000 }, () => sampleSmoothBlend(rng, 64, 200)).concat(drawn.patches);
  for (const p of many) {
    const [h, w] = [p.target.height, p.target.width];
    const total = drawn.patches.includes(p) ? H * W : 64 * 200;
    assert.ok(h * w >= 0.005 * total && h * w <= 0.01 * total, `area ${h}×${w} of ${total}`);
    assert.ok((w - 0.5) / (h + 0.5) <= 3 && (w + 0.5) / (h - 0.5) >= 0.3, `aspect ${w}/${h}`);
    assert.deepEqual([p.source.height, p.source.width], [h, w]);
  }
});

test('the alpha mask is the σ=8 Gaussian blur of the pre-blur patch mask (scipy gaussian_filter, 1e-6) and keeps its mass', () => {
  assert.deepEqual(drawn.alpha.shape, [N, 1, H, W]);
  assert.ok(maxAbsDiff(drawn.alpha.toFloat32(), drawnAlpha!.values) <= 1e-6, `${maxAbsDiff(drawn.alpha.toFloat32(), drawnAlpha!.values)}`);
  const sums = T.sum(drawn.alpha, [1, 2, 3]).toFloat32();
  drawn.patches.forEach((p, i) => {
    const area = p.target.height * p.target.width;
    assert.ok(Math.abs((sums[i] as number) - area) <= 1e-4 * area, `image ${i}: α sums to ${sums[i]}, patch area ${area}`);
  });
  const [, edgeAlpha] = refOutputs(results, 'edge');
  assert.ok(maxAbsDiff(edgeImage.alpha.toFloat32(), edgeAlpha!.values) <= 1e-6);
  const edgeSums = T.sum(edgeImage.alpha, [1, 2, 3]).toFloat32();
  assert.ok(Math.abs((edgeSums[0] as number) - 90) < 1e-3 && Math.abs((edgeSums[1] as number) - 84) < 1e-3, 'border patches keep their mass too');
});

test('the perturbed image is (1 − α)·x + α·u with the jittered patch in u, as in torchvision/scipy (1e-5)', () => {
  assert.ok(maxAbsDiff(drawn.images.toFloat32(), drawnOut!.values) <= 1e-5, `${maxAbsDiff(drawn.images.toFloat32(), drawnOut!.values)}`);
  const [edgeOut] = refOutputs(results, 'edge');
  assert.ok(maxAbsDiff(edgeImage.images.toFloat32(), edgeOut!.values) <= 1e-5);
  const [zeroOut] = refOutputs(results, 'edgezero');
  assert.ok(maxAbsDiff(edgeZero.images.toFloat32(), zeroOut!.values) <= 1e-5, `zero fill: ${maxAbsDiff(edgeZero.images.toFloat32(), zeroOut!.values)}`);
});

test('only the pasted patch changes: outside it every pixel equals the input bit for bit', () => {
  const x = images.toFloat32();
  const y = drawn.images.toFloat32();
  drawn.patches.forEach((p, i) => {
    let changedInside = 0;
    for (let c = 0; c < 3; c++) {
      for (let r = 0; r < H; r++) {
        for (let q = 0; q < W; q++) {
          const k = ((i * 3 + c) * H + r) * W + q;
          const inside = r >= p.target.top && r < p.target.top + p.target.height && q >= p.target.left && q < p.target.left + p.target.width;
          if (!inside) assert.equal(y[k], x[k], `image ${i} changed outside its patch at (${r}, ${q})`);
          else if (Math.abs((y[k] as number) - (x[k] as number)) > 1e-3) changedInside++;
        }
      }
    }
    assert.ok(changedInside > p.target.height * p.target.width, `image ${i}: the patch region does change (${changedInside} values)`);
  });
});

test("fill 'zero' (the literal empty layer) darkens a halo: changes reach 4σ past the patch and only darken there", () => {
  const x = edgeImages.toFloat32();
  const y = edgeZero.images.toFloat32();
  let halo = 0;
  edgePatches.forEach((p, i) => {
    const t = p.target;
    for (let c = 0; c < 3; c++) {
      for (let r = 0; r < H; r++) {
        for (let q = 0; q < W; q++) {
          const k = ((i * 3 + c) * H + r) * W + q;
          const inside = r >= t.top && r < t.top + t.height && q >= t.left && q < t.left + t.width;
          if (inside) continue;
          const far = r < t.top - 32 || r >= t.top + t.height + 32 || q < t.left - 32 || q >= t.left + t.width + 32;
          if (far) assert.equal(y[k], x[k]);
          else {
            assert.ok((y[k] as number) <= (x[k] as number) + 1e-7, 'the halo only darkens');
            if ((y[k] as number) < (x[k] as number) - 0.01) halo++;
          }
        }
      }
    }
  });
  assert.ok(halo > 500, `darkened halo pixels: ${halo}`);
});

test('deterministic for a seed, different for another; one patch per image', () => {
  const a = smoothBlend(images, new Random(4));
  assert.deepEqual(a.patches, drawn.patches);
  assert.deepEqual(a.images.toFloat32(), drawn.images.toFloat32());
  const b = smoothBlend(images, new Random(5));
  assert.notDeepEqual(b.patches, drawn.patches);
  assert.equal(drawn.patches.length, N);
});

test('bad input is a SpotdiffError', () => {
  const rng = new Random(1);
  assert.throws(() => smoothBlend(T.zeros([3, 32, 32]), rng), { code: 'ERR_SHAPE' });
  assert.throws(() => smoothBlend(T.zeros([1, 1, 32, 32]), rng), { code: 'ERR_SHAPE' });
  assert.throws(() => smoothBlend(T.zeros([1, 3, 32, 32], { dtype: 'uint8' }), rng), { code: 'ERR_DTYPE' });
  assert.throws(() => smoothBlend(T.zeros([0, 3, 32, 32]), rng), { code: 'ERR_SHAPE' });
  assert.throws(() => smoothBlend(T.zeros([1, 3, 8, 8]), rng), { code: 'ERR_SHAPE' }, 'no 0.5–1% patch fits 8×8 pixels');
  assert.throws(() => smoothBlend(images, rng, { area: [0.02, 0.01] }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => smoothBlend(images, rng, { sigma: -1 }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => applySmoothBlend(images, edgePatches), { code: 'ERR_BAD_INPUT' });
});
