import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { fitPadim, fitPadimAsync, PadimFitter, PadimModel, padimChannelIndices, type PadimOptions } from '../../../src/detect/padim/index.js';
import { pythonJson } from '../../helpers/python.js';
import { tempDir } from '../../helpers/tmp.js';
import { concat, maxScaledDiff, randomFeatures, writeRaw } from '../fixtures.js';

const LAYERS = [
  { name: 'layer1', channels: 6, size: [8, 8] as const },
  { name: 'layer2', channels: 8, size: [4, 4] as const },
  { name: 'layer3', channels: 10, size: [2, 2] as const },
];
const OPTIONS: PadimOptions = { input: { backbone: 'test', weights: null, resize: null, crop: null, imageSize: [32, 32] }, channels: 10 };
// 10 channels × 10 × 8 B = 800 B per position: 4000 B gives chunks of 5 positions (64 = 12×5 + 4).
const SMALL_CHUNKS = { chunkBytes: 4000 };

// The official PaDiM procedure (xiahaifeng1995/PaDiM-Anomaly-Detection-Localization, main.py),
// restated: unfold/fold embedding concat, random.sample channels with seed 1024, np.cov + 0.01 I
// stored as float32, np.linalg.inv, scipy mahalanobis, bilinear upsampling, gaussian_filter σ=4.
// The image score is the map maximum (the official min-max normalisation over the test set is
// a monotone rescaling of all maps and is left out).
const REFERENCE = String.raw`
import sys, json, random
from random import sample
import numpy as np, torch, torch.nn.functional as F
from scipy.spatial.distance import mahalanobis
from scipy.ndimage import gaussian_filter
spec = json.loads(sys.argv[1])
def load(path, n, c, h, w):
    return torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(n, c, h, w))
def concat_blocks(x, y):
    b, c1, h1, w1 = x.size(); _, c2, h2, w2 = y.size(); s = int(h1 / h2)
    x = F.unfold(x, kernel_size=s, dilation=1, stride=s).view(b, c1, -1, h2, w2)
    z = torch.zeros(b, c1 + c2, x.size(2), h2, w2)
    for i in range(x.size(2)):
        z[:, :, i, :, :] = torch.cat((x[:, :, i, :, :], y), 1)
    return F.fold(z.view(b, -1, h2 * w2), kernel_size=s, output_size=(h1, w1), stride=s)
def embed(files, n):
    e = None
    for f, l in zip(files, spec['layers']):
        t = load(f, n, l['channels'], l['size'][0], l['size'][1])
        e = t if e is None else concat_blocks(e, t)
    return e
random.seed(1024)
t_d = sum(l['channels'] for l in spec['layers'])
idx = torch.tensor(sample(range(0, t_d), spec['d']))
train = torch.index_select(embed(spec['train'], spec['n_train']), 1, idx)
B, C, H, W = train.size()
train = train.view(B, C, H * W)
mean = torch.mean(train, dim=0).numpy()
cov = torch.zeros(C, C, H * W).numpy()
I = np.identity(C)
for i in range(H * W):
    cov[:, :, i] = np.cov(train[:, :, i].numpy(), rowvar=False) + 0.01 * I
test = torch.index_select(embed(spec['test'], spec['n_test']), 1, idx)
Bt = test.size(0)
test = test.view(Bt, C, H * W).numpy()
dist = []
for i in range(H * W):
    inv = np.linalg.inv(cov[:, :, i])
    dist.append([mahalanobis(s[:, i], mean[:, i], inv) for s in test])
dist = torch.tensor(np.array(dist).transpose(1, 0).reshape(Bt, H, W))
maps = F.interpolate(dist.unsqueeze(1), size=spec['image'], mode='bilinear', align_corners=False).squeeze(1).numpy()
for i in range(maps.shape[0]):
    maps[i] = gaussian_filter(maps[i], sigma=4)
print(json.dumps({'idx': idx.tolist(), 'patch': dist.numpy().ravel().tolist(), 'maps': maps.ravel().tolist(), 'scores': maps.reshape(Bt, -1).max(axis=1).tolist()}))
`;

test('PaDiM matches the official procedure (PyTorch/numpy/scipy) to 1e-4, fitted over several batches and chunks', () => {
  const dir = tempDir();
  const before = T.liveTensorCount();
  const batches = [randomFeatures(1, 4, LAYERS), randomFeatures(2, 4, LAYERS), randomFeatures(3, 3, LAYERS)];
  const testBatch = randomFeatures(9, 3, LAYERS);
  const files = (b: typeof batches, tag: string) =>
    LAYERS.map((l) => writeRaw(dir, `${tag}-${l.name}.f32`, concat(b.map((x) => x.values.get(l.name)!))));
  const spec = { layers: LAYERS, d: 10, n_train: 11, n_test: 3, image: 32, train: files(batches, 'train'), test: files([testBatch], 'test') };
  const ref = pythonJson<{ idx: number[]; patch: number[]; maps: number[]; scores: number[] }>(REFERENCE, [JSON.stringify(spec)]);

  const model = fitPadim(batches.map((b) => b.tensors), OPTIONS, SMALL_CHUNKS);
  assert.deepEqual([...model.channelIndex], ref.idx);
  const s = model.scoreTensors(testBatch.tensors);
  assert.ok(maxScaledDiff(s.patchScores.toFloat32(), ref.patch) < 1e-4, `patch scores differ by ${maxScaledDiff(s.patchScores.toFloat32(), ref.patch)}`);
  assert.deepEqual(s.maps.shape, [3, 32, 32]);
  const mapDiff = maxScaledDiff(s.maps.toFloat32(), ref.maps);
  assert.ok(mapDiff < 1e-4, `maps differ by ${mapDiff}`);
  assert.ok(maxScaledDiff(s.imageScores.toFloat32(), ref.scores) < 1e-4);
  T.dispose(s);
  model.dispose();
  for (const b of [...batches, testBatch]) T.dispose(b.tensors);
  assert.equal(T.liveTensorCount(), before, 'fit and score leak no tensors');
});

test('features equal to the training mean score zero everywhere', () => {
  const train = randomFeatures(4, 6, LAYERS);
  const model = fitPadim([train.tensors], OPTIONS, SMALL_CHUNKS);
  // The embedding is linear in the features, so the mean features embed to the mean embedding.
  const meanFeatures = new Map([...train.tensors].map(([k, v]) => [k, T.mean(v, 0, true)]));
  const s = model.scores(meanFeatures);
  assert.equal(s.maps.length, 32 * 32);
  assert.ok(Math.max(...s.maps.map(Math.abs)) < 1e-3, `max |map| = ${Math.max(...s.maps)}`);
  assert.ok(Math.abs(s.imageScores[0]!) < 1e-3);
  // A training image itself is far from zero: the test above is not trivially passing.
  const own = model.scores(new Map([...train.tensors].map(([k, v]) => [k, T.narrow(v, 0, 0, 1)])));
  assert.ok(own.imageScores[0]! > 1);
  model.dispose();
});

test('a saved state dict gives a model that scores identically; the config travels as JSON', () => {
  const train = randomFeatures(5, 5, LAYERS);
  const probe = randomFeatures(6, 2, LAYERS);
  const model = fitPadim([train.tensors], OPTIONS, SMALL_CHUNKS);
  const want = model.scores(probe.tensors);
  const state = model.stateDict();
  assert.deepEqual([...state.keys()].slice(0, 2), ['channel_index', 'mean']);
  assert.equal(state.size, 2 + 13);
  const copies = new Map([...state].map(([k, v]) => [k, T.keep(T.clone(v))]));
  const config = JSON.parse(JSON.stringify(model.config));
  model.dispose();
  const loaded = PadimModel.fromStateDict(config, copies);
  const got = loaded.scores(probe.tensors);
  assert.deepEqual(got.maps, want.maps);
  assert.deepEqual(got.imageScores, want.imageScores);
  assert.equal(loaded.config.fitted?.trainImages, 5);
  loaded.dispose();
});

test('the default channel subset is the official one: random.sample(range(448), 100) with seed 1024', () => {
  const idx = padimChannelIndices({ channels: 100, channelSubset: { method: 'python-random-sample', seed: 1024 } }, 448);
  const ref = pythonJson<number[]>('import random, json\nrandom.seed(1024)\nprint(json.dumps(random.sample(range(0, 448), 100)))');
  assert.deepEqual(idx, ref);
  const fitter = new PadimFitter({ input: OPTIONS.input });
  fitter.add(randomFeatures(7, 2, [
    { name: 'layer1', channels: 64, size: [4, 4] },
    { name: 'layer2', channels: 128, size: [2, 2] },
    { name: 'layer3', channels: 256, size: [1, 1] },
  ]).tensors);
  const m = fitter.finish();
  assert.equal(m.config.channels, 100, 'ResNet-18 layout (448 channels) keeps 100');
  assert.deepEqual([...m.channelIndex], ref);
  m.dispose();
});

test('an async fit from a generator that frees each batch after use equals the one-batch fit', async () => {
  const before = T.liveTensorCount();
  async function* batches() {
    for (let i = 0; i < 3; i++) {
      const f = randomFeatures(40 + i, 2, LAYERS).tensors;
      yield f;
      T.dispose(f);
    }
  }
  const streamed = await fitPadimAsync(batches(), OPTIONS, SMALL_CHUNKS);
  const all = T.tidy(() => new Map(LAYERS.map((l) => [l.name, T.cat([0, 1, 2].map((i) => randomFeatures(40 + i, 2, LAYERS).tensors.get(l.name)!), 0)])));
  const whole = fitPadim([all], OPTIONS);
  assert.equal(streamed.config.fitted?.trainImages, 6);
  const probe = randomFeatures(50, 2, LAYERS).tensors;
  const a = streamed.scores(probe);
  const b = whole.scores(probe);
  assert.ok(maxScaledDiff(a.maps, b.maps) < 1e-5, 'batching and chunking do not change the result');
  T.dispose([all, probe]);
  streamed.dispose();
  whole.dispose();
  assert.equal(T.liveTensorCount(), before);
});
