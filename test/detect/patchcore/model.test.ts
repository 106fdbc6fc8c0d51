import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { coresetProjection, coresetSize, coresetStartIndices, embeddingDim, fitPatchcore, fitPatchcoreAsync, PatchcoreModel, resolvePatchcoreConfig, type PatchcoreOptions } from '../../../src/detect/patchcore/index.js';
import { pythonJson } from '../../helpers/python.js';
import { tempDir } from '../../helpers/tmp.js';
import { concat, maxScaledDiff, randomFeatures, writeRaw } from '../fixtures.js';

const LAYERS = [
  { name: 'layer2', channels: 8, size: [6, 6] as const },
  { name: 'layer3', channels: 12, size: [3, 3] as const },
];
const INPUT = { backbone: 'test', weights: null, resize: null, crop: null, imageSize: [24, 24] as [number, number] };

// PatchCore restated from both anchors, selected by flags: the official feature pipeline
// (patchcore-inspection: PatchMaker.patchify, patch upsampling, MeanMapper, Aggregator) or
// anomalib's (AvgPool2d(3,1,1), bilinear, concat); the official approximate greedy coreset on
// the given projection and start points; nearest-neighbour patch scores (Euclidean or squared);
// image score as max (official) or anomalib's compute_anomaly_score re-weighting; maps upsampled
// bilinearly and blurred by scipy gaussian_filter (official) or anomalib's reflect-padded kernel.
const REFERENCE = String.raw`
import sys, json
import numpy as np, torch, torch.nn.functional as F
from scipy.ndimage import gaussian_filter
def run(s):
    def load(paths, n):
        return [torch.from_numpy(np.fromfile(p, dtype=np.float32).reshape(n, l['channels'], *l['size'])) for p, l in zip(paths, s['layers'])]
    def official_embed(feats):
        p = 3; pad = 1
        patches, shapes = [], []
        for x in feats:
            u = F.unfold(x, kernel_size=p, stride=1, padding=pad, dilation=1)
            patches.append(u.reshape(*x.shape[:2], p, p, -1).permute(0, 4, 1, 2, 3))
            shapes.append((x.shape[2], x.shape[3]))
        ref = shapes[0]
        for i in range(1, len(patches)):
            f = patches[i]
            f = f.reshape(f.shape[0], shapes[i][0], shapes[i][1], *f.shape[2:]).permute(0, -3, -2, -1, 1, 2)
            base = f.shape
            f = F.interpolate(f.reshape(-1, *f.shape[-2:]).unsqueeze(1), size=ref, mode='bilinear', align_corners=False).squeeze(1)
            f = f.reshape(*base[:-2], ref[0], ref[1]).permute(0, -2, -1, 1, 2, 3)
            patches[i] = f.reshape(len(f), -1, *f.shape[-3:])
        patches = [x.reshape(-1, *x.shape[-3:]) for x in patches]
        pooled = torch.stack([F.adaptive_avg_pool1d(x.reshape(len(x), 1, -1), s['layer_dim']).squeeze(1) for x in patches], dim=1)
        return F.adaptive_avg_pool1d(pooled.reshape(len(pooled), 1, -1), s['target_dim']).reshape(len(pooled), -1)
    def anomalib_embed(feats):
        pool = torch.nn.AvgPool2d(3, 1, 1)
        e = pool(feats[0])
        for x in feats[1:]:
            e = torch.cat((e, F.interpolate(pool(x), size=e.shape[-2:], mode='bilinear', align_corners=False)), 1)
        return e.permute(0, 2, 3, 1).reshape(-1, e.shape[1])
    embed = official_embed if s['official_features'] else anomalib_embed
    def pairwise(a, b):
        aa = a.unsqueeze(1).bmm(a.unsqueeze(2)).reshape(-1, 1)
        bb = b.unsqueeze(1).bmm(b.unsqueeze(2)).reshape(1, -1)
        return (-2 * a.mm(b.T) + aa + bb).clamp(0, None).sqrt()
    def euclid(x, y):
        xn = x.pow(2).sum(-1, keepdim=True); yn = y.pow(2).sum(-1, keepdim=True)
        return (xn - 2 * torch.matmul(x, y.transpose(-2, -1)) + yn.transpose(-2, -1)).clamp_min(0).sqrt()
    bank = embed(load(s['train'], s['n_train']))
    proj = torch.from_numpy(np.fromfile(s['projection'], dtype=np.float32).reshape(bank.shape[1], -1))
    reduced = bank @ proj
    dist = torch.mean(pairwise(reduced, reduced[s['starts']]), axis=-1).reshape(-1, 1)
    picked = []
    for _ in range(s['count']):
        i = torch.argmax(dist).item(); picked.append(i)
        dist = torch.min(torch.cat([dist, pairwise(reduced, reduced[i:i + 1])], dim=-1), dim=1).values.reshape(-1, 1)
    memory = bank[picked]
    q = embed(load(s['test'], s['n_test']))
    b = s['n_test']; h, w = s['layers'][0]['size']
    d = euclid(q, memory)
    patch, loc = d.min(1)
    if s['squared']:
        patch = patch ** 2
    patch = patch.reshape(b, h * w)
    if s['reweighted']:
        k = min(s['k'], memory.shape[0])
        worst = torch.argmax(patch, dim=1)
        feat = q.reshape(b, h * w, -1)[torch.arange(b), worst]
        score = patch[torch.arange(b), worst]
        nn = memory[loc.reshape(b, h * w)[torch.arange(b), worst], :]
        _, support = euclid(nn, memory).topk(k=k, largest=False, dim=1)
        dd = euclid(feat.unsqueeze(1), memory[support])
        if s['squared']:
            dd = dd ** 2
        image = (1 - F.softmax(dd.squeeze(1), 1))[..., 0] * score
    else:
        image = patch.amax(1)
    up = F.interpolate(patch.reshape(b, 1, h, w), size=s['image'], mode='bilinear', align_corners=False)
    if s['scipy_blur']:
        maps = np.stack([gaussian_filter(m, sigma=4) for m in up.squeeze(1).numpy()])
    else:
        ks = 2 * int(4.0 * 4 + 0.5) + 1
        r = torch.arange(ks, dtype=torch.float32) - ks // 2
        g = torch.exp(-r ** 2 / (2 * 4.0 ** 2)); g = g / g.sum()
        maps = F.conv2d(F.pad(up, [ks // 2] * 4, mode='reflect'), torch.outer(g, g)[None, None]).squeeze(1).numpy()
    return ({'memory': memory.numpy().ravel().tolist(), 'patch': patch.numpy().ravel().tolist(), 'image': image.numpy().ravel().tolist(), 'maps': maps.ravel().tolist()})
print(json.dumps([run(s) for s in json.loads(sys.argv[1])]))
`;

const VARIANTS: { name: string; options: PatchcoreOptions; flags: Record<string, boolean | number> }[] = [
  {
    name: 'official code (unfold + MeanMapper, squared L2, max, scipy blur)',
    options: { input: INPUT, projection: { layerDim: 16, targetDim: 12 }, distance: 'squared-euclidean', imageScore: { rule: 'max' } },
    flags: { official_features: true, squared: true, reweighted: false, scipy_blur: true, layer_dim: 16, target_dim: 12 },
  },
  {
    name: 'anomalib (avg-pool, no projection, Euclidean, re-weighted k=3, reflect blur)',
    options: {
      input: INPUT,
      aggregation: { method: 'avg-pool' },
      projection: { layerDim: null, targetDim: null },
      imageScore: { rule: 'reweighted', neighbours: 3 },
      map: { blur: { sigma: 4, truncate: 4, padding: 'reflect' } },
    },
    flags: { official_features: false, squared: false, reweighted: true, scipy_blur: false, k: 3 },
  },
  {
    name: 'defaults (official features, Euclidean, re-weighted k=9, scipy blur)',
    options: { input: INPUT, projection: { layerDim: 16, targetDim: 12 } },
    flags: { official_features: true, squared: false, reweighted: true, scipy_blur: true, layer_dim: 16, target_dim: 12, k: 9 },
  },
];

const CORESET = { ratio: 0.25, projectionDim: 5, startPoints: 4, seed: 7 };
const data = () => ({ batches: [randomFeatures(21, 5, LAYERS), randomFeatures(22, 4, LAYERS)], probe: randomFeatures(23, 3, LAYERS) });
type Ref = { memory: number[]; patch: number[]; image: number[]; maps: number[] };
let refs: Ref[] | null = null;
/** One Python run for every variant (importing torch and scipy takes seconds). */
function reference(i: number): Ref {
  if (refs === null) {
    const dir = tempDir();
    const { batches, probe } = data();
    const files = (bs: typeof batches, tag: string) => LAYERS.map((l) => writeRaw(dir, `${tag}-${l.name}.f32`, concat(bs.map((x) => x.values.get(l.name)!))));
    const [train, test] = [files(batches, 'train'), files([probe], 'test')];
    const n = 9 * 36;
    const specs = VARIANTS.map((v, k) => {
      const dim = embeddingDim(resolvePatchcoreConfig(v.options), LAYERS.map((l) => l.channels));
      const projection = coresetProjection(dim, CORESET.projectionDim, CORESET.seed);
      const path = writeRaw(dir, `proj${k}.f32`, projection.toFloat32());
      projection.dispose();
      return { ...v.flags, layers: LAYERS, n_train: 9, n_test: 3, image: 24, train, test, projection: path, starts: coresetStartIndices(n, CORESET.startPoints, CORESET.seed), count: coresetSize(n, CORESET.ratio) };
    });
    for (const b of [...batches, probe]) T.dispose(b.tensors);
    refs = pythonJson<Ref[]>(REFERENCE, [JSON.stringify(specs)]);
  }
  return refs[i]!;
}

VARIANTS.forEach((v, i) => {
  test(`PatchCore matches a PyTorch reference to 1e-4: ${v.name}`, () => {
    const ref = reference(i);
    const before = T.liveTensorCount();
    const { batches, probe } = data();
    const model = fitPatchcore(batches.map((b) => b.tensors), { ...v.options, coreset: CORESET }, { blockRows: 50 });
    assert.equal(model.memorySize, 81);
    assert.ok(maxScaledDiff(model.stateDict().get('memory_bank')!.toFloat32(), ref.memory) < 1e-5, 'same coreset, same order');
    const s = model.scoreTensors(probe.tensors);
    const diffs = {
      patch: maxScaledDiff(s.patchScores.toFloat32(), ref.patch),
      image: maxScaledDiff(s.imageScores.toFloat32(), ref.image),
      maps: maxScaledDiff(s.maps.toFloat32(), ref.maps),
    };
    assert.ok(diffs.patch < 1e-4 && diffs.image < 1e-4 && diffs.maps < 1e-4, JSON.stringify(diffs));
    assert.deepEqual(s.maps.shape, [3, 24, 24]);
    T.dispose(s);
    model.dispose();
    for (const b of [...batches, probe]) T.dispose(b.tensors);
    assert.equal(T.liveTensorCount(), before, 'fit and score leak no tensors');
  });
});

test('training patches score zero; a saved state dict scores identically', () => {
  const train = randomFeatures(31, 4, LAYERS);
  const model = fitPatchcore([train.tensors], { input: INPUT, projection: { layerDim: 16, targetDim: 12 }, coreset: { ratio: 1 } });
  assert.equal(model.memorySize, 4 * 36, 'ratio 1 keeps every patch');
  const own = model.scores(train.tensors);
  assert.ok(Math.max(...own.imageScores.map(Math.abs)) < 1e-5, `training images score ${own.imageScores}`);
  const probe = randomFeatures(32, 2, LAYERS);
  const want = model.scores(probe.tensors);
  assert.ok(want.imageScores[0]! > 0.1);
  const copies = new Map([...model.stateDict()].map(([k, t]) => [k, T.keep(T.clone(t))]));
  const loaded = PatchcoreModel.fromStateDict(JSON.parse(JSON.stringify(model.config)), copies);
  model.dispose();
  const got = loaded.scores(probe.tensors);
  assert.deepEqual(got.maps, want.maps);
  assert.deepEqual(got.imageScores, want.imageScores);
  const tile = loaded.scores(probe.tensors, { imageSize: [18, 30] });
  assert.deepEqual([tile.height, tile.width, tile.maps.length], [18, 30, 2 * 18 * 30], 'maps at a requested size');
  assert.deepEqual(tile.imageScores, want.imageScores, 'image scores do not depend on the map size');
  loaded.dispose();
});

test('an async fit from a generator that frees each batch reports coreset progress and frees everything', async () => {
  const before = T.liveTensorCount();
  async function* batches() {
    for (let i = 0; i < 3; i++) {
      const f = randomFeatures(60 + i, 2, LAYERS).tensors;
      yield f;
      T.dispose(f);
    }
  }
  const progress: [number, number][] = [];
  const model = await fitPatchcoreAsync(batches(), { input: INPUT, projection: { layerDim: 16, targetDim: 12 } }, { onProgress: (d, t) => progress.push([d, t]) });
  assert.equal(model.memorySize, Math.floor(6 * 36 * 0.1));
  assert.deepEqual(progress.at(-1), [21, 21]);
  assert.ok(progress.every(([d], i) => i === 0 || d > progress[i - 1]![0]), 'progress only grows');
  assert.deepEqual(model.config.fitted, { layerChannels: [8, 12], grid: [6, 6], embeddingDim: 12, trainPatches: 216, memorySize: 21, trainImages: 6 });
  model.dispose();
  assert.equal(T.liveTensorCount(), before);
});
