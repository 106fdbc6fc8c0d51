import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../../src/tensor/index.js';
import type { Sample } from '../../../src/data/datasets/sample.js';
import { DataLoader } from '../../../src/data/loader.js';
import { resolveTwoClassTrainConfig } from '../../../src/detect/twoclass/index.js';
import { planSteps } from '../../../src/detect/twoclass/plan.js';
import { stepBatches, type BatchSourceOptions } from '../../../src/detect/twoclass/batches.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeToyDataset } from './toy.js';

// The toy set (./toy.ts): 24 PNGs of 20 px (12 with a mask), resized to 16 px; 15 iterations of
// batch 4 take 60 images, so every image comes back 2-3 times and a device store fills up.
const dir = tempDir();
let samples: Sample[] = [];
before(async () => {
  samples = await writeToyDataset(join(dir, 'data'), { size: 20 });
});

interface HostStep {
  step: number;
  images: number[];
  labels: number[];
  masks: number[] | null;
}

const plan = () => planSteps(resolveTwoClassTrainConfig({ task: 'segmenter', protocol: 'few-shot', imageSize: [16, 16], iterations: 15, batchSize: 4, lr: 0.01 }), samples.length);

async function steps(start: number, o: Partial<BatchSourceOptions>): Promise<HostStep[]> {
  const out: HostStep[] = [];
  const opts: BatchSourceOptions = { task: 'segmenter', imageSize: [16, 16], batchSize: 4, device: 'cpu', ...o };
  for await (const s of stepBatches(samples, plan(), start, opts)) {
    out.push({ step: s.step, images: [...s.images.toFloat32()], labels: [...s.labels.data()].map(Number), masks: s.masks === null ? null : [...s.masks.toFloat32()] });
  }
  return out;
}

/** The same steps straight from the float loader (normalize null, masks), as the 2-class feed was first written. */
async function reference(start: number, share = { from: 0, to: 4 }): Promise<HostStep[]> {
  const order = plan().indices(start, plan().totalSteps).filter((_, p) => p % 4 >= share.from && p % 4 < share.to);
  const loader = new DataLoader(order.map((i) => samples[i] as Sample), { batchSize: share.to - share.from, preprocess: { resize: [16, 16], normalize: null }, dropLast: true, masks: true });
  const out: HostStep[] = [];
  for await (const b of loader.epoch(0)) out.push({ step: start + b.index, images: [...b.images], labels: [...b.labels], masks: b.masks === null ? null : [...b.masks] });
  return out;
}

test('2-class steps: images, labels and masks equal the float loader’s whatever keeps the images (device store, host cache, none), from any start step', async () => {
  const live = T.liveTensorCount();
  for (const start of [0, 7]) {
    const want = await reference(start);
    assert.equal(want.length, 15 - start);
    assert.ok(want.some((s) => s.masks!.some((v) => v === 1)), 'some masks mark a defect');
    for (const o of [{ cacheOn: 'device' as const }, { cacheOn: 'host' as const }, { cacheBytes: 0 }]) {
      assert.deepEqual(await steps(start, o), want, `start ${start}, ${JSON.stringify(o)}`);
    }
  }
  const share = { from: 1, to: 3 };
  assert.deepEqual(await steps(3, { cacheOn: 'device', share }), await reference(3, share), 'a data-parallel rank’s rows');
  const classifier = await (async () => {
    const out: (T.Tensor | null)[] = [];
    for await (const s of stepBatches(samples, plan(), 0, { task: 'classifier', imageSize: [16, 16], batchSize: 4, device: 'cpu', cacheOn: 'device' })) out.push(s.masks);
    return out;
  })();
  assert.ok(classifier.every((m) => m === null), 'the classifier gets no masks');
  assert.equal(T.liveTensorCount(), live, 'every step’s tensors and the stores freed');
});

test('2-class steps: stopping early frees the stores too', async () => {
  const live = T.liveTensorCount();
  for await (const s of stepBatches(samples, plan(), 0, { task: 'segmenter', imageSize: [16, 16], batchSize: 4, device: 'cpu', cacheOn: 'device' })) if (s.step === 2) break;
  assert.equal(T.liveTensorCount(), live);
});
