import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { fitPadim, PadimModel, type PadimOptions } from '../../../src/detect/padim/index.js';
import { randomFeatures } from '../fixtures.js';

type Layer = { name: string; channels: number; size: readonly [number, number] };
const LAYERS: Layer[] = [
  { name: 'layer1', channels: 4, size: [8, 8] },
  { name: 'layer2', channels: 4, size: [4, 4] },
  { name: 'layer3', channels: 4, size: [2, 2] },
];
const OPTIONS: PadimOptions = { input: { backbone: 'test', weights: null, resize: null, crop: null, imageSize: [16, 16] }, channels: 6 };
const feats = (seed: number, b: number, layers = LAYERS) => randomFeatures(seed, b, layers).tensors;

test('an empty training set, or a single image, is refused', () => {
  assert.throws(() => fitPadim([], OPTIONS), { code: 'ERR_BAD_INPUT', message: /empty/ });
  assert.throws(() => fitPadim([feats(1, 1)], OPTIONS), { code: 'ERR_BAD_INPUT', message: /at least 2/ });
});

test('more channels than the layers have is refused', () => {
  assert.throws(() => fitPadim([feats(1, 2)], { ...OPTIONS, channels: 13 }), { code: 'ERR_BAD_INPUT', message: /13 channels.*only 12/ });
  assert.throws(() => fitPadim([feats(1, 2)], { ...OPTIONS, channels: 0.5 }), { code: 'ERR_BAD_INPUT' });
});

test('mismatched feature maps are refused with ERR_SHAPE / ERR_BAD_INPUT / ERR_DTYPE', () => {
  const bad = (layers: Layer[]) => () => fitPadim([feats(2, 2, layers)], OPTIONS);
  assert.throws(bad([LAYERS[0]!, { name: 'layer2', channels: 4, size: [3, 3] }, LAYERS[2]!]), { code: 'ERR_SHAPE', message: /does not divide/ });
  assert.throws(bad([LAYERS[0]!, { name: 'layer2', channels: 4, size: [16, 16] }, LAYERS[2]!]), { code: 'ERR_SHAPE' });
  assert.throws(bad([LAYERS[0]!, LAYERS[1]!]), { code: 'ERR_BAD_INPUT', message: /layer3.*missing/ });
  const mixedBatch = feats(3, 2);
  mixedBatch.set('layer2', T.zeros([3, 4, 4, 4]));
  assert.throws(() => fitPadim([mixedBatch], OPTIONS), { code: 'ERR_SHAPE', message: /batch size/ });
  const flat = feats(3, 2);
  flat.set('layer3', T.zeros([2, 4, 4]));
  assert.throws(() => fitPadim([flat], OPTIONS), { code: 'ERR_SHAPE' });
  const double = feats(3, 2);
  double.set('layer1', T.zeros([2, 4, 8, 8], { dtype: 'float64' }));
  assert.throws(() => fitPadim([double], OPTIONS), { code: 'ERR_DTYPE' });
  // A later batch with another grid than the first.
  assert.throws(() => fitPadim([feats(4, 2), feats(5, 2, LAYERS.map((l) => ({ ...l, size: [l.size[0] * 2, l.size[1] * 2] as const })))], OPTIONS), {
    code: 'ERR_SHAPE',
    message: /fitted on 8×8/,
  });
});

test('scoring features of another size or channel count than the fit is refused', () => {
  const model = fitPadim([feats(6, 3)], OPTIONS);
  assert.throws(() => model.scores(feats(7, 1, LAYERS.map((l) => ({ ...l, size: [l.size[0] * 2, l.size[1] * 2] as const })))), { code: 'ERR_SHAPE', message: /grid/ });
  assert.throws(() => model.scores(feats(7, 1, LAYERS.map((l) => ({ ...l, channels: 5 })))), { code: 'ERR_SHAPE', message: /channels/ });
  model.dispose();
  assert.throws(() => model.scores(feats(7, 1)), { code: 'ERR_DISPOSED' });
});

test('bad options are refused before any work', () => {
  assert.throws(() => fitPadim([feats(1, 2)], { ...OPTIONS, input: { ...OPTIONS.input, imageSize: [0, 16] } }), { code: 'ERR_BAD_INPUT', message: /imageSize/ });
  assert.throws(() => fitPadim([feats(1, 2)], { ...OPTIONS, covarianceEpsilon: -1 }), { code: 'ERR_BAD_INPUT' });
  assert.throws(() => fitPadim([feats(1, 2)], { ...OPTIONS, layers: [] }), { code: 'ERR_BAD_INPUT' });
});

test('a model folder from another version or with missing / mis-shaped tensors is refused', () => {
  const model = fitPadim([feats(8, 3)], OPTIONS);
  const config = JSON.parse(JSON.stringify(model.config));
  const copy = () => new Map([...model.stateDict()].map(([k, v]) => [k, T.keep(T.clone(v))]));
  assert.throws(() => PadimModel.fromStateDict({ ...config, version: 2 }, copy()), { code: 'ERR_VERSION' });
  assert.throws(() => PadimModel.fromStateDict({ ...config, format: 'spotdiff.patchcore' }, copy()), { code: 'ERR_VERSION' });
  const noMean = copy();
  noMean.delete('mean');
  assert.throws(() => PadimModel.fromStateDict(config, noMean), { code: 'ERR_BAD_CHECKPOINT', message: /"mean"/ });
  const wrongMean = copy();
  wrongMean.set('mean', T.zeros([64, 5]));
  assert.throws(() => PadimModel.fromStateDict(config, wrongMean), { code: 'ERR_BAD_CHECKPOINT', message: /mean has shape/ });
  const lostChunk = copy();
  lostChunk.delete([...lostChunk.keys()].find((k) => k.startsWith('inv_covariance'))!);
  assert.throws(() => PadimModel.fromStateDict(config, lostChunk), { code: 'ERR_BAD_CHECKPOINT', message: /cover/ });
  const otherSeed = { ...config, channelSubset: { method: 'python-random-sample', seed: 7 } };
  assert.throws(() => PadimModel.fromStateDict(otherSeed, copy()), { code: 'ERR_BAD_CHECKPOINT', message: /channel_index/ });
  model.dispose();
});
