import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

test('spotdiff fit --tile, then eval and predict by the stored tiles (maps at the full image size)', async () => {
  const dir = tempDir();
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills', '--normal', '12', '--anomalous', '3', '--size', '96', '--quiet'])).code, 0);
  assert.equal((await runCli(['prepare', '--split-type', '1cls', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep')])).code, 0);
  const data = join(dir, 'prep', '1cls');
  const model = join(dir, 'model');

  const bad = await runCli(['fit', '--method', 'padim', '--data', data, '--backbone', 'resnet18', '--tile', '64:64', '--out', model]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /overlap must be/);

  const fit = await runCli(['fit', '--method', 'padim', '--data', data, '--backbone', 'resnet18', '--tile', '64:25%', '--out', model, '--json']);
  assert.equal(fit.code, 0, fit.stderr);
  assert.deepEqual((JSON.parse(fit.stdout) as { tiling: unknown }).tiling, { size: 64, overlap: 16 });

  const ev = await runCli(['eval', '--model', model, '--data', data, '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const evaluated = JSON.parse(ev.stdout) as { tiling: unknown; metrics: Record<string, number> };
  assert.deepEqual(evaluated.tiling, { size: 64, overlap: 16 });
  assert.ok(evaluated.metrics['pixel.auroc']! >= 0 && evaluated.metrics['pixel.auroc']! <= 1);
  const wrong = await runCli(['eval', '--model', model, '--data', data, '--tile', '96']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /scores 64 px tiles/);

  const badDir = join(data, 'pills', 'test', 'bad');
  const images = readdirSync(badDir).map((f) => join(badDir, f));
  const pr = await runCli(['predict', '--model', model, images[0]!, '--tile', '64:32', '--out', join(dir, 'pred'), '--json']);
  assert.equal(pr.code, 0, pr.stderr);
  const predicted = JSON.parse(pr.stdout) as { images: { overlay: string; mask: string }[] };
  const meta = await sharp(predicted.images[0]!.mask).metadata();
  assert.deepEqual([meta.width, meta.height], [96, 96]);
});
