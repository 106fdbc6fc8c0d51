import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { applyCutPaste, cutPaste, cutPasteScar, rotatedSourceMap, sampleCutPaste, sampleScar } from '../../src/augment/cutpaste.js';
import { Random } from '../../src/util/random.js';
import { TorchReference, refOutputs } from '../helpers/torch-ref.js';
import { maxAbsDiff, randomImages } from './fixtures.js';

const [N, H, W] = [4, 80, 96];
const images = randomImages(31, N, H, W);
const plain = cutPaste(images, new Random(2));
const scar = cutPasteScar(images, new Random(3));

// torchvision jitters each cut patch; the pasted pixels must be those values.
const ref = new TorchReference();
ref.input('x', images);
for (const [name, r] of [['plain', plain], ['scar', scar]] as const) {
  ref.case(
    name,
    `import torchvision.transforms.functional as TF
out = []
for i, p in enumerate(${JSON.stringify(r.patches.map((p) => ({ s: p.source, j: p.jitter })))}):
    s, j = p['s'], p['j']
    patch = x[i:i+1, :, s['top']:s['top'] + s['height'], s['left']:s['left'] + s['width']]
    for op in j['order']:
        patch = getattr(TF, 'adjust_' + op)(patch, j[op])
    out.append(patch)`,
  );
}
const results = ref.run();

function pixels(t: T.Tensor, n: number): Float32Array {
  return T.narrow(t, 0, n, 1).toFloat32();
}

test('CutPaste: patch area 2–15% and aspect 0.3–3.3 (up to rounding), over many draws', () => {
  const rng = new Random(8);
  for (let i = 0; i < 2000; i++) {
    const p = sampleCutPaste(rng, 120, 90);
    const { height: h, width: w } = p.target;
    assert.ok(h * w >= 0.02 * 120 * 90 && h * w <= 0.15 * 120 * 90, `area ${h}×${w}`);
    assert.ok((w - 0.5) / (h + 0.5) <= 1 / 0.3 && (w + 0.5) / (h - 0.5) >= 0.3, `aspect ${w}/${h}`);
    assert.deepEqual([p.source.height, p.source.width], [h, w]);
    assert.equal(p.angle, 0);
  }
});

test('CutPaste: the pasted box holds the jittered source patch (torchvision, 1e-5); every other pixel is unchanged', () => {
  const expected = refOutputs(results, 'plain');
  const mask = plain.mask.toFloat32();
  plain.patches.forEach((p, n) => {
    const t = p.target;
    const pasted = T.narrow(T.narrow(T.narrow(plain.images, 0, n, 1), 2, t.top, t.height), 3, t.left, t.width);
    assert.ok(maxAbsDiff(pasted.toFloat32(), expected[n]!.values) <= 1e-5, `image ${n}`);
    const x = pixels(images, n);
    const y = pixels(plain.images, n);
    let inMask = 0;
    for (let r = 0; r < H; r++) {
      for (let q = 0; q < W; q++) {
        const inside = r >= t.top && r < t.top + t.height && q >= t.left && q < t.left + t.width;
        assert.equal(mask[(n * H + r) * W + q], inside ? 1 : 0);
        if (inside) inMask++;
        else for (let c = 0; c < 3; c++) assert.equal(y[(c * H + r) * W + q], x[(c * H + r) * W + q]);
      }
    }
    assert.equal(inMask, t.height * t.width);
  });
});

test('scar: width 2–16, height 10–25, rotation −45..45°, over many draws; the rotated box fits the image', () => {
  const rng = new Random(5);
  const angles: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const p = sampleScar(rng, 64, 64);
    assert.ok(Number.isInteger(p.source.width) && p.source.width >= 2 && p.source.width <= 16);
    assert.ok(Number.isInteger(p.source.height) && p.source.height >= 10 && p.source.height <= 25);
    assert.ok(p.angle >= -45 && p.angle <= 45);
    assert.ok(p.target.top + p.target.height <= 64 && p.target.left + p.target.width <= 64);
    angles.push(p.angle);
  }
  assert.ok(Math.min(...angles) < -40 && Math.max(...angles) > 40);
});

test('scar: the mask covers about width×height pixels, pasted pixels come from the jittered patch, the rest is unchanged', () => {
  const expected = refOutputs(results, 'scar');
  const mask = scar.mask.toFloat32();
  scar.patches.forEach((p, n) => {
    const map = rotatedSourceMap(p.source.height, p.source.width, p.angle);
    const patch = expected[n]!.values;
    const plane = p.source.height * p.source.width;
    const x = pixels(images, n);
    const y = pixels(scar.images, n);
    let count = 0;
    for (let r = 0; r < H; r++) {
      for (let q = 0; q < W; q++) {
        const m = mask[(n * H + r) * W + q];
        const inBox = r >= p.target.top && r < p.target.top + p.target.height && q >= p.target.left && q < p.target.left + p.target.width;
        const src = inBox ? (map.source[(r - p.target.top) * map.width + (q - p.target.left)] as number) : -1;
        assert.equal(m, src >= 0 ? 1 : 0);
        for (let c = 0; c < 3; c++) {
          const k = (c * H + r) * W + q;
          if (src < 0) assert.equal(y[k], x[k], `image ${n} changed outside the scar at (${r}, ${q})`);
          else assert.ok(Math.abs((y[k] as number) - (patch[c * plane + src] as number)) <= 1e-5);
        }
        if (src >= 0) count++;
      }
    }
    const area = plane;
    assert.ok(Math.abs(count - area) <= 0.25 * area + 4, `image ${n}: ${count} pasted pixels for a ${p.source.height}×${p.source.width} scar`);
  });
});

test('rotation map: 0° is the identity, 90° swaps the sides, other angles use most source pixels (nearest neighbour)', () => {
  const id = rotatedSourceMap(5, 3, 0);
  assert.deepEqual([id.height, id.width], [5, 3]);
  assert.deepEqual(Array.from(id.source), Array.from({ length: 15 }, (_, i) => i));
  const quarter = rotatedSourceMap(5, 3, 90);
  assert.deepEqual([quarter.height, quarter.width], [3, 5]);
  assert.deepEqual([...quarter.source].sort((a, b) => a - b), Array.from({ length: 15 }, (_, i) => i));
  for (const deg of [-45, -17.5, 30, 44]) {
    const m = rotatedSourceMap(20, 6, deg);
    const hits = new Set([...m.source].filter((s) => s >= 0));
    assert.ok(hits.size >= 0.75 * 120, `${deg}°: ${hits.size} of 120 source pixels used`);
  }
});

test('deterministic for a seed, different for another', () => {
  const again = cutPasteScar(images, new Random(3));
  assert.deepEqual(again.patches, scar.patches);
  assert.deepEqual(again.images.toFloat32(), scar.images.toFloat32());
  assert.notDeepEqual(cutPaste(images, new Random(7)).patches, plain.patches);
});

test('bad input is a SpotdiffError', () => {
  const rng = new Random(1);
  assert.throws(() => cutPaste(T.zeros([3, 32, 32]), rng), { code: 'ERR_SHAPE' });
  assert.throws(() => cutPaste(T.zeros([1, 2, 32, 32]), rng), { code: 'ERR_SHAPE' });
  assert.throws(() => cutPasteScar(T.zeros([1, 3, 32, 32], { dtype: 'int64' }), rng), { code: 'ERR_DTYPE' });
  assert.throws(() => cutPasteScar(T.zeros([1, 3, 12, 12]), rng), { code: 'ERR_SHAPE' }, 'a 10–25 px scar does not fit 12 px');
  assert.throws(() => cutPaste(images, rng, { area: [0.2, 0.1] }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => applyCutPaste(images, plain.patches.slice(1)), { code: 'ERR_BAD_INPUT' });
  const moved = plain.patches.map((p) => ({ ...p, target: { ...p.target, top: H } }));
  assert.throws(() => applyCutPaste(images, moved), { code: 'ERR_BAD_INPUT' });
});
