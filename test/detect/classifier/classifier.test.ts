import '../../helpers/one-thread.js';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../../src/tensor/index.js';
import type { Sample } from '../../../src/data/datasets/sample.js';
import { detectorMethod } from '../../../src/detect/registry.js';
import type { DetectorConfig } from '../../../src/detect/method.js';
import type { ClassifierConfig } from '../../../src/detect/classifier/config.js';
import { ClassifierDetector } from '../../../src/detect/classifier/detector.js';
import { readTwoClassCheckpointMeta, TWOCLASS_CHECKPOINT_FILE } from '../../../src/detect/twoclass/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeToyDataset } from '../twoclass/toy.js';
import { bits, fitContext, imageBatch, saved, scoreHost } from '../twoclass/fit-context.js';
import { rejectsWith } from '../../helpers/errors.js';

// The toy task of the engine's tests at 32 px (dark noise; anomalies carry a bright square), resnet18 from seeded random weights.
const SIZE = 32;
const dir = tempDir('spotdiff-classifier-');
let samples: Sample[] = [];
const quick = { protocol: 'few-shot', shots: 4, iterations: 3, lr: 0.01 };

before(async () => {
  samples = await writeToyDataset(join(dir, 'data'), { perClass: 6, size: SIZE });
});

test('classifier: score = softmax P(anomalous), the map is that score everywhere; save → load gives the same scores bit for bit; model.json records the run', async () => {
  const method = await detectorMethod('classifier');
  const live = T.liveTensorCount();
  const d = await method.fit(await fitContext(samples, SIZE, quick));
  const batch = await imageBatch(samples, SIZE);
  const s = scoreHost(d, batch);
  // Reference: the network's logits, softmax on the host in float64.
  const logits = T.tidy(() => T.noGrad(() => (d as ClassifierDetector).network.forward(T.tensor(batch.data, batch.shape)).toFloat32()));
  for (let i = 0; i < samples.length; i++) {
    const [a, b] = [logits[2 * i] as number, logits[2 * i + 1] as number];
    const p = 1 / (1 + Math.exp(a - b));
    assert.ok(Math.abs((s.imageScores[i] as number) - p) < 1e-6, `image ${i}: ${s.imageScores[i]} vs softmax ${p}`);
    const map = s.maps.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE);
    assert.ok(map.every((v) => v === s.imageScores[i]), 'the map is the image score everywhere');
  }
  const cfg = d.config as ClassifierConfig;
  assert.equal(cfg.format, 'spotdiff.classifier');
  assert.deepEqual([cfg.network, cfg.train.protocol, cfg.train.length, cfg.train.lr, cfg.train.loss, cfg.fewShot], ['resnet-classifier', 'few-shot', { unit: 'iterations', iterations: 3 }, 0.01, { kind: 'cross-entropy' }, { shots: 4, run: 0, seed: 0 }]);
  assert.deepEqual([cfg.summary.images, cfg.summary.anomalies, cfg.summary.steps], [8, 4, 3]);
  assert.ok(Number.isFinite(cfg.summary.lastLoss));
  assert.ok([...d.stateDict().keys()].every((k) => k.startsWith('network.')) && d.stateDict().has('network.fc.weight'));

  const { config, tensors } = saved(d);
  d.dispose();
  assert.equal(T.liveTensorCount(), live, 'fit + dispose left tensors alive');
  const loaded = method.load(config as DetectorConfig, tensors, 'cpu', 'test');
  const again = scoreHost(loaded, batch);
  assert.deepEqual(bits(again.imageScores), bits(s.imageScores));
  // Tiled scoring halves: a tile's map is its score; the stitched map's maximum is the image score.
  const tile = T.tidy(() => loaded.tileMaps(T.tensor(batch.data, batch.shape)).toFloat32());
  assert.deepEqual(bits(tile), bits(again.maps));
  const fin = T.tidy(() => {
    const f = loaded.finishStitched(T.tensor(again.maps, [samples.length, SIZE, SIZE]));
    return f.imageScores.toFloat32();
  });
  assert.deepEqual(bits(fin), bits(again.imageScores));
  loaded.dispose();
});

test('classifier: a tampered config is refused on load (ERR_BAD_CHECKPOINT), another format is ERR_VERSION', async () => {
  const method = await detectorMethod('classifier');
  const d = await method.fit(await fitContext(samples, SIZE, { ...quick, iterations: 1 }));
  const { config, tensors } = saved(d);
  d.dispose();
  const tamper = (f: (c: ClassifierConfig) => void): DetectorConfig => {
    const c = JSON.parse(JSON.stringify(config)) as ClassifierConfig;
    f(c);
    return c;
  };
  const cases: [(c: ClassifierConfig) => void, RegExp][] = [
    [(c) => (c.train.lr = -1), /lr must be/],
    [(c) => ((c as { network: string }).network = 'unet'), /names network "unet"/],
    [(c) => (c.fewShot = null), /protocol few-shot with fewShot null/],
    [(c) => (c.summary.steps = 0), /training summary/],
    [(c) => delete (c as Partial<ClassifierConfig>).fewShot, /has no "fewShot" record/],
    [(c) => delete (c as Partial<ClassifierConfig>).input, /has no "input" record/],
    [(c) => (c.summary = null as unknown as ClassifierConfig['summary']), /has no "summary" record/],
    [(c) => (c.train.imageSize = [64, 64]), /trained at \[64,64\]/],
    [(c) => ((c.train as { task: string }).task = 'segmenter'), /trained a "segmenter"|sigmoid-focal|trains with/],
  ];
  for (const [f, pattern] of cases) assert.throws(() => method.load(tamper(f), tensors, 'cpu', 'test'), rejectsWith('ERR_BAD_CHECKPOINT', pattern));
  assert.throws(() => method.load(tamper((c) => ((c as { version: number }).version = 2)), tensors, 'cpu', 'test'), rejectsWith('ERR_VERSION', /classifier model version 2/));
});

test('classifier options: checked with clear errors before training', async () => {
  const method = await detectorMethod('classifier');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ topK: 5 }, /classifier takes .*unknown option topK/],
    [{ protocol: 'few-shot' }, /few-shot protocol needs shots/],
    [{ shots: 2 }, /apply to the few-shot protocol only/],
    [{ protocol: 'few-shot', shots: 7 }, /cannot draw 7 shots per class .* has only 6 normal/],
    [{ protocol: 'few-shot', shots: 2, epochs: 3 }, /few-shot run is measured in iterations/],
    [{ loss: 'bce' }, /loss must be 'cross-entropy' or 'focal'/],
    [{ gamma: 1 }, /gamma and alpha belong to the focal loss/],
    [{ loss: 'focal', alpha: 2 }, /alpha must be a number in \[0, 1\] or null/],
    [{ lr: 0 }, /lr must be a finite number > 0/],
  ];
  for (const [options, pattern] of cases) {
    const ctx = await fitContext(samples, SIZE, options);
    await assert.rejects(method.fit(ctx), rejectsWith('ERR_BAD_INPUT', pattern));
    ctx.backbone.dispose();
  }
  const tiled = { ...(await fitContext(samples, SIZE, quick)), tile: { size: 16, overlap: 4 } };
  await assert.rejects(method.fit(tiled), rejectsWith('ERR_BAD_INPUT', /trains on whole images/));
  tiled.backbone.dispose();
});

test('few-shot: the same seed and run train on the same images, another run on others (the checkpoint records their digest)', async () => {
  const method = await detectorMethod('classifier');
  const digest = async (name: string, run: number, seed: number): Promise<string> => {
    const work = { dir: join(dir, name), resume: false };
    (await method.fit(await fitContext(samples, SIZE, { ...quick, shots: 2, run, iterations: 1 }, { seed, work }))).dispose();
    return (await readTwoClassCheckpointMeta(join(work.dir, TWOCLASS_CHECKPOINT_FILE)))!.run.data.digest;
  };
  const a = await digest('a', 1, 0);
  assert.equal(await digest('b', 1, 0), a);
  assert.notEqual(await digest('c', 2, 0), a);
});
