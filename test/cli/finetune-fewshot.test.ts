import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { prepareVisa } from '../../src/data/visa/prepare.js';
import type { FewshotResult } from '../../src/finetune/fewshot.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

// spotdiff finetune-fewshot end to end on a tiny synthetic dataset (18 train normals, 2 normal
// and 4 anomalous test images, 32 px, a few steps): results JSON, mean ± std per k, saved
// backbones that spotdiff fit accepts, pixel metrics through PatchCore, and the input errors.

// One libtorch thread in the children: the suite runs files in parallel on few cores.
process.env.SPOTDIFF_THREADS ??= '1';
const dir = tempDir('spotdiff-cli-fewshot-');
const data = join(dir, 'prep', '1cls');
const SMALL = ['--backbone', 'resnet18', '--size', '32', '--batch', '2', '--support-views', '2', '--seed', '4'];

before(async () => {
  await generateSynthDataset({ out: join(dir, 'raw'), objects: ['pills'], seed: 2, normal: 20, anomalous: 4, size: 64, threads: 0 });
  await prepareVisa({ splitType: '1cls', dataFolder: join(dir, 'raw'), saveFolder: join(dir, 'prep'), progress: false });
});

test('finetune-fewshot: k = 1, 2 with 2 runs each, mean ± std in JSON, fine-tuned backbones that spotdiff fit loads', async () => {
  const out = join(dir, 'gauss.json');
  const bb = join(dir, 'backbones');
  const r = await runCli(['finetune-fewshot', '--data', data, ...SMALL, '--k', '1,2', '--runs', '2', '--steps', '3', '--negatives', 'cutpaste', '--out', out, '--save-backbone', bb, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /randomly initialised.*results need pretrained weights/);
  const printed = JSON.parse(r.stdout) as { summary: FewshotResult['summary'] };
  const saved = JSON.parse(readFileSync(out, 'utf8')) as FewshotResult;
  assert.deepEqual(printed.summary, saved.summary);
  assert.deepEqual(saved.summary.map((s) => [s.k, s.runs]), [[1, 2], [2, 2]]);
  assert.deepEqual(saved.testImages, { normal: 2, anomalous: 4 });
  for (const s of saved.summary) {
    for (const m of [s.image.aupr, s.image.auroc]) assert.ok(m.mean >= 0 && m.mean <= 1 && m.std >= 0, JSON.stringify(m));
    assert.equal(s.pixel, null, 'no pixel metrics from the Gaussian scorer');
    const runs = saved.results.filter((x) => x.k === s.k);
    const mean = runs.reduce((a, x) => a + x.metrics.image.auroc, 0) / runs.length;
    assert.ok(Math.abs(mean - s.image.auroc.mean) < 1e-12);
  }
  assert.equal(saved.results.length, 4);
  for (const x of saved.results) {
    assert.equal(x.shots.length, x.k);
    assert.equal(new Set(x.shots).size, x.k);
    assert.ok(x.shots.every((p) => p.includes(join('train', 'good'))), 'shots come from the train normals only');
    assert.ok(x.loss !== null && x.loss.first.negative !== null, 'the negative term ran');
    assert.ok(x.backbone !== null && existsSync(x.backbone));
  }
  assert.notDeepEqual(saved.results[2]!.shots, saved.results[3]!.shots, 'runs draw different shots');
  assert.equal(readdirSync(bb).length, 4);

  // torchvision names: the fine-tuned backbone is a valid --weights for spotdiff fit.
  const fit = await runCli(['fit', '--method', 'padim', '--data', data, '--backbone', 'resnet18', '--weights', join(bb, 'resnet18-pills-k2-run0.safetensors'), '--size', '32', '--out', join(dir, 'model'), '--quiet']);
  assert.equal(fit.code, 0, fit.stderr);

  // The same seed draws the same shots (here with another scorer and no fine-tuning), and the text output is a table.
  const knn = await runCli(['finetune-fewshot', '--data', data, ...SMALL, '--k', '2', '--runs', '2', '--steps', '0', '--score', 'knn', '--neighbours', '3', '--out', join(dir, 'knn.json'), '--quiet']);
  assert.equal(knn.code, 0, knn.stderr);
  assert.match(knn.stdout, /^\s+2\s+\d+\.\d ± \d+\.\d\s+\d+\.\d ± \d+\.\d$/m);
  const again = JSON.parse(readFileSync(join(dir, 'knn.json'), 'utf8')) as FewshotResult;
  assert.deepEqual(again.results.map((x) => x.shots), saved.results.filter((x) => x.k === 2).map((x) => x.shots));
  assert.equal(again.results[0]!.loss, null);
});

test('finetune-fewshot --score patchcore gives pixel AU-PR, AU-ROC and AUPRO', async () => {
  const out = join(dir, 'pc.json');
  const r = await runCli(['finetune-fewshot', '--data', data, ...SMALL, '--k', '2', '--runs', '1', '--steps', '2', '--score', 'patchcore', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const saved = JSON.parse(readFileSync(out, 'utf8')) as FewshotResult;
  const pixel = saved.summary[0]!.pixel;
  assert.ok(pixel !== null);
  for (const m of [pixel.aupr, pixel.auroc, pixel.aupro!]) assert.ok(m.mean >= 0 && m.mean <= 1 && m.std === 0, JSON.stringify(m));
});

test('finetune-fewshot input errors: k above the normal train images, an empty folder, bad weights, bad options', async () => {
  const tooMany = await runCli(['finetune-fewshot', '--data', data, ...SMALL, '--k', '2,19', '--out', join(dir, 'x.json')]);
  assert.equal(tooMany.code, 1);
  assert.match(tooMany.stderr, /k = 19 is more than the 18 normal train images of "pills"/);

  const empty = join(dir, 'empty');
  mkdirSync(join(empty, 'widget', 'train', 'good'), { recursive: true });
  mkdirSync(join(empty, 'widget', 'test', 'good'), { recursive: true });
  const none = await runCli(['finetune-fewshot', '--data', empty, ...SMALL, '--k', '1', '--out', join(dir, 'x.json')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no normal training images|no images|empty/i);

  const garbage = join(dir, 'garbage.pth');
  writeFileSync(garbage, 'this is not a checkpoint');
  const bad = await runCli(['finetune-fewshot', '--data', data, ...SMALL, '--weights', garbage, '--k', '1', '--out', join(dir, 'x.json')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /garbage\.pth/);

  const usage = await runCli(['finetune-fewshot', '--data', data, ...SMALL, '--negatives', 'noise', '--out', join(dir, 'x.json')]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--negatives must be one of none, cutpaste, smoothblend/);
  assert.ok(!existsSync(join(dir, 'x.json')), 'no results file from a failed run');
});

test('finetune-fewshot --precision: fp64 and fp16 (no CUDA here) are usage errors; bf16 with --channels-last runs', async () => {
  const base = ['finetune-fewshot', '--data', data, ...SMALL, '--k', '1', '--runs', '1', '--steps', '2'];
  const fp64 = await runCli([...base, '--precision', 'fp64', '--out', join(dir, 'fp64.json')]);
  assert.equal(fp64.code, 2, fp64.stderr);
  assert.match(fp64.stderr, /--precision must be one of fp32, bf16, fp16, got "fp64"/);
  const fp16 = await runCli([...base, '--precision', 'fp16', '--out', join(dir, 'fp16.json')]);
  assert.equal(fp16.code, 2, fp16.stderr);
  assert.match(fp16.stderr, /needs a CUDA device/);
  const bf16 = await runCli([...base, '--precision', 'bf16', '--channels-last', '--out', join(dir, 'bf16.json'), '--json']);
  assert.equal(bf16.code, 0, bf16.stderr);
  const result = JSON.parse(readFileSync(join(dir, 'bf16.json'), 'utf8')) as FewshotResult;
  assert.equal(result.results.length, 1);
});
