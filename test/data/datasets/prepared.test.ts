import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readPrepared } from '../../../src/data/datasets/prepared.js';
import { openDataset } from '../../../src/data/datasets/open.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeTinyImage, writeTinyMask } from '../fixtures.js';

const dir = tempDir();

test('reads MVTec AD itself: <defect>/NNN.png with ground_truth/<defect>/NNN_mask.png', async () => {
  const root = join(dir, 'mvtec');
  const b = join(root, 'bottle');
  for (const n of ['000', '001', '002']) await writeTinyImage(join(b, 'train/good', `${n}.png`));
  await writeTinyImage(join(b, 'test/good/000.png'));
  for (const d of ['broken_large', 'contamination']) {
    for (const n of ['000', '001']) {
      await writeTinyImage(join(b, 'test', d, `${n}.png`));
      await writeTinyMask(join(b, 'ground_truth', d, `${n}_mask.png`));
    }
  }
  const ds = await openDataset(root);
  assert.equal(ds.layout, 'prepared');
  assert.deepEqual(ds.objects, ['bottle']);
  assert.equal(ds.samples.length, 8);
  const train = ds.samples.filter((s) => s.split === 'train');
  assert.equal(train.length, 3);
  assert.ok(train.every((s) => s.label === 'normal' && s.mask === null && s.defect === null && s.object === 'bottle'));
  const bad = ds.samples.filter((s) => s.label === 'anomaly');
  assert.equal(bad.length, 4);
  const s = bad.find((x) => x.image.endsWith(join('contamination', '001.png')));
  assert.ok(s);
  assert.equal(s.mask, join(b, 'ground_truth/contamination/001_mask.png'));
  assert.equal(s.defect, 'contamination');
  assert.equal(s.split, 'test');
  // the object folder itself is also accepted as root
  const one = await readPrepared(b);
  assert.deepEqual(one.objects, ['bottle']);
  assert.equal(one.samples.length, 8);
});

test('reads prepared VisA: 1cls (ground_truth/bad/NNN.png) and 2cls (ground_truth/{train,test}/bad/NNN.png)', async () => {
  const one = join(dir, 'visa/1cls/candle');
  await writeTinyImage(join(one, 'train/good/0001.JPG'));
  await writeTinyImage(join(one, 'train/good/0002.JPG'));
  await writeTinyImage(join(one, 'test/good/0003.JPG'));
  await writeTinyImage(join(one, 'test/bad/000.JPG'));
  await writeTinyMask(join(one, 'ground_truth/bad/000.png'));
  const ds1 = await openDataset(join(dir, 'visa/1cls'));
  assert.equal(ds1.samples.length, 4);
  const a = ds1.samples.find((s) => s.label === 'anomaly');
  assert.equal(a?.mask, join(one, 'ground_truth/bad/000.png'));
  assert.equal(a?.defect, null); // "bad" names no defect class

  const two = join(dir, 'visa/2cls_fewshot/pcb1');
  await writeTinyImage(join(two, 'train/good/0001.JPG'));
  await writeTinyImage(join(two, 'train/bad/000.JPG'));
  await writeTinyMask(join(two, 'ground_truth/train/bad/000.png'));
  await writeTinyImage(join(two, 'test/good/0002.JPG'));
  await writeTinyImage(join(two, 'test/bad/001.JPG'));
  await writeTinyImage(join(two, 'test/bad/000.JPG')); // same name as the train one: the split keeps them apart
  await writeTinyMask(join(two, 'ground_truth/test/bad/001.png'));
  await writeTinyMask(join(two, 'ground_truth/test/bad/000.png'));
  const ds2 = await readPrepared(join(dir, 'visa/2cls_fewshot'));
  const bad = ds2.samples.filter((s) => s.label === 'anomaly');
  assert.deepEqual(
    bad.map((s) => [s.split, s.mask]),
    [
      ['train', join(two, 'ground_truth/train/bad/000.png')],
      ['test', join(two, 'ground_truth/test/bad/000.png')],
      ['test', join(two, 'ground_truth/test/bad/001.png')],
    ],
  );
});

test('a missing mask names every anomalous image without one', async () => {
  const root = join(dir, 'nomask/screw');
  await writeTinyImage(join(root, 'train/good/000.png'));
  await writeTinyImage(join(root, 'test/scratch/000.png'));
  await writeTinyImage(join(root, 'test/scratch/001.png'));
  await writeTinyMask(join(root, 'ground_truth/scratch/000_mask.png'));
  await assert.rejects(readPrepared(root), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND') && /missing mask/.test(e.message) && e.message.includes(join('scratch', '001.png')) && !e.message.includes(join('scratch', '000.png')));
  const ok = await readPrepared(root, { requireMasks: false });
  assert.equal(ok.samples.filter((s) => s.mask === null && s.label === 'anomaly').length, 1);
});

test('an empty class folder is an error that names it; so is an object without normal images', async () => {
  const root = join(dir, 'empty/cable');
  await writeTinyImage(join(root, 'train/good/000.png'));
  mkdirSync(join(root, 'test/cut'), { recursive: true });
  await assert.rejects(readPrepared(root), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /empty class/.test(e.message) && e.message.includes('test/cut'));
  rmSync(join(root, 'test/cut'), { recursive: true });
  rmSync(join(root, 'train/good'), { recursive: true });
  await writeTinyImage(join(root, 'test/cut/000.png'));
  await writeTinyMask(join(root, 'ground_truth/cut/000_mask.png'));
  await assert.rejects(readPrepared(root), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /no normal images/.test(e.message));
});

test('asking for an object that is not there lists the ones that are', async () => {
  await assert.rejects(readPrepared(join(dir, 'mvtec'), { objects: ['zipper'] }), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND') && e.message.includes('bottle'));
});
