import '../../helpers/one-thread.js';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../../src/tensor/index.js';
import type { Sample } from '../../../src/data/datasets/sample.js';
import { readJsonlStepLog } from '../../../src/util/step-log.js';
import {
  fewShotSamples,
  readTwoClassCheckpointMeta,
  resolveTwoClassTrainConfig,
  TWOCLASS_CHECKPOINT_FILE,
  trainTwoClass,
  type TwoClassNetworkFactory,
  type TwoClassStepRecord,
  type TwoClassTrainOptions,
  type TwoClassTrainRequest,
} from '../../../src/detect/twoclass/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { tinyClassifier, tinySegmenter, writeToyDataset } from './toy.js';
import { rejectsWith } from '../../helpers/errors.js';

// The toy task (./toy.ts): 16×16 dark noise, anomalies carry a bright square. One thread
// (helpers/one-thread.ts) for the bit-for-bit resume checks.
const dir = tempDir('spotdiff-twoclass-');
let samples: Sample[] = [];

before(async () => {
  samples = await writeToyDataset(join(dir, 'data'));
});

function request(task: 'classifier' | 'segmenter', work: TwoClassTrainRequest['work'], extra: Partial<TwoClassTrainOptions> = {}, data: readonly Sample[] = samples): TwoClassTrainRequest {
  const createNetwork: TwoClassNetworkFactory = task === 'classifier' ? tinyClassifier : tinySegmenter;
  return {
    config: resolveTwoClassTrainConfig({ task, protocol: 'few-shot', imageSize: [16, 16], iterations: 12, batchSize: 4, checkpointEvery: 5, lr: 0.01, ...extra }),
    samples: data,
    createNetwork,
    networkIdentity: { arch: `tiny-${task}` },
    device: 'cpu',
    work,
    quiet: true,
  };
}

/** Every parameter and buffer as raw float bits (bit-for-bit comparison). */
function weights(net: { stateDict(): Map<string, T.Tensor> }): Map<string, number[]> {
  return new Map(
    [...net.stateDict()].map(([k, t]) => {
      const f = t.toFloat32();
      return [k, Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length))];
    }),
  );
}

const losses = (records: TwoClassStepRecord[]): [number, number, number][] => records.map((r) => [r.step, r.epoch, r.loss]);

function meanLoss(records: TwoClassStepRecord[]): number {
  return records.reduce((a, r) => a + r.loss, 0) / records.length;
}

test('the loss goes down on the toy task, for classifier targets (cross-entropy) and segmenter masks (sigmoid focal)', async () => {
  for (const [task, lr] of [['classifier', 0.05], ['segmenter', 0.05]] as const) {
    const out = join(dir, `learn-${task}`);
    const r = await trainTwoClass(request(task, { dir: out, resume: false }, { iterations: 80, checkpointEvery: 100, lr }));
    try {
      assert.equal(r.completed, true);
      const log = await readJsonlStepLog<TwoClassStepRecord>(r.log as string);
      assert.equal(log.length, 80);
      const [first, last] = [meanLoss(log.slice(0, 10)), meanLoss(log.slice(-10))];
      assert.ok(last < 0.6 * first, `${task}: mean loss of the last 10 steps ${last} is not below 0.6 × the first 10's ${first}`);
    } finally {
      r.network.dispose();
    }
  }
});

async function interruptedThenResumed(task: 'classifier' | 'segmenter', extra: Partial<TwoClassTrainOptions>, stopAfter: number): Promise<void> {
  const a = await trainTwoClass(request(task, { dir: join(dir, `${task}-a`), resume: false }, extra));
  const wa = weights(a.network);
  const logA = await readJsonlStepLog<TwoClassStepRecord>(a.log as string);
  a.network.dispose();
  const outB = join(dir, `${task}-b`);
  const live = T.liveTensorCount();
  await assert.rejects(
    trainTwoClass(request(task, { dir: outB, resume: false }, extra), {
      onStep: (e) => {
        if (e.record.step === stopAfter) throw new Error('interrupted');
      },
    }),
    /interrupted/,
  );
  assert.equal(T.liveTensorCount(), live, 'an interrupted run left tensors alive');
  const b = await trainTwoClass(request(task, { dir: outB, resume: true }, extra));
  try {
    assert.ok(b.startStep > 0 && b.startStep < stopAfter, `resumed at step ${b.startStep}`);
    assert.equal(b.steps, a.steps);
    assert.deepEqual(weights(b.network), wa, 'resumed weights differ from the uninterrupted run');
    const logB = await readJsonlStepLog<TwoClassStepRecord>(b.log as string);
    assert.deepEqual(losses(logB), losses(logA), 'the resumed log is not the uninterrupted one, step for step');
    assert.equal(readFileSync(b.log as string, 'utf8').trim().split('\n').length, a.steps);
  } finally {
    b.network.dispose();
  }
}

test('few-shot (iterations, segmenter): interrupted after step 8 and resumed from step 5 gives the uninterrupted weights bit for bit', async () => {
  await interruptedThenResumed('segmenter', {}, 8);
});

test('high-shot (epochs, classifier): interrupted mid-epoch 3 and resumed from epoch 2 gives the uninterrupted weights bit for bit', async () => {
  // 24 images, batch 8: 3 steps per epoch; 4 epochs; a checkpoint per epoch (steps 3, 6, 9, 12).
  await interruptedThenResumed('classifier', { protocol: 'high-shot', iterations: undefined, epochs: 4, batchSize: 8, checkpointEvery: undefined }, 8);
});

test('a stop signal ends the run after the current step with a checkpoint of it; the resume finishes with the uninterrupted weights', async () => {
  const extra = { iterations: 6 };
  const live = T.liveTensorCount();
  const a = await trainTwoClass(request('segmenter', null, extra));
  const wa = weights(a.network);
  a.network.dispose();
  assert.equal(T.liveTensorCount(), live, 'a finished run left tensors alive besides its network');
  const out = join(dir, 'stopped');
  const ctl = new AbortController();
  const stopped = await trainTwoClass(request('segmenter', { dir: out, resume: false }, extra), {
    signal: ctl.signal,
    onStep: (e) => {
      if (e.record.step === 3) ctl.abort();
      assert.equal(e.checkpoint !== null, e.record.step === 4, `checkpoint at step ${e.record.step}`);
    },
  });
  stopped.network.dispose();
  assert.deepEqual([stopped.completed, stopped.steps], [false, 4]);
  assert.equal((await readTwoClassCheckpointMeta(join(out, TWOCLASS_CHECKPOINT_FILE)))?.step, 4);
  const b = await trainTwoClass(request('segmenter', { dir: out, resume: true }, extra));
  assert.deepEqual([b.completed, b.startStep, b.stepsThisCall], [true, 4, 2]);
  assert.deepEqual(weights(b.network), wa);
  b.network.dispose();
});

test('a resume from a checkpoint of another configuration, data or network is refused, naming the difference', async () => {
  const out = join(dir, 'mismatch');
  const r = await trainTwoClass(request('segmenter', { dir: out, resume: false }, { iterations: 5 }));
  r.network.dispose();
  await assert.rejects(trainTwoClass(request('segmenter', { dir: out, resume: true }, { iterations: 5, lr: 0.02 })), rejectsWith('ERR_BAD_CHECKPOINT', /another training run.*config\.lr: 0\.01 in the checkpoint, 0\.02 now/));
  await assert.rejects(
    trainTwoClass(request('segmenter', { dir: out, resume: true }, { iterations: 5 }, samples.slice(1))),
    rejectsWith('ERR_BAD_CHECKPOINT', /data\.images: 24 in the checkpoint, 23 now/),
  );
  await assert.rejects(trainTwoClass({ ...request('segmenter', { dir: out, resume: true }, { iterations: 5 }), networkIdentity: { arch: 'other' } }), rejectsWith('ERR_BAD_CHECKPOINT', /network\.arch/));
  await assert.rejects(trainTwoClass(request('segmenter', { dir: out, resume: false }, { iterations: 5 })), rejectsWith('ERR_USAGE', /already holds a 2-class training run/));
  // The finished run resumes to its own network at once.
  const again = await trainTwoClass(request('segmenter', { dir: out, resume: true }, { iterations: 5 }));
  assert.deepEqual([again.startStep, again.stepsThisCall, again.completed], [5, 0, true]);
  again.network.dispose();
});

test('errors: k-shot larger than the train split, an anomaly without a mask for the segmenter, one class only, a batch larger than the images', async () => {
  assert.throws(() => fewShotSamples(samples, { k: 13, run: 0 }), rejectsWith('ERR_BAD_INPUT', /k-shot with k=13: object toy has only 12 normal train image/));
  const five = fewShotSamples(samples, { k: 5, run: 2 });
  assert.deepEqual([five.filter((s) => s.label === 'normal').length, five.filter((s) => s.label === 'anomaly').length], [5, 5]);
  const unmasked = samples.map((s, i) => (i === samples.length - 1 ? { ...s, mask: null } : s));
  await assert.rejects(trainTwoClass(request('segmenter', null, {}, unmasked)), rejectsWith('ERR_BAD_INPUT', /1 anomalous training image\(s\) have none .*anomaly-011\.png/));
  const classifier = await trainTwoClass(request('classifier', null, { iterations: 2 }, unmasked));
  classifier.network.dispose();
  await assert.rejects(trainTwoClass(request('classifier', null, {}, samples.filter((s) => s.label === 'normal'))), rejectsWith('ERR_BAD_INPUT', /needs normal and anomalous/));
  await assert.rejects(trainTwoClass(request('classifier', null, { batchSize: 30 })), rejectsWith('ERR_BAD_INPUT', /batch size 30 is larger than the 24 training images/));
});
