import '../../helpers/one-thread.js';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { distributedBackends } from '../../../src/distributed/index.js';
import { TWOCLASS_CHECKPOINT_FILE, readTwoClassCheckpointMeta } from '../../../src/detect/twoclass/index.js';
import { checkTwoClassDataParallel } from '../../../src/detect/twoclass/data-parallel.js';
import { readJsonlStepLog } from '../../../src/util/step-log.js';
import type { TwoClassStepRecord } from '../../../src/detect/twoclass/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { runRanks } from '../../distributed/ranks.js';
import { runCli } from '../../cli/run-cli.js';
import { writeToyDataset } from './toy.js';
import { DP_STEPS, runTwoClassCase } from './dp-case.js';

const skip = distributedBackends().includes('gloo') ? false : 'this build of the addon has no Gloo backend';
const dir = tempDir('spotdiff-twoclass-dp-');
let samplesFile = '';

before(async () => {
  samplesFile = join(dir, 'samples.json');
  writeFileSync(samplesFile, JSON.stringify(await writeToyDataset(join(dir, 'data'))));
});

test('2-class training on 2 ranks equals one process on the global batch (augmented, 5 steps): losses and weights within 1e-5; rank 0 alone writes', { skip }, async () => {
  const one = await runTwoClassCase(samplesFile, join(dir, 'one'), null);
  assert.equal(one.steps, DP_STEPS);
  const work = join(dir, 'two');
  const ranks = await runRanks('twoclass', 2, { env: { SAMPLES: samplesFile, OUT: work } });
  for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
  const [logOne, logTwo] = [await readJsonlStepLog<TwoClassStepRecord>(join(dir, 'one', 'log.jsonl')), await readJsonlStepLog<TwoClassStepRecord>(join(work, 'log.jsonl'))];
  assert.equal(logTwo.length, DP_STEPS);
  logOne.forEach((a, i) => assert.ok(Math.abs(a.loss - logTwo[i]!.loss) <= 1e-5, `step ${a.step}: loss ${a.loss} vs ${logTwo[i]!.loss}`));
  assert.deepEqual(readdirSync(work).sort(), ['log.jsonl', TWOCLASS_CHECKPOINT_FILE].sort());
  for (const r of ranks) {
    const run = r.result as typeof one;
    assert.equal(run.steps, DP_STEPS);
    for (const [name, a] of Object.entries(one.weights)) {
      const b = run.weights[name]!;
      assert.equal(b.length, a.length, name);
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-5, `rank ${r.rank} ${name}[${i}]: ${v} vs ${b[i]}`));
    }
  }
  // The run must move the weights for the comparison to mean anything.
  assert.ok(Math.abs(logOne[0]!.loss - logOne.at(-1)!.loss) > 1e-3, `the loss barely changed: ${logOne.map((r) => r.loss)}`);
});

// A network with BatchNorm: with SyncBatchNorm (fit --sync-bn on) the 2 ranks' steps are one
// process's on the global batch; without it (the default) each rank's BN sees its 2 images.
test('2-class training with BatchNorm on 2 ranks: with SyncBatchNorm (fit --sync-bn on) equals one process (weights 1e-5); without it (the default) does not', { skip }, async () => {
  const one = await runTwoClassCase(samplesFile, join(dir, 'bn-one'), null, { bn: true });
  const weightsOf = async (out: string, syncBn: 'on' | 'off'): Promise<Record<string, number[]>> => {
    const ranks = await runRanks('twoclass', 2, { env: { SAMPLES: samplesFile, OUT: out, BN: '1', SYNC_BN: syncBn } });
    for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
    return (ranks[0]!.result as typeof one).weights;
  };
  const largest = (w: Record<string, number[]>): number => Math.max(...Object.entries(one.weights).flatMap(([name, a]) => a.map((v, i) => Math.abs(v - w[name]![i]!))));
  const synced = largest(await weightsOf(join(dir, 'bn-two'), 'on'));
  const off = largest(await weightsOf(join(dir, 'bn-two-off'), 'off'));
  assert.ok(synced <= 1e-5, `with SyncBatchNorm the weights differ by ${synced}`);
  assert.ok(off > 1e-3, `without SyncBatchNorm the weights differ by only ${off}`);
});

test('2 ranks stop together when one is asked to (a checkpoint of that step) and --resume on both ends with the uninterrupted weights', { skip }, async () => {
  const one = await runTwoClassCase(samplesFile, join(dir, 'one-again'), null);
  const work = join(dir, 'stopped');
  // Rank 1 alone is asked to stop after step 2: both stop after step 3, rank 0 checkpoints it.
  const first = await runRanks('twoclass', 2, { env: { SAMPLES: samplesFile, OUT: work, STOP_RANK: '1', STOP_AFTER: '2' } });
  for (const r of first) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
  for (const r of first) assert.equal((r.result as { steps: number }).steps, 3);
  assert.equal((await readTwoClassCheckpointMeta(join(work, TWOCLASS_CHECKPOINT_FILE)))?.step, 3);
  const resumed = await runRanks('twoclass', 2, { env: { SAMPLES: samplesFile, OUT: work, RESUME: '1' } });
  for (const r of resumed) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
  for (const r of resumed) {
    const run = r.result as typeof one;
    assert.equal(run.steps, DP_STEPS);
    for (const [name, a] of Object.entries(one.weights)) a.forEach((v, i) => assert.ok(Math.abs(v - run.weights[name]![i]!) <= 1e-5, `rank ${r.rank} ${name}[${i}]: ${v} vs ${run.weights[name]![i]}`));
  }
  assert.equal((await readJsonlStepLog<TwoClassStepRecord>(join(work, 'log.jsonl'))).length, DP_STEPS);
});

test('fit --method classifier --nproc 2: one model folder from the first process, which eval reads', { skip }, async () => {
  const raw = join(dir, 'raw');
  assert.equal((await runCli(['synth', '--out', raw, '--objects', 'pills', '--normal', '12', '--anomalous', '12', '--size', '64', '--quiet'])).code, 0);
  const p = await runCli(['prepare', '--split-type', '2cls_highshot', '--data-folder', raw, '--save-folder', join(dir, 'prep')]);
  assert.equal(p.code, 0, p.stderr);
  const data = join(dir, 'prep', '2cls_highshot');
  const model = join(dir, 'cls');
  const args = ['fit', '--method', 'classifier', '--data', data, '--backbone', 'resnet18', '--size', '32', '--epochs', '1', '--lr', '0.01', '--quiet', '--out', model];
  const odd = await runCli([...args, '--nproc', '3']);
  assert.equal(odd.code, 2, odd.stderr);
  assert.match(odd.stderr, /batch size 8 does not split evenly across 3 processes/);
  const f = await runCli([...args, '--nproc', '2', '--json']);
  assert.equal(f.code, 0, f.stderr);
  const printed = JSON.parse(f.stdout) as { out: string; training: { fitImages: number } };
  assert.equal(printed.out, model);
  assert.deepEqual(readdirSync(model).sort(), ['model.json', 'weights.safetensors']);
  assert.equal(existsSync(`${model}.work`), false);
  const manifest = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
  assert.equal(manifest.method, 'classifier');
  assert.deepEqual([manifest.detector.summary.processes, manifest.detector.summary.syncBatchNorm], [2, false], 'model.json records how it was trained');
  const e = await runCli(['eval', '--model', model, '--data', data, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const auroc = JSON.parse(e.stdout).metrics['image.auroc'] as number;
  assert.ok(auroc >= 0 && auroc <= 1, `image.auroc ${auroc}`);
});

test('data-parallel 2-class training: CUDA ranks need NCCL (a build without it says why), other devices and uneven batches are refused', () => {
  const refused = (device: string, batch: number, re: RegExp): void =>
    assert.throws(() => checkTwoClassDataParallel(batch, 2, device), (e: unknown) => e instanceof Error && re.test(e.message));
  if (!distributedBackends().includes('nccl')) refused('cuda:0', 8, /this build has no nccl backend \(it has gloo\): libtorch is not a CUDA build/);
  refused('mps', 8, /runs on cpu or cuda devices, got mps/);
  refused('cpu', 7, /the batch size 7 does not split evenly across 2 processes/);
  assert.doesNotThrow(() => checkTwoClassDataParallel(8, 2, 'cpu'));
  assert.doesNotThrow(() => checkTwoClassDataParallel(7, 1, 'cuda'));
});
