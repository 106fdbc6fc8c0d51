import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from './run-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { loadImage } from '../../src/data/image.js';
import { Random } from '../../src/util/random.js';

const dir = tempDir('spotdiff-augment-');
const outDir = tempDir('spotdiff-augment-out-');
const data = join(dir, 'object', 'Data');
mkdirSync(join(data, 'Images', 'Normal'), { recursive: true });
mkdirSync(join(data, 'Masks', 'Anomaly'), { recursive: true });
mkdirSync(join(dir, 'empty'));

// Three small seeded images (one not square), and a mask that must not be picked.
const rng = new Random(1);
for (const [name, w, h] of [['a.png', 64, 64], ['b.png', 80, 60], ['c.jpg', 64, 64]] as const) {
  const px = Uint8Array.from({ length: w * h * 3 }, (_, i) => ((i * 7) % 200) + rng.int(50));
  const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  await (name.endsWith('.png') ? img.png() : img.jpeg()).toFile(join(data, 'Images', 'Normal', name));
}
await sharp(new Uint8Array(64 * 64), { raw: { width: 64, height: 64, channels: 1 } }).png().toFile(join(data, 'Masks', 'Anomaly', 'a_mask.png'));

interface Summary {
  out: string;
  kind: string;
  rows: number;
  images: { path: string; params: unknown }[];
}

test('augment writes an originals / augmented / mask grid from the images of a folder (masks folders skipped)', async () => {
  const out = join(outDir, 'grid.png');
  const r = await runCli(['augment', '--show', dir, '--out', out, '--kind', 'smoothblend', '--n', '3', '--size', '48', '--seed', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as Summary;
  assert.equal(summary.rows, 3);
  assert.deepEqual(summary.images.map((i) => i.path).sort(), ['object/Data/Images/Normal/a.png', 'object/Data/Images/Normal/b.png', 'object/Data/Images/Normal/c.jpg']);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 4 + 3 * 52, 4 + 3 * 52]);
  // The first row shows the inputs as loaded (shorter side to 48, centre crop), exactly.
  const grid = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  const first = await loadImage(join(dir, summary.images[0]!.path), { resize: 48, crop: 48, normalize: null });
  for (let y = 0; y < 48; y++) {
    for (let x = 0; x < 48; x++) {
      for (let c = 0; c < 3; c++) {
        assert.equal(grid.data[((4 + y) * grid.info.width + 4 + x) * 3 + c], Math.round(first.data[(c * 48 + y) * 48 + x]! * 255));
      }
    }
  }
  const again = join(outDir, 'grid-again.png');
  assert.equal((await runCli(['augment', '--show', dir, '--out', again, '--n', '3', '--size', '48', '--seed', '3'])).code, 0);
  assert.deepEqual(readFileSync(again), readFileSync(out), 'same seed, same picture');
});

test('global augmentations show two rows, CutPaste\'s scar three', async () => {
  for (const [kind, rows] of [['strong', 2], ['scar', 3]] as const) {
    const out = join(outDir, `${kind}.png`);
    const r = await runCli(['augment', '--show', dir, '--out', out, '--kind', kind, '--n', '2', '--size', '48']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`2 images × ${rows} rows \\(${kind}`));
    assert.equal((await sharp(out).metadata()).height, 4 + rows * 52);
  }
});

test('usage errors exit 2, a missing or empty folder exits 1', async () => {
  const out = join(outDir, 'x.png');
  const bad = await runCli(['augment', '--show', dir, '--out', out, '--kind', 'mixup']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--kind must be one of smoothblend, cutpaste, scar, weak, strong/);
  assert.equal((await runCli(['augment', '--out', out])).code, 2);
  assert.equal((await runCli(['augment', '--show', dir, '--out', out, '--fill', 'black'])).code, 2);
  assert.equal((await runCli(['augment', '--show', dir, '--out', out, '--n', '0'])).code, 2);
  const missing = await runCli(['augment', '--show', join(dir, 'nope'), '--out', out]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no such folder/);
  const empty = await runCli(['augment', '--show', join(dir, 'empty'), '--out', out]);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /no images/);
  writeFileSync(join(dir, 'empty', 'notes.txt'), 'not an image');
  assert.equal((await runCli(['augment', '--show', join(dir, 'empty'), '--out', out])).code, 1);
});
