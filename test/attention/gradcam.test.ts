import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { resnet18 } from '../../src/models/resnet.js';
import { camToMaps, gradCamGrid, nearestByCosine, pooledEmbeddings } from '../../src/attention/gradcam.js';
import { ATTENTION_LAYERS, checkAttentionLayer } from '../../src/attention/layers.js';
import { Random } from '../../src/util/random.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { runWithFloats, shipState } from '../helpers/float-blob.js';

// GradCAM attention maps against PyTorch with hooks: torchvision's resnet18 with the same
// weights, a forward hook on the layer keeping its output (retain_grad), −cos(embedding,
// nearest normal's embedding) backpropagated, weights = mean gradient, ReLU(Σ w·A), bilinear
// upsampling, min-max normalisation. Every layer, two query images, one Python run.

const TOL = 1e-4;
const SIZE = 96;

const PYTHON = String.raw`
m = torchvision.models.resnet18()
own = m.state_dict()
m.load_state_dict({name: take(shape).to(own[name].dtype) for name, shape in meta['state']}, strict=True)
normals, queries = take(meta['normals']), take(meta['queries'])
m.fc = torch.nn.Identity()
m.eval()
with torch.no_grad():
    en, eq = m(normals), m(queries)
nearest = (F.normalize(eq, dim=1) @ F.normalize(en, dim=1).t()).argmax(1)
outs = [nearest.to(torch.float32)]
for layer in meta['layers']:
    kept = {}
    def hook(module, inputs, output):
        output.retain_grad()
        kept['a'] = output
    handle = getattr(m, layer).register_forward_hook(hook)
    m.zero_grad(set_to_none=True)
    loss = -F.cosine_similarity(m(queries), en[nearest], dim=1).sum()
    loss.backward()
    handle.remove()
    a, g = kept['a'], kept['a'].grad
    cam = F.relu((g.mean((2, 3), keepdim=True) * a).sum(1)).detach()
    up = F.interpolate(cam[:, None], size=(meta['size'], meta['size']), mode='bilinear', align_corners=False)[:, 0]
    lo, hi = up.amin((1, 2), keepdim=True), up.amax((1, 2), keepdim=True)
    outs += [cam, torch.where(hi > lo, (up - lo) / (hi - lo), torch.zeros_like(up))]
open(OUT, 'wb').write(b''.join(t.to(torch.float32).contiguous().numpy().tobytes() for t in outs))
print(json.dumps({'offset': offset, 'total': raw.numel()}))
`;

/** Images with their own brightness and colour cast (distinct pooled embeddings), values around ImageNet-normalised ranges. */
function images(seed: number, n: number): Float32Array {
  const rng = new Random(seed);
  const plane = SIZE * SIZE;
  const out = new Float32Array(n * 3 * plane);
  for (let i = 0; i < n; i++) {
    const scale = 0.5 + i * 0.6;
    for (let c = 0; c < 3; c++) {
      const shift = rng.uniform(-1, 1);
      for (let p = 0; p < plane; p++) out[(i * 3 + c) * plane + p] = shift + scale * rng.normal();
    }
  }
  return out;
}

test('GradCAM maps at layer1..layer4 equal PyTorch with hooks (nearest normal, −cos gradient, upsampled, normalised)', (t) => {
  T.manualSeed(2); // a random init whose maps have positive cells for both queries at every layer (checked below)
  const model = resnet18();
  try {
    const normalValues = images(1, 3);
    // queries: normals 2 and 1 with a bright square pasted in (an "anomaly")
    const plane = SIZE * SIZE;
    const queryValues = new Float32Array(2 * 3 * plane);
    [2, 1].forEach((src, q) => {
      queryValues.set(normalValues.subarray(src * 3 * plane, (src + 1) * 3 * plane), q * 3 * plane);
      for (let c = 0; c < 3; c++) for (let y = 20 + q * 10; y < 32 + q * 10; y++) for (let x = 30; x < 42; x++) queryValues[(q * 3 + c) * plane + y * SIZE + x] = 2.5;
    });
    const chunks: Float32Array[] = [];
    const state = shipState(model.stateDict(), chunks);
    chunks.push(normalValues, queryValues);
    const meta = { state, normals: [3, 3, SIZE, SIZE], queries: [2, 3, SIZE, SIZE], layers: ATTENTION_LAYERS, size: SIZE };
    const { stdout, out } = runWithFloats(PYTHON, meta, chunks, 'spotdiff-gradcam-');
    const done = JSON.parse(stdout) as { offset: number; total: number };
    assert.equal(done.offset, done.total);

    const live = T.liveTensorCount();
    T.tidy(() => {
      const normals = T.tensor(normalValues, [3, 3, SIZE, SIZE]);
      const queries = T.tensor(queryValues, [2, 3, SIZE, SIZE]);
      const normalEmb = pooledEmbeddings(model, normals);
      const nearest = nearestByCosine(normalEmb, pooledEmbeddings(model, queries));
      assert.deepEqual(nearest.index, Array.from(out.subarray(0, 2)), 'same nearest normals as PyTorch');
      assert.deepEqual(nearest.index, [2, 1], 'each query is nearest to the normal it was made from');
      const targets = T.indexSelect(normalEmb, 0, T.tensor(BigInt64Array.from(nearest.index, BigInt), [2]));
      let pos = 2;
      const report: string[] = [];
      const checks: (() => void)[] = [];
      for (const layer of ATTENTION_LAYERS) {
        const cam = gradCamGrid(model, queries, targets, layer);
        const [, h, w] = cam.shape as [number, number, number];
        const refCam = out.subarray(pos, pos + 2 * h * w);
        pos += 2 * h * w;
        const refMaps = out.subarray(pos, pos + 2 * plane);
        pos += 2 * plane;
        const maps = camToMaps(cam, SIZE, SIZE).toFloat32();
        const camValues = cam.toFloat32();
        const camScale = refCam.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        const positive = [0, 1].map((q) => refCam.subarray(q * h * w, (q + 1) * h * w).filter((v) => v > 0).length);
        const camErr = camValues.reduce((a, v, i) => Math.max(a, Math.abs(v - refCam[i]!)), 0) / camScale;
        const mapErr = maps.reduce((a, v, i) => Math.max(a, Math.abs(v - refMaps[i]!)), 0);
        report.push(`${layer} ${h}×${w} (${positive.join('/')} positive cells): grid ${camErr.toExponential(2)} rel, map ${mapErr.toExponential(2)} abs`);
        checks.push(() => {
          assert.ok(positive.every((n) => n > 0), `${layer}: a map is all zero, the comparison would be trivial`);
          assert.ok(mapErr <= TOL, `${layer}: normalised map differs from PyTorch by ${mapErr}`);
          assert.ok(camErr <= TOL, `${layer}: GradCAM grid differs from PyTorch by ${camErr} relative`);
          assert.ok(maps.every((v) => v >= 0 && v <= 1));
        });
      }
      t.diagnostic(report.join('; '));
      for (const check of checks) check();
      assert.equal(pos, out.length);
    });
    assert.equal(T.liveTensorCount(), live, 'GradCAM leaked tensors');
    for (const [name, p] of model.namedParameters()) {
      assert.equal(p.grad, null, `${name} got a gradient`);
      assert.ok(p.requiresGrad, `${name} no longer requires a gradient`);
    }
  } finally {
    model.dispose();
  }
});

test('a flat map normalises to zeros; an unknown layer is a usage error listing the layers', () => {
  T.tidy(() => {
    const maps = camToMaps(T.zeros([1, 2, 2]), 4, 4);
    assert.deepEqual(Array.from(maps.toFloat32()), new Array(16).fill(0));
    const ramp = camToMaps(T.tensor(Float32Array.of(0, 1, 2, 3), [1, 2, 2]), 2, 2).toFloat32();
    assert.deepEqual(Array.from(ramp), [0, 1 / 3, 2 / 3, 1].map((v) => Math.fround(v)));
  });
  assert.throws(() => checkAttentionLayer('layer5'), (e) => isSpotdiffError(e, 'ERR_USAGE') && /unknown layer "layer5".*layer1, layer2, layer3, layer4/.test(e.message));
  assert.throws(() => checkAttentionLayer('avgpool'), (e) => isSpotdiffError(e, 'ERR_USAGE'));
});
