import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

test('spotdiff fit, eval and predict from the command line (tiny synthetic set, --json)', async () => {
  const dir = tempDir();
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills', '--normal', '12', '--anomalous', '3', '--size', '64', '--quiet'])).code, 0);
  assert.equal((await runCli(['prepare', '--split-type', '1cls', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep')])).code, 0);
  const data = join(dir, 'prep', '1cls');
  const model = join(dir, 'model');

  const usage = await runCli(['fit', '--method', 'knn', '--data', data, '--backbone', 'resnet18', '--out', model]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--method must be padim, patchcore, classifier or segmenter/);

  const fit = await runCli(['fit', '--method', 'padim', '--data', data, '--backbone', 'resnet18', '--size', '64', '--out', model, '--json']);
  assert.equal(fit.code, 0, fit.stderr);
  assert.match(fit.stderr, /random.*results need pretrained weights/i);
  const fitted = JSON.parse(fit.stdout) as { object: string; threshold: { value: number; method: string } };
  assert.equal(fitted.object, 'pills');
  assert.equal(fitted.threshold.method, 'normal-quantile');

  const ev = await runCli(['eval', '--model', model, '--data', data, '--json', '--report', join(dir, 'report')]);
  assert.equal(ev.code, 0, ev.stderr);
  const evaluated = JSON.parse(ev.stdout) as { images: number; anomalous: number; metrics: Record<string, number>; report: string };
  assert.equal(evaluated.anomalous, 3);
  for (const k of ['image.aupr', 'image.auroc', 'image.maxF1', 'pixel.aupr', 'pixel.auroc', 'pixel.maxF1', 'pixel.aupro']) assert.ok(evaluated.metrics[k]! >= 0 && evaluated.metrics[k]! <= 1, k);
  assert.ok(existsSync(evaluated.report));
  // A folder of the user's as --report is refused before anything is evaluated (the data path is never read).
  const mine = join(dir, 'mine');
  mkdirSync(mine);
  writeFileSync(join(mine, 'notes.txt'), 'mine');
  const refused = await runCli(['eval', '--model', model, '--data', join(dir, 'no-such-data'), '--report', mine]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /report folder .*mine holds other files \(notes\.txt\)/);
  assert.deepEqual(readdirSync(mine), ['notes.txt']);

  const bad = join(data, 'pills', 'test', 'bad');
  const images = readdirSync(bad).map((f) => join(bad, f));
  const pr = await runCli(['predict', '--model', model, ...images, '--out', join(dir, 'pred'), '--json']);
  assert.equal(pr.code, 0, pr.stderr);
  const predicted = JSON.parse(pr.stdout) as { threshold: number; images: { score: number; anomalous: boolean; overlay: string; mask: string }[] };
  assert.equal(predicted.images.length, 3);
  for (const p of predicted.images) {
    assert.equal(p.anomalous, p.score >= predicted.threshold);
    const meta = await sharp(p.overlay).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 64]);
    assert.ok(existsSync(p.mask));
  }
  const odd = join(dir, 'odd.png');
  await sharp({ create: { width: 70, height: 64, channels: 3, background: '#000' } }).png().toFile(odd);
  const wrong = await runCli(['predict', '--model', model, odd, '--out', join(dir, 'pred2')]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /70×64/);

  await predictNamesDoNotCollide(model, images, dir);
});

/** a.png, a-1.png and dir2/a.png: six outputs with six names; a file of the user's in the way is refused. */
async function predictNamesDoNotCollide(model: string, images: string[], dir: string): Promise<void> {
  const inputs = join(dir, 'inputs');
  mkdirSync(join(inputs, 'dir2'), { recursive: true });
  const named = ['a.png', 'a-1.png', join('dir2', 'a.png')];
  named.forEach((name, i) => copyFileSync(images[i]!, join(inputs, name)));
  const out = join(dir, 'named');
  mkdirSync(out);
  writeFileSync(join(out, 'a.mask.png'), 'the user\'s');
  const args = ['predict', '--model', model, ...named.map((n) => join(inputs, n)), '--out', out, '--json'];
  const refused = await runCli(args);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /already holds a\.mask\.png, not written by spotdiff predict/);
  assert.equal(readFileSync(join(out, 'a.mask.png'), 'utf8'), 'the user\'s');

  const clear = join(dir, 'named2');
  for (let run = 0; run < 2; run++) {
    const pr = await runCli([...args.slice(0, -2), clear, '--json']);
    assert.equal(pr.code, 0, pr.stderr);
    const written = (JSON.parse(pr.stdout) as { images: { overlay: string; mask: string }[] }).images;
    assert.deepEqual(written.map((p) => p.mask), ['a', 'a-1', join('dir2', 'a')].map((stem) => join(clear, `${stem}.mask.png`)));
    assert.equal(new Set(written.flatMap((p) => [p.overlay, p.mask])).size, 6);
    for (const p of written) assert.ok(existsSync(p.overlay) && existsSync(p.mask));
  }
}
