import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { gaussianBlur, gaussianKernel1d, gaussianRadius } from '../../../src/augment/gaussian-blur.js';
import { anomalyMaps } from '../../../src/detect/common/anomaly-map.js';
import { DEFAULT_MAP_CONFIG } from '../../../src/detect/common/config.js';
import { pythonJson } from '../../helpers/python.js';
import { tempDir } from '../../helpers/tmp.js';
import { maxScaledDiff, randomValues, writeRaw } from '../fixtures.js';

// scipy.ndimage.gaussian_filter (the official PaDiM/PatchCore smoothing, mode 'reflect' =
// edge-repeating) and anomalib's GaussianBlur2d (2-D kernel, F.pad mode='reflect').
const REFERENCE = String.raw`
import sys, json
import numpy as np, torch, torch.nn.functional as F
from scipy.ndimage import gaussian_filter
out = []
for case in json.loads(sys.argv[1]):
    b, h, w = case['shape']; sigma = case['sigma']
    x = np.fromfile(case['path'], dtype=np.float32).reshape(b, h, w)
    scipy_out = np.stack([gaussian_filter(m, sigma=sigma) for m in x])
    k = 2 * int(4.0 * sigma + 0.5) + 1
    r = torch.arange(k, dtype=torch.float32) - k // 2
    g = torch.exp(-r ** 2 / (2 * sigma ** 2)); g = g / g.sum()
    t = torch.from_numpy(x).unsqueeze(1)
    anomalib = F.conv2d(F.pad(t, [k // 2] * 4, mode='reflect'), torch.outer(g, g)[None, None]).squeeze(1).numpy() if k // 2 < min(h, w) else None
    up = F.interpolate(t, size=(2 * h, 3 * w), mode='bilinear', align_corners=False).squeeze(1).numpy()
    up_blur = np.stack([gaussian_filter(m, sigma=4) for m in up])
    out.append({'scipy': scipy_out.ravel().tolist(), 'anomalib': None if anomalib is None else anomalib.ravel().tolist(), 'maps': up_blur.ravel().tolist()})
print(json.dumps(out))
`;

type Case = { shape: [number, number, number]; sigma: number };
const CASES: Case[] = [
  { shape: [2, 40, 45], sigma: 4 },
  { shape: [1, 9, 12], sigma: 4 }, // radius 16 > size: the border pattern must repeat as scipy's does
  { shape: [3, 17, 11], sigma: 1.5 },
];
const valuesOf = (c: Case): Float32Array => randomValues(c.shape[1] * 100 + c.shape[2], c.shape[0] * c.shape[1] * c.shape[2], 2, 3);
type Ref = { scipy: number[]; anomalib: number[] | null; maps: number[] };
let refs: Ref[] | null = null;
/** One Python run for every case (torch and scipy take seconds to import). */
function reference(i: number): Ref {
  if (refs === null) {
    const dir = tempDir();
    const spec = CASES.map((c, k) => ({ ...c, path: writeRaw(dir, `maps${k}.f32`, valuesOf(c)) }));
    refs = pythonJson<Ref[]>(REFERENCE, [JSON.stringify(spec)]);
  }
  return refs[i]!;
}

test('kernel size is 2*int(4σ+0.5)+1 (33 taps for σ=4) and the weights sum to 1', () => {
  assert.equal(gaussianRadius(4), 16);
  assert.equal(gaussianKernel1d(4).length, 33);
  assert.equal(gaussianKernel1d(1.5).length, 13);
  assert.ok(Math.abs(gaussianKernel1d(4).reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

CASES.forEach(({ shape, sigma }, i) => {
  test(`blur ${shape.join('×')} σ=${sigma} matches scipy gaussian_filter ('symmetric') and anomalib ('reflect') to 1e-5`, () => {
    const ref = reference(i);
    const x = T.tensor(valuesOf(CASES[i]!), shape);
    const sym = gaussianBlur(x, sigma, { padding: 'symmetric' });
    assert.deepEqual(sym.shape, shape);
    assert.ok(maxScaledDiff(sym.toFloat32(), ref.scipy) < 1e-5, `scipy diff ${maxScaledDiff(sym.toFloat32(), ref.scipy)}`);
    if (ref.anomalib !== null) {
      const refl = gaussianBlur(x, sigma, { padding: 'reflect' });
      assert.ok(maxScaledDiff(refl.toFloat32(), ref.anomalib) < 1e-5);
      assert.ok(maxScaledDiff(refl.toFloat32(), ref.scipy) > 1e-4, 'the two border modes do differ near the edges');
      refl.dispose();
    }
    const maps = anomalyMaps(x, [2 * shape[1], 3 * shape[2]], DEFAULT_MAP_CONFIG);
    assert.ok(maxScaledDiff(maps.toFloat32(), ref.maps) < 1e-5, 'upsample (bilinear) then blur');
    T.dispose([x, sym, maps]);
  });
});

test('blur rejects maps that are not [B, H, W] or [B, 1, H, W]', () => {
  assert.throws(() => gaussianBlur(T.zeros([2, 3, 4, 4]), 4), { code: 'ERR_SHAPE' });
});
