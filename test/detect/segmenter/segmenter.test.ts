import '../../helpers/one-thread.js';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../../src/tensor/index.js';
import type { Sample } from '../../../src/data/datasets/sample.js';
import { detectorMethod } from '../../../src/detect/registry.js';
import type { DetectorConfig } from '../../../src/detect/method.js';
import type { SegmenterConfig } from '../../../src/detect/segmenter/config.js';
import { SegmenterDetector } from '../../../src/detect/segmenter/detector.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeToyDataset } from '../twoclass/toy.js';
import { bits, fitContext, imageBatch, saved, scoreHost } from '../twoclass/fit-context.js';
import { rejectsWith } from '../../helpers/errors.js';

// The engine's toy task at 32 px (anomalies carry a bright square, their masks mark it), resnet18 U-Net from seeded random weights.
const SIZE = 32;
const PLANE = SIZE * SIZE;
const dir = tempDir('spotdiff-segmenter-');
let samples: Sample[] = [];
const quick = { protocol: 'few-shot', shots: 4, iterations: 3, lr: 0.01 };

before(async () => {
  samples = await writeToyDataset(join(dir, 'data'), { perClass: 6, size: SIZE });
});

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

test('segmenter: maps = sigmoid(U-Net logits) at the input size, image score = their max; save → load gives the same scores bit for bit', async () => {
  const method = await detectorMethod('segmenter');
  const live = T.liveTensorCount();
  const d = await method.fit(await fitContext(samples, SIZE, quick));
  const batch = await imageBatch(samples, SIZE);
  const s = scoreHost(d, batch);
  const logits = T.tidy(() => T.noGrad(() => (d as SegmenterDetector).network.forward(T.tensor(batch.data, batch.shape)).toFloat32()));
  assert.equal(s.maps.length, samples.length * PLANE);
  let worst = 0;
  for (let i = 0; i < s.maps.length; i++) worst = Math.max(worst, Math.abs((s.maps[i] as number) - sigmoid(logits[i] as number)));
  assert.ok(worst < 1e-6, `maps differ from sigmoid(logits) by ${worst}`);
  for (let i = 0; i < samples.length; i++) {
    const max = s.maps.subarray(i * PLANE, (i + 1) * PLANE).reduce((a, v) => Math.max(a, v), -Infinity);
    assert.equal(s.imageScores[i], max);
  }
  const cfg = d.config as SegmenterConfig;
  assert.deepEqual([cfg.format, cfg.network, cfg.imageScore, cfg.train.loss], ['spotdiff.segmenter', 'unet', { rule: 'max' }, { kind: 'sigmoid-focal', alpha: 0.25, gamma: 2 }]);
  assert.ok(d.stateDict().has('network.encoder.conv1.weight') && d.stateDict().has('network.segmentation_head.0.weight'));

  const { config, tensors } = saved(d);
  d.dispose();
  assert.equal(T.liveTensorCount(), live, 'fit + dispose left tensors alive');
  const loaded = method.load(config as DetectorConfig, tensors, 'cpu', 'test');
  const again = scoreHost(loaded, batch);
  assert.deepEqual(bits(again.maps), bits(s.maps));
  assert.deepEqual(bits(again.imageScores), bits(s.imageScores));
  // Tiled halves: a tile's map is its sigmoid map; finishing a stitched map changes nothing but adds the image score.
  const tile = T.tidy(() => loaded.tileMaps(T.tensor(batch.data, batch.shape)).toFloat32());
  assert.deepEqual(bits(tile), bits(again.maps));
  const fin = T.tidy(() => {
    const f = loaded.finishStitched(T.tensor(again.maps, [samples.length, SIZE, SIZE]));
    return { scores: f.imageScores.toFloat32(), maps: f.maps.toFloat32() };
  });
  assert.deepEqual(bits(fin.maps), bits(again.maps));
  assert.deepEqual(bits(fin.scores), bits(again.imageScores));
  // Another output size: the maps bilinearly resized (align_corners=False), here to twice the size.
  const big = T.tidy(() => loaded.score(T.tensor(batch.data, batch.shape), { imageSize: [2 * SIZE, 2 * SIZE] }).maps.toFloat32());
  assert.equal(big.length, samples.length * 4 * PLANE);
  // With align_corners=False at scale 2, output pixel (2y+1, 2x+1) sits at input (y+0.25, x+0.25).
  const [y, x] = [5, 9];
  const at = (r: number, c: number): number => again.maps[r * SIZE + c] as number;
  const want = 0.5625 * at(y, x) + 0.1875 * at(y, x + 1) + 0.1875 * at(y + 1, x) + 0.0625 * at(y + 1, x + 1);
  assert.ok(Math.abs((big[(2 * y + 1) * 2 * SIZE + 2 * x + 1] as number) - want) < 1e-6);
  loaded.dispose();
});

test('segmenter: imageScore top-k-mean averages the topK highest pixels (all of them when the map has fewer); tampered config refused', async () => {
  const method = await detectorMethod('segmenter');
  const d = await method.fit(await fitContext(samples, SIZE, { ...quick, iterations: 1, imageScore: 'top-k-mean', topK: 10 }));
  const batch = await imageBatch(samples, SIZE);
  const s = scoreHost(d, batch);
  for (let i = 0; i < samples.length; i++) {
    const top = [...s.maps.subarray(i * PLANE, (i + 1) * PLANE)].sort((a, b) => b - a).slice(0, 10);
    const mean = top.reduce((a, v) => a + v, 0) / 10;
    assert.ok(Math.abs((s.imageScores[i] as number) - mean) < 1e-6, `image ${i}: ${s.imageScores[i]} vs ${mean}`);
  }
  const { config, tensors } = saved(d);
  d.dispose();
  assert.deepEqual((config as SegmenterConfig).imageScore, { rule: 'top-k-mean', topK: 10 });
  const all = method.load({ ...(config as SegmenterConfig), imageScore: { rule: 'top-k-mean', topK: 10 * PLANE } } as DetectorConfig, tensors, 'cpu', 'test');
  const whole = scoreHost(all, batch);
  all.dispose();
  const mean0 = s.maps.subarray(0, PLANE).reduce((a, v) => a + v, 0) / PLANE;
  assert.ok(Math.abs((whole.imageScores[0] as number) - mean0) < 1e-6);
  const tampered: [Partial<SegmenterConfig>, RegExp][] = [
    [{ imageScore: { rule: 'top-k-mean', topK: 0 } }, /invalid imageScore/],
    [{ network: 'resnet-classifier' as 'unet' }, /names network "resnet-classifier"/],
    [{ summary: { images: 8, anomalies: 8, steps: 1, lastLoss: null } }, /training summary/],
  ];
  for (const [patch, pattern] of tampered) assert.throws(() => method.load({ ...(config as SegmenterConfig), ...patch } as DetectorConfig, tensors, 'cpu', 'test'), rejectsWith('ERR_BAD_CHECKPOINT', pattern));
  const extra = new Map(tensors);
  extra.set('backbone.conv1.weight', tensors.get('network.encoder.conv1.weight')!);
  assert.throws(() => method.load(config as DetectorConfig, extra, 'cpu', 'test'), rejectsWith('ERR_BAD_CHECKPOINT', /"backbone.conv1.weight" is not a 2-class network's/));
});

test('segmenter options: checked with clear errors; an anomalous image without a mask is refused', async () => {
  const method = await detectorMethod('segmenter');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ coresetRatio: 0.1 }, /segmenter takes .*unknown option coresetRatio/],
    [{ loss: 'cross-entropy' }, /loss must be 'focal'/],
    [{ gamma: -1 }, /gamma must be a finite number ≥ 0/],
    [{ imageScore: 'mean' }, /imageScore must be 'max' or 'top-k-mean'/],
    [{ topK: 5 }, /topK applies to imageScore 'top-k-mean'/],
    [{ imageScore: 'top-k-mean', topK: 1.5 }, /topK must be a whole number of pixels/],
    [{ protocol: 'few-shot', shots: 2, run: -1 }, /run must be an integer ≥ 0/],
    [{ protocol: 'low-shot' }, /protocol must be 'high-shot' or 'few-shot'/],
  ];
  for (const [options, pattern] of cases) {
    const ctx = await fitContext(samples, SIZE, options);
    await assert.rejects(method.fit(ctx), rejectsWith('ERR_BAD_INPUT', pattern));
    ctx.backbone.dispose();
  }
  const unmasked = samples.map((s) => ({ ...s, mask: null }));
  const ctx = await fitContext(unmasked, SIZE, quick);
  await assert.rejects(method.fit(ctx), rejectsWith('ERR_BAD_INPUT', /learns from defect masks/));
  ctx.backbone.dispose();
});
