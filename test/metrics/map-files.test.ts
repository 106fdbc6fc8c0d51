import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { mapFileSource, pairMapFiles, readScoreFile } from '../../src/metrics/map-files.js';
import { writeNpy } from '../../src/data/npy.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import type { ScoreMap } from '../../src/metrics/score-map.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();

test('map readers: float32 as is, float64 rounded to float32 (and flagged), 1×H×W and H×W×1 shapes, 8- and 16-bit PNGs', async () => {
  await writeNpy(join(dir, 'f4.npy'), Float32Array.from([0.5, 1, 2, 3, 4, 5]), [1, 2, 3]);
  const f4 = await readScoreFile(join(dir, 'f4.npy'));
  assert.deepEqual([f4.width, f4.height, f4.rounded, Array.from(f4.scores)], [3, 2, false, [0.5, 1, 2, 3, 4, 5]]);
  await writeNpy(join(dir, 'f8.npy'), Float64Array.from([0.1, 0.25]), [2, 1]);
  const f8 = await readScoreFile(join(dir, 'f8.npy'));
  assert.deepEqual([f8.width, f8.height, f8.rounded, Array.from(f8.scores)], [1, 2, true, [Math.fround(0.1), 0.25]]);
  await writeNpy(join(dir, 'exact.npy'), Float64Array.from([0.5, 0.25, 3]), [1, 3, 1]);
  assert.equal((await readScoreFile(join(dir, 'exact.npy'))).rounded, false);
  await writeNpy(join(dir, 'batch.npy'), new Float32Array(8), [2, 2, 2]);
  await assert.rejects(readScoreFile(join(dir, 'batch.npy')), (e: unknown) => isSpotdiffError(e, 'ERR_SHAPE') && /H×W/.test(e.message));

  await sharp(Uint16Array.from([0, 65535, 32768, 1]), { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('grey16').png().toFile(join(dir, 'p16.png'));
  const p16 = await readScoreFile(join(dir, 'p16.png'));
  assert.deepEqual(Array.from(p16.scores), [0, 1, 32768 / 65535, 1 / 65535].map(Math.fround));
  await sharp(Buffer.from([0, 255, 51]), { raw: { width: 3, height: 1, channels: 1 } }).toColourspace('b-w').png().toFile(join(dir, 'p8.png'));
  assert.deepEqual(Array.from((await readScoreFile(join(dir, 'p8.png'))).scores), [0, 1, 0.2].map(Math.fround));
  await sharp(Buffer.alloc(12), { raw: { width: 2, height: 2, channels: 3 } }).png().toFile(join(dir, 'rgb.png'));
  await assert.rejects(readScoreFile(join(dir, 'rgb.png')), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_IMAGE') && /greyscale/.test(e.message));
  writeFileSync(join(dir, 'broken.png'), 'not a png');
  await assert.rejects(readScoreFile(join(dir, 'broken.png')), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_IMAGE'));
});

test('pairing by relative path, MVTec _mask names, and one error listing every map without a mask', async () => {
  const pred = join(dir, 'pairs/pred');
  const gt = join(dir, 'pairs/gt');
  for (const d of ['bad', 'good']) mkdirSync(join(pred, d), { recursive: true });
  mkdirSync(join(gt, 'bad'), { recursive: true });
  const mask = (name: string): Promise<unknown> => sharp(Buffer.from([0, 255, 0, 0]), { raw: { width: 2, height: 2, channels: 1 } }).png().toFile(join(gt, name));
  for (const name of ['bad/a.npy', 'bad/b.npy', 'good/a.npy', 'good/b.npy']) await writeNpy(join(pred, name), Float32Array.from([0.1, 0.9, 0.2, 0.3]), [2, 2]);
  writeFileSync(join(pred, 'notes.txt'), 'ignored');
  await mask('bad/a.png');
  await mask('bad/b_mask.png');
  await assert.rejects(pairMapFiles(pred, gt), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND') && /2 map\(s\)/.test(e.message) && /good\/a\.npy/.test(e.message) && /good\/b\.npy/.test(e.message));
  const pairs = await pairMapFiles(pred, gt, { missingMasksNormal: true });
  assert.deepEqual(
    pairs.map((p) => [p.name, p.mask?.slice(gt.length + 1) ?? null]),
    [
      ['bad/a', 'bad/a.png'],
      ['bad/b', 'bad/b_mask.png'],
      ['good/a', null],
      ['good/b', null],
    ],
  );
  const maps: ScoreMap[] = [];
  for await (const m of mapFileSource(pairs)()) maps.push(m);
  assert.deepEqual(Array.from(maps[0]!.mask!), [0, 1, 0, 0]);
  assert.equal(maps[2]!.mask, null);
  // Two maps for one image are ambiguous.
  await sharp(Buffer.alloc(4), { raw: { width: 2, height: 2, channels: 1 } }).png().toFile(join(pred, 'bad/a.png'));
  await assert.rejects(pairMapFiles(pred, gt), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /two maps for one image/.test(e.message));
  await assert.rejects(pairMapFiles(join(dir, 'nowhere'), gt), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND'));
});
