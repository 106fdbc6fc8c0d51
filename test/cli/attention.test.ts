import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as T from '../../src/tensor/index.js';
import { resnet18 } from '../../src/models/resnet.js';
import { saveWeights } from '../../src/models/weights.js';
import type { AttentionResult } from '../../src/attention/run.js';
import { Random } from '../../src/util/random.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

// spotdiff attention: overlay PNGs at each image's own size (not the network's), the nearest
// normal named, weights from a safetensors file, and a usage error for an unknown layer.

process.env.SPOTDIFF_THREADS ??= '1';

async function noiseImage(path: string, width: number, height: number, seed: number): Promise<void> {
  const rng = new Random(seed);
  const data = Buffer.from(Uint8Array.from({ length: width * height * 3 }, () => rng.int(256)));
  await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(path);
}

test('spotdiff attention writes an overlay per image at the image size, against its nearest normal', async () => {
  const dir = tempDir('spotdiff-cli-attention-');
  const normals = join(dir, 'normals');
  mkdirSync(normals);
  for (let i = 0; i < 3; i++) await noiseImage(join(normals, `n${i}.png`), 80, 60, i);
  const a = join(dir, 'a.png');
  const b = join(dir, 'b.jpg');
  await noiseImage(a, 80, 60, 10);
  await sharp(await sharp(join(normals, 'n1.png')).toBuffer()).jpeg().toFile(b); // the same picture as n1
  T.manualSeed(0);
  const model = resnet18();
  const weights = join(dir, 'r18.safetensors');
  try {
    await saveWeights(model, weights);
  } finally {
    model.dispose();
  }
  const out = join(dir, 'out');
  const r = await runCli(['attention', '--backbone', 'resnet18', '--weights', weights, '--data', normals, a, b, '--out', out, '--size', '32', '--layer', 'layer2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /randomly initialised/);
  const result = JSON.parse(r.stdout) as AttentionResult;
  assert.equal(result.layer, 'layer2');
  assert.equal(result.normals, 3);
  assert.deepEqual(result.images.map((i) => i.image), [a, b]);
  assert.equal(result.images[1]!.nearestNormal, join(normals, 'n1.png'), 'a copy of a normal image is nearest to it');
  for (const img of result.images) {
    assert.ok(existsSync(img.overlay));
    const meta = await sharp(img.overlay).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 80, 60]);
    assert.ok(img.cosine <= 1 + 1e-6);
  }
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'attention.json'), 'utf8')), result);

  const bad = await runCli(['attention', '--backbone', 'resnet18', '--data', normals, a, '--out', out, '--layer', 'layer5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown layer "layer5" for attention maps; choose one of layer1, layer2, layer3, layer4/);
  const none = await runCli(['attention', '--backbone', 'resnet18', '--data', normals, '--out', out]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give at least one IMAGE/);
});
