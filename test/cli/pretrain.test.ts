import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyImages } from '../pretrain/tiny-images.js';
import { runCli } from './run-cli.js';

// One intra-op thread in the child processes (the machine's 2 cores are shared).
process.env.SPOTDIFF_THREADS = '1';

test('spotdiff --help lists pretrain; usage errors exit 2 before any work', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^ {2}pretrain {2,}\S/m);
  const usage = await runCli(['pretrain', '--help']);
  assert.equal(usage.code, 0);
  assert.match(usage.stdout, /--method simsiam\|moco\|simclr\|supervised/);
  assert.match(usage.stdout, /--resume/);

  const dir = tempDir();
  const cases: [string[], RegExp][] = [
    [['--method', 'simsiam', '--data', dir, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4'], /--out is required/],
    [['--method', 'byol', '--out', dir], /--method must be one of simsiam, moco, simclr, supervised/],
    [['--method', 'simsiam', '--data', dir, '--epochs', '1', '--batch-size', '4', '--out', join(dir, 'o')], /--backbone is required/],
    [['--method', 'simsiam', '--data', dir, '--backbone', 'vgg16', '--epochs', '1', '--batch-size', '4', '--out', join(dir, 'o')], /unknown backbone "vgg16"/],
    [['--method', 'simsiam', '--spd-negative', 'mixup', '--out', join(dir, 'o')], /--spd-negative must be smoothblend or cutpaste/],
    [['--method', 'supervised', '--spd-objective', 'cosine', '--data', dir, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4', '--out', join(dir, 'o')], /cross-entropy form/],
    [['--method', 'simsiam', '--data', dir, '--backbone', 'resnet18', '--epochs', '0', '--batch-size', '4', '--out', join(dir, 'o')], /--epochs must be an integer >= 1/],
    [['--method', 'simsiam', '--spd=-1', '--out', join(dir, 'o')], /--spd must be a number >= 0 and <= 100, got "-1"/],
    [['--method', 'simsiam', '--data', dir, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '0x40', '--out', join(dir, 'o')], /--batch-size must be an integer >= 2 and <= 4096, got "0x40"/],
    [['--method', 'simsiam', '--data', dir, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4', '--size', '1000000', '--out', join(dir, 'o')], /--size must be an integer >= 32 and <= 4096/],
    [['--method', 'simsiam', '--data', dir, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4', '--lr', '0', '--out', join(dir, 'o')], /--lr must be a number > 0/],
    [['--method', 'simsiam', '--data', dir, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4', '--cache-mb=1.5', '--out', join(dir, 'o')], /--cache-mb must be an integer >= 0 and <= 4294967296, got "1.5"/],
    [['--method', 'simsiam', '--data', dir, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4', '--cache-on', 'gpu', '--out', join(dir, 'o')], /--cache-on must be auto, host, device, got "gpu"/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(['pretrain', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

test('spotdiff pretrain → fit --weights OUT/backbone.safetensors; the out folder of a run is refused without --resume; --resume alone finishes a finished run', async () => {
  const dir = tempDir();
  const data = await writeTinyImages(join(dir, 'data'));
  const out = join(dir, 'run');
  const args = ['pretrain', '--method', 'simsiam', '--spd', '0.1', '--data', data, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4', '--size', '32', '--seed', '5', '--out', out];
  const run = await runCli([...args, '--cache-on', 'device', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { completed: boolean; backbone: string; steps: number; config: { lr: number; spd: { eta: number } }; imageCache: { place: string } };
  assert.equal(result.completed, true);
  assert.equal(result.imageCache.place, 'device', '--cache-on reaches the trainer');
  assert.equal(result.steps, 2);
  assert.equal(result.config.lr, (0.05 * 4) / 256);
  assert.equal(result.config.spd.eta, 0.1);
  assert.equal(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);

  const fit = await runCli(['fit', '--method', 'padim', '--data', join(data, 'alpha'), '--backbone', 'resnet18', '--weights', result.backbone, '--size', '32', '--out', join(dir, 'model'), '--quiet']);
  assert.equal(fit.code, 0, fit.stderr);
  assert.doesNotMatch(fit.stderr, /randomly initialised/);
  const manifest = JSON.parse(readFileSync(join(dir, 'model', 'model.json'), 'utf8')) as { backbone: { weightsFile: string; pretrained: boolean } };
  assert.deepEqual([manifest.backbone.weightsFile, manifest.backbone.pretrained], ['backbone.safetensors', true]);

  const again = await runCli(args);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already holds a pre-training run \(checkpoint\.safetensors\); pass --resume/);

  const resumed = await runCli(['pretrain', '--out', out, '--resume', '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /had already finished its 1 epochs/);

  const otherConfig = await runCli(['pretrain', '--out', out, '--resume', '--seed', '6']);
  assert.equal(otherConfig.code, 1);
  assert.match(otherConfig.stderr, /another configuration \(seed: 5 in the checkpoint, 6 now\)/);

  const noCheckpoint = await runCli(['pretrain', '--out', join(dir, 'nothing'), '--resume']);
  assert.equal(noCheckpoint.code, 1);
  assert.match(noCheckpoint.stderr, /nothing to resume: .*nothing has no checkpoint\.safetensors/);
  assert.equal(existsSync(join(dir, 'nothing')), false);
});

test('Ctrl-C stops a run after the current step (exit 1, says whether there is a checkpoint)', async () => {
  const dir = tempDir();
  const data = await writeTinyImages(join(dir, 'data'));
  const out = join(dir, 'run');
  let sent = false;
  const r = await runCli(['pretrain', '--method', 'simsiam', '--spd', '0', '--data', data, '--backbone', 'resnet18', '--epochs', '3', '--batch-size', '4', '--size', '32', '--out', out], (child) => {
    // The progress bar's first line comes after the first step.
    child.stderr?.on('data', (d: Buffer) => {
      if (!sent && /step\/s/.test(d.toString())) {
        sent = true;
        child.kill('SIGINT');
      }
    });
  });
  assert.equal(sent, true);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /stopping after this step/);
  assert.match(r.stdout, /stopped after \d+ steps/);
  assert.equal(existsSync(join(out, 'backbone.safetensors')), false);
});

test('pretrain --precision and --channels-last: bad values are usage errors; bf16 + channels_last runs on CPU', async () => {
  const dir = tempDir();
  const usage = await runCli(['pretrain', '--help']);
  assert.match(usage.stdout, /--precision fp32\|bf16\|fp16/);
  assert.match(usage.stdout, /--channels-last/);
  const base = ['pretrain', '--method', 'simsiam', '--data', dir, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4', '--out', join(dir, 'o')];
  const fp64 = await runCli([...base, '--precision', 'fp64']);
  assert.equal(fp64.code, 2, fp64.stderr);
  assert.match(fp64.stderr, /--precision must be one of fp32, bf16, fp16, got "fp64"/);
  const fp16 = await runCli([...base, '--precision', 'fp16', '--device', 'cpu']);
  assert.equal(fp16.code, 2, fp16.stderr);
  assert.match(fp16.stderr, /--precision fp16 needs a CUDA device/);
  const data = await writeTinyImages(join(dir, 'data'));
  const run = await runCli(['pretrain', '--method', 'simsiam', '--data', data, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4', '--size', '32', '--precision', 'bf16', '--channels-last', '--out', join(dir, 'bf16'), '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as { completed: boolean }).completed, true);
});

test('pretrain --sync-bn is recorded in the run: --resume without it keeps the checkpoint\u2019s choice, another one is refused; the recipe\u2019s is the default', async () => {
  const dir = tempDir();
  const data = await writeTinyImages(join(dir, 'data'));
  const out = join(dir, 'run');
  const args = ['pretrain', '--method', 'simsiam', '--data', data, '--backbone', 'resnet18', '--epochs', '1', '--batch-size', '4', '--size', '32', '--out', out, '--json'];
  const first = await runCli([...args, '--sync-bn', 'off']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal((JSON.parse(first.stdout) as { config: { syncBatchNorm: boolean } }).config.syncBatchNorm, false);
  const other = await runCli(['pretrain', '--out', out, '--resume', '--sync-bn', 'on']);
  assert.equal(other.code, 1, other.stderr);
  assert.match(other.stderr, /another configuration \(syncBatchNorm: false in the checkpoint, true now\)/);
  // Without the flag the checkpoint's choice holds (SimSiam's recipe would be on).
  const resumed = await runCli(['pretrain', '--out', out, '--resume', '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /had already finished its 1 epochs/);
  const recipe = await runCli(args.map((a) => (a === out ? join(dir, 'recipe') : a)));
  assert.equal(recipe.code, 0, recipe.stderr);
  assert.equal((JSON.parse(recipe.stdout) as { config: { syncBatchNorm: boolean } }).config.syncBatchNorm, true);
});
