import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { encodeSafetensors, hostTensor, readSafetensors, writeSafetensors } from '../../src/tensor/io/index.js';
import { ResNet } from '../../src/models/resnet.js';
import { saveWeights } from '../../src/models/weights.js';
import { createBackbone } from '../../src/models/backbone.js';
import { CHECKPOINT_FILE, trainPretrain, type MethodFactory, type PretrainOptions } from '../../src/pretrain/trainer.js';
import { readCheckpointMeta, type CheckpointWriter } from '../../src/pretrain/checkpoint.js';
import { loadInitWeights, readInitWeights } from '../../src/pretrain/init-weights.js';
import { readStepLog, type StepRecord } from '../../src/pretrain/log.js';
import { scheduledLr } from '../../src/pretrain/schedule.js';
import type { PretrainConfig } from '../../src/pretrain/run-config.js';
import { isAtomicTempName } from '../../src/util/atomic-write.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyImages } from './tiny-images.js';
import { smallHeads, tinyRunOptions } from './tiny-run.js';
import { rejectsWith } from '../helpers/errors.js';

// Tiny runs (./tiny-run.ts): a step takes a fraction of a second.
const dir = tempDir('spotdiff-pretrain-');
let data = '';
const small: MethodFactory = smallHeads;

before(async () => {
  data = await writeTinyImages(join(dir, 'data'));
});

// One intra-op thread: on the shared 2-core machine two spinning threads per step run 5-10x slower.
const threads = T.getNumThreads();
T.setNumThreads(1);
after(() => T.setNumThreads(threads));

const options = (out: string, extra: Partial<PretrainOptions> = {}): PretrainOptions => tinyRunOptions(data, out, extra);

function losses(records: StepRecord[]): Omit<StepRecord, 'imagesPerSecond'>[] {
  return records.map(({ step, epoch, lr, total, base, spd }) => ({ step, epoch, lr, total, base, spd }));
}

function tempLeftovers(out: string): string[] {
  return readdirSync(out).filter(isAtomicTempName);
}

let uninterrupted: StepRecord[] = [];

test('a run stopped mid-epoch and resumed gives the uninterrupted run’s losses bit for bit, the same backbone, one log line per step', async (t) => {
  const live: number[] = [];
  const liveBefore = T.liveTensorCount();
  const started = performance.now();
  const a = await trainPretrain(options(join(dir, 'a')), { createMethod: small, onProgress: (e) => e.type === 'step' && live.push(T.liveTensorCount()) });
  assert.equal(T.liveTensorCount(), liveBefore, 'tensors left alive after the run (a leak)');
  const seconds = (performance.now() - started) / 1000;
  assert.equal(a.completed, true);
  assert.deepEqual([a.epochs, a.steps, a.startEpoch], [2, 4, 0]);
  uninterrupted = await readStepLog(a.log);
  assert.deepEqual(
    uninterrupted.map((r) => [r.step, r.epoch]),
    [[1, 0], [2, 0], [3, 1], [4, 1]],
  );
  assert.equal(readFileSync(a.log, 'utf8').split('\n').filter((l) => l !== '').length, 4);
  for (const r of uninterrupted) {
    assert.ok(Number.isFinite(r.total) && Number.isFinite(r.base) && Number.isFinite(r.spd) && r.imagesPerSecond > 0);
    assert.ok(Math.abs(r.total - (r.base + 0.1 * r.spd)) < 1e-6, 'total = base + η·spd with the default η 0.1');
  }
  // The next step's batch is prepared during a step, except during an epoch's last: compare like with like.
  assert.deepEqual(live.slice(2), live.slice(0, 2), 'live tensors grew from epoch 1 to epoch 2 (a leak)');

  // Stopped after step 3 (the first of epoch 2): the checkpoint holds epoch 1, the log 3 lines.
  const outB = join(dir, 'b');
  const ctl = new AbortController();
  const b1 = await trainPretrain(options(outB), { createMethod: small, signal: ctl.signal, onProgress: (e) => e.type === 'step' && e.record.step === 3 && ctl.abort() });
  assert.deepEqual([b1.completed, b1.epochs, b1.steps, b1.backbone], [false, 1, 3, null]);
  assert.equal(existsSync(join(outB, 'backbone.safetensors')), false);
  assert.equal((await readStepLog(b1.log)).length, 3);
  assert.equal((await readCheckpointMeta(b1.checkpoint))?.step, 2);
  appendFileSync(b1.log, '{"step":4,"epo'); // a crash in the middle of an append

  const b2 = await trainPretrain(options(outB, { resume: true }), { createMethod: small });
  assert.deepEqual([b2.completed, b2.startEpoch, b2.stepsThisCall, b2.steps], [true, 1, 2, 4]);
  const resumed = await readStepLog(b2.log);
  assert.equal(readFileSync(b2.log, 'utf8').split('\n').filter((l) => l !== '').length, 4, 'one line per step, the torn and repeated ones gone');
  assert.deepEqual(losses(resumed), losses(uninterrupted));

  const [wa, wb] = [await readSafetensors(a.backbone!), await readSafetensors(b2.backbone!)];
  assert.deepEqual([...wa.tensors.keys()], [...wb.tensors.keys()]);
  for (const [name, h] of wa.tensors) assert.ok(Buffer.from(h.data).equals(Buffer.from(wb.tensors.get(name)!.data)), `${name} differs`);
  assert.deepEqual(tempLeftovers(a.out), []);
  assert.deepEqual(tempLeftovers(outB), []);
  t.diagnostic(
    `uninterrupted 2-epoch run ${seconds.toFixed(1)} s; losses ${uninterrupted.map((r) => r.total.toFixed(5)).join(', ')}; ` +
      `checkpoint ${(statSync(a.checkpoint).size / 2 ** 20).toFixed(1)} MiB, backbone ${(statSync(a.backbone!).size / 2 ** 20).toFixed(1)} MiB; live tensors ${live.join(', ')}`,
  );
});

test('images kept on the device (one host tensor on the CPU) or not kept at all give the losses of the host cache bit for bit', async () => {
  assert.ok(uninterrupted.length === 4, 'needs the first test’s run');
  const live = T.liveTensorCount();
  const onDevice = await trainPretrain(options(join(dir, 'cache-device'), { cacheOn: 'device' }), { createMethod: small });
  assert.equal(T.liveTensorCount(), live, 'the store is freed with the run');
  assert.deepEqual(onDevice.imageCache, { place: 'device', bytes: 8 * 32 * 32 * 3 });
  assert.deepEqual(losses(await readStepLog(onDevice.log)), losses(uninterrupted));
  const none = await trainPretrain(options(join(dir, 'cache-none'), { cacheMb: 0 }), { createMethod: small });
  assert.deepEqual(none.imageCache, { place: 'host', bytes: 0 });
  assert.deepEqual(losses(await readStepLog(none.log)), losses(uninterrupted));
});

test('a corrupt image fails the run naming the file, whichever batch it falls in, without hanging', async () => {
  const bad = join(dir, 'corrupt-data');
  await writeTinyImages(bad);
  writeFileSync(join(bad, 'beta', 'good', '002.png'), 'not a png');
  const run = trainPretrain(options(join(dir, 'corrupt'), { data: [bad] }), { createMethod: small });
  await assert.rejects(run, rejectsWith('ERR_BAD_IMAGE', /beta\/good\/002\.png/));
});

for (const method of ['moco', 'supervised'] as const) {
  test(`${method}: resumed after epoch 1 gives the uninterrupted run’s losses bit for bit (${method === 'moco' ? 'key encoder and queue restored' : 'object labels'})`, async () => {
    const a = await trainPretrain(options(join(dir, `${method}-a`), { method }), { createMethod: small });
    const ctl = new AbortController();
    const outB = join(dir, `${method}-b`);
    await trainPretrain(options(outB, { method }), { createMethod: small, signal: ctl.signal, onProgress: (e) => e.type === 'epoch' && ctl.abort() });
    const b = await trainPretrain(options(outB, { method, resume: true }), { createMethod: small });
    assert.equal(b.stepsThisCall, 2);
    const [la, lb] = [await readStepLog(a.log), await readStepLog(b.log)];
    assert.equal(la.length, 4);
    assert.deepEqual(losses(lb), losses(la));
    if (method === 'supervised') {
      assert.deepEqual(a.config.classes, ['alpha', 'beta']);
      assert.deepEqual((await readSafetensors(a.backbone!)).tensors.get('fc.weight')?.shape, [2, 512], 'the exported fc is the 2-class classifier');
    }
  });
}

test('an interrupted checkpoint write keeps the previous checkpoint; the resumed run removes the leftover and continues exactly', async () => {
  const out = join(dir, 'c');
  let writes = 0;
  const crashing: CheckpointWriter = async (path, tensors, metadata) => {
    if (++writes === 1) return writeSafetensors(path, tensors, metadata);
    // The second epoch's write dies half-way, as a killed process would leave it: part of a temporary file, no rename.
    const partial = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-0badf00d`);
    writeFileSync(partial, encodeSafetensors(new Map([['x', hostTensor('float32', [4], new Uint8Array(16))]]), metadata).subarray(0, 100));
    for await (const piece of [...tensors.values()][0]!.chunks()) appendFileSync(partial, piece);
    throw new Error('simulated crash while writing the checkpoint');
  };
  await assert.rejects(trainPretrain(options(out), { createMethod: small, writeCheckpoint: crashing }), /simulated crash/);
  const meta = await readCheckpointMeta(join(out, CHECKPOINT_FILE));
  assert.deepEqual([meta?.epoch, meta?.step], [1, 2], 'the checkpoint of epoch 1 is intact');
  assert.equal(tempLeftovers(out).length, 1);

  const r = await trainPretrain(options(out, { resume: true }), { createMethod: small });
  assert.equal(r.completed, true);
  assert.deepEqual(tempLeftovers(out), []);
  assert.deepEqual(losses(await readStepLog(r.log)), losses(uninterrupted));
});

test('the exported backbone loads through fit’s --weights path: torchvision names, fc included, trained weights', async () => {
  const file = join(dir, 'a', 'backbone.safetensors');
  const saved = await readSafetensors(file);
  assert.equal(saved.metadata['spotdiff.arch'], 'resnet18');
  assert.equal((JSON.parse(saved.metadata['spotdiff.pretrained']!) as { method: string }).method, 'simsiam');
  assert.ok(saved.tensors.has('fc.weight') && saved.tensors.has('layer4.1.bn2.running_var'));
  const { model, record } = await createBackbone('resnet18', file, 0);
  try {
    assert.equal(record.pretrained, true);
    assert.deepEqual([...model.stateDict().keys()].sort(), [...saved.tensors.keys()].sort());
    T.manualSeed(3);
    const init = new ResNet('resnet18');
    const trained = model.conv1.weight.toFloat32();
    const untrained = init.conv1.weight.toFloat32();
    assert.ok(trained.some((v, i) => v !== untrained[i]), 'pre-training changed the weights');
    init.dispose();
  } finally {
    model.dispose();
  }
});

test('--init takes the feature layers of torchvision weights and keeps the backbone’s fc; weights of another backbone are refused before training', async () => {
  T.manualSeed(11);
  const source = new ResNet('resnet18', { numClasses: 10 });
  const initPath = join(dir, 'init-resnet18.safetensors');
  await saveWeights(source, initPath);
  const init = await readInitWeights(initPath, 'resnet18');
  assert.equal(init.features.has('fc.weight'), false);
  assert.match(init.sha256, /^[0-9a-f]{64}$/);
  T.manualSeed(12);
  const target = new ResNet('resnet18');
  const fcBefore = target.fc.weight.toFloat32();
  loadInitWeights(target, init);
  const conv = (m: ResNet): Float32Array => m.stateDict().get('layer3.1.conv1.weight')!.toFloat32();
  assert.deepEqual(conv(target), conv(source));
  assert.deepEqual(target.fc.weight.toFloat32(), fcBefore);
  assert.deepEqual(target.fc.weight.shape, [1000, 512]);
  source.dispose();
  target.dispose();

  // Names and shapes of a torchvision resnet50 (what arch detection looks at), tiny values.
  const tiny = (shape: number[]) => hostTensor('float32', shape, new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)));
  const fake = new Map([['conv1.weight', tiny([64, 3, 1, 1])], ['layer1.0.conv1.weight', tiny([64, 1, 1, 1])], ['layer1.0.conv3.weight', tiny([256, 1, 1, 1])]]);
  for (let i = 0; i < 6; i++) fake.set(`layer3.${i}.conv1.weight`, tiny([1, 1, 1, 1]));
  const fakePath = join(dir, 'resnet50-like.safetensors');
  writeFileSync(fakePath, encodeSafetensors(fake));
  const out = join(dir, 'wrong-init');
  await assert.rejects(trainPretrain(options(out, { init: fakePath }), { createMethod: small }), rejectsWith('ERR_BAD_CHECKPOINT', /holds resnet50 weights, but --backbone is resnet18/));
  assert.equal(existsSync(join(out, CHECKPOINT_FILE)), false);
});

test('resume refuses a checkpoint of another configuration, naming the differences; --init need not be given again', async () => {
  const out = join(dir, 'd');
  const initPath = join(dir, 'init-resnet18.safetensors');
  const ctl = new AbortController();
  const first = await trainPretrain(options(out, { init: initPath }), { createMethod: small, signal: ctl.signal, onProgress: (e) => e.type === 'epoch' && ctl.abort() });
  assert.deepEqual([first.completed, first.epochs], [false, 1]);
  await assert.rejects(trainPretrain(options(out, { resume: true, seed: 4 }), { createMethod: small }), rejectsWith('ERR_BAD_CHECKPOINT', /seed: 3 in the checkpoint, 4 now/));
  await assert.rejects(trainPretrain(options(out, { resume: true, batchSize: 2 }), { createMethod: small }), rejectsWith('ERR_BAD_CHECKPOINT', /batchSize: 4 in the checkpoint, 2 now.*stepsPerEpoch/));
  await assert.rejects(trainPretrain(options(out, { resume: true, spd: { eta: 0 } }), { createMethod: small }), rejectsWith('ERR_BAD_CHECKPOINT', /spd:/));
  await assert.rejects(
    trainPretrain(options(out, { resume: true, init: join(dir, 'a', 'backbone.safetensors') }), { createMethod: small }),
    rejectsWith('ERR_BAD_CHECKPOINT', /init: \{"file":"init-resnet18.safetensors"/),
  );
  const done = await trainPretrain(options(out, { resume: true }), { createMethod: small });
  assert.equal(done.completed, true);
  assert.equal(done.config.init?.file, 'init-resnet18.safetensors');
});

test('errors: empty data folder, batch larger than the data, one class for supervised, resume without checkpoint, out folder of another run, truncated checkpoint', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  await assert.rejects(trainPretrain(options(join(dir, 'e1'), { data: [empty] })), rejectsWith('ERR_BAD_INPUT', /data folder .*empty is empty/));
  await assert.rejects(trainPretrain(options(join(dir, 'e2'), { batchSize: 16 })), rejectsWith('ERR_BAD_INPUT', /batch size 16 is larger than the 8 training images/));
  const one = await writeTinyImages(join(dir, 'one-object'), { objects: ['solo'], perObject: 4 });
  await assert.rejects(trainPretrain(options(join(dir, 'e3'), { method: 'supervised', data: [one] })), rejectsWith('ERR_BAD_INPUT', /at least 2 objects/));
  await assert.rejects(trainPretrain(options(join(dir, 'e4'), { resume: true })), rejectsWith('ERR_NOT_FOUND', /nothing to resume: .* has no checkpoint.safetensors/));
  await assert.rejects(trainPretrain(options(join(dir, 'a'))), rejectsWith('ERR_USAGE', /already holds a pre-training run .*--resume/));
  await assert.rejects(trainPretrain(options(join(dir, 'e5'), { batchSize: 1 })), rejectsWith('ERR_USAGE', /batch size must be an integer ≥ 2/));

  const broken = join(dir, 'e6');
  mkdirSync(broken);
  copyFileSync(join(dir, 'a', CHECKPOINT_FILE), join(broken, CHECKPOINT_FILE));
  truncateSync(join(broken, CHECKPOINT_FILE), statSync(join(broken, CHECKPOINT_FILE)).size - 1000);
  await assert.rejects(trainPretrain(options(broken, { resume: true }), { createMethod: small }), rejectsWith('ERR_BAD_CHECKPOINT', /e6.checkpoint.safetensors is not a usable .*truncated/));
});

test('learning rate: cosine over all steps with optional linear warm-up; supervised steps ×0.1 every 30 epochs', () => {
  const config = { lr: 0.2, epochs: 10, stepsPerEpoch: 5, warmupEpochs: 0, schedule: 'cosine' } as PretrainConfig;
  assert.equal(scheduledLr(config, 0), 0.2);
  assert.ok(Math.abs(scheduledLr(config, 25) - 0.1) < 1e-15);
  assert.ok(scheduledLr(config, 49) > 0 && scheduledLr(config, 49) < 0.001);
  const warm = { ...config, warmupEpochs: 2 };
  assert.equal(scheduledLr(warm, 0), 0);
  assert.ok(Math.abs(scheduledLr(warm, 5) - 0.1) < 1e-15);
  assert.equal(scheduledLr(warm, 10), 0.2);
  const step = { ...config, epochs: 90, schedule: 'step' } as PretrainConfig;
  assert.equal(scheduledLr(step, 29 * 5 + 4), 0.2);
  assert.ok(Math.abs(scheduledLr(step, 30 * 5) - 0.02) < 1e-15);
  assert.ok(Math.abs(uninterrupted[0]!.lr - (0.05 * 4) / 256) < 1e-15, 'run lr = 0.05·batch/256 at step 1');
});

test('the checkpoint keeps the loss scaler (null without fp16); a malformed scaler record is refused', async () => {
  const out = join(dir, 'scaler');
  await trainPretrain(options(out), { createMethod: small });
  const path = join(out, CHECKPOINT_FILE);
  assert.equal((await readCheckpointMeta(path))?.gradScaler, null);
  const content = await readSafetensors(path);
  const record = JSON.parse(content.metadata['spotdiff.pretrain']!) as Record<string, unknown>;
  const rewrite = async (gradScaler: unknown): Promise<string> => {
    const p = join(out, `scaler-${JSON.stringify(gradScaler).length}.safetensors`);
    await writeSafetensors(p, content.tensors, { ...content.metadata, 'spotdiff.pretrain': JSON.stringify({ ...record, gradScaler }) });
    return p;
  };
  assert.deepEqual((await readCheckpointMeta(await rewrite({ scale: 1024, growthTracker: 17 })))?.gradScaler, { scale: 1024, growthTracker: 17 });
  await assert.rejects(readCheckpointMeta(await rewrite({ scale: -1, growthTracker: 0 })), rejectsWith('ERR_BAD_CHECKPOINT', /loss-scaler record/));
});
