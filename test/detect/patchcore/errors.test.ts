import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { fitPatchcore, PatchcoreFitter, PatchcoreModel, type PatchcoreOptions } from '../../../src/detect/patchcore/index.js';
import { randomFeatures } from '../fixtures.js';

type Layer = { name: string; channels: number; size: readonly [number, number] };
const LAYERS: Layer[] = [
  { name: 'layer2', channels: 4, size: [6, 6] },
  { name: 'layer3', channels: 6, size: [3, 3] },
];
const OPTIONS: PatchcoreOptions = {
  input: { backbone: 'test', weights: null, resize: null, crop: null, imageSize: [12, 12] },
  projection: { layerDim: 8, targetDim: 8 },
  coreset: { ratio: 0.5, projectionDim: 4 },
};
const feats = (seed: number, b: number, layers = LAYERS) => randomFeatures(seed, b, layers).tensors;

test('an empty training set is refused', () => {
  assert.throws(() => fitPatchcore([], OPTIONS), { code: 'ERR_BAD_INPUT', message: /empty/ });
});

test('projection sizes larger than the features have are refused', () => {
  // layer2: 4 channels × 3² = 36 values per patch; 40 is more.
  assert.throws(() => fitPatchcore([feats(1, 2)], { ...OPTIONS, projection: { layerDim: 40, targetDim: 8 } }), { code: 'ERR_BAD_INPUT', message: /layerDim 40.*36-value/ });
  assert.throws(() => fitPatchcore([feats(1, 2)], { ...OPTIONS, projection: { layerDim: 8, targetDim: 17 } }), { code: 'ERR_BAD_INPUT', message: /targetDim 17.*16/ });
  // anomalib-style aggregation has C values per patch, not C·9.
  assert.throws(() => fitPatchcore([feats(1, 2)], { ...OPTIONS, aggregation: { method: 'avg-pool' }, projection: { layerDim: 5, targetDim: null } }), {
    code: 'ERR_BAD_INPUT',
    message: /layerDim 5.*4-value/,
  });
});

test('bad options are refused before any work', () => {
  const bad = (o: Partial<PatchcoreOptions>) => () => fitPatchcore([feats(1, 2)], { ...OPTIONS, ...o });
  assert.throws(bad({ coreset: { ratio: 0 } }), { code: 'ERR_BAD_INPUT', message: /ratio/ });
  assert.throws(bad({ coreset: { ratio: 1.5 } }), { code: 'ERR_BAD_INPUT', message: /ratio/ });
  assert.throws(bad({ coreset: { ratio: 0.001 } }), { code: 'ERR_BAD_INPUT', message: /keeps no patch/ });
  assert.throws(bad({ aggregation: { patchSize: 2 } }), { code: 'ERR_BAD_INPUT', message: /odd/ });
  assert.throws(bad({ imageScore: { neighbours: 0 } }), { code: 'ERR_BAD_INPUT' });
  assert.throws(bad({ distance: 'cosine' as 'euclidean' }), { code: 'ERR_BAD_INPUT' });
  assert.throws(bad({ layers: [] }), { code: 'ERR_BAD_INPUT' });
  assert.throws(bad({ layers: ['layer2', 'layer2'] }), { code: 'ERR_BAD_INPUT' });
});

test('mismatched feature maps are refused', () => {
  const mixed = feats(2, 2);
  mixed.set('layer3', T.zeros([3, 6, 3, 3]));
  assert.throws(() => fitPatchcore([mixed], OPTIONS), { code: 'ERR_SHAPE', message: /batch size/ });
  assert.throws(() => fitPatchcore([feats(2, 2, [LAYERS[0]!])], OPTIONS), { code: 'ERR_BAD_INPUT', message: /layer3.*missing/ });
  const fitter = new PatchcoreFitter(OPTIONS);
  fitter.add(feats(3, 2));
  assert.throws(() => fitter.add(feats(4, 2, LAYERS.map((l) => ({ ...l, channels: l.channels + 1 })))), { code: 'ERR_SHAPE', message: /first had 4\/6/ });
  assert.throws(() => fitter.add(feats(4, 2, LAYERS.map((l) => ({ ...l, size: [l.size[0] * 2, l.size[1] * 2] })))), { code: 'ERR_SHAPE', message: /grid/ });
  fitter.dispose();
  const model = fitPatchcore([feats(5, 2)], OPTIONS);
  assert.throws(() => model.scores(feats(6, 1, LAYERS.map((l) => ({ ...l, channels: 5 })))), { code: 'ERR_SHAPE', message: /channels/ });
  model.dispose();
  assert.throws(() => model.scores(feats(6, 1)), { code: 'ERR_DISPOSED' });
});

test('a model folder from another version or with a mis-shaped bank is refused', () => {
  const model = fitPatchcore([feats(7, 2)], OPTIONS);
  const config = JSON.parse(JSON.stringify(model.config));
  const copy = () => new Map([...model.stateDict()].map(([k, v]) => [k, T.keep(T.clone(v))]));
  assert.throws(() => PatchcoreModel.fromStateDict({ ...config, version: 0 }, copy()), { code: 'ERR_VERSION' });
  assert.throws(() => PatchcoreModel.fromStateDict({ ...config, format: 'spotdiff.padim' }, copy()), { code: 'ERR_VERSION' });
  assert.throws(() => PatchcoreModel.fromStateDict(config, new Map()), { code: 'ERR_BAD_CHECKPOINT', message: /memory_bank/ });
  assert.throws(() => PatchcoreModel.fromStateDict(config, new Map([['memory_bank', T.zeros([3, 8])]])), { code: 'ERR_BAD_CHECKPOINT', message: /expected float32/ });
  model.dispose();
});
