import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFolder } from '../../../src/data/datasets/folder.js';
import { openDataset } from '../../../src/data/datasets/open.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeTinyImage, writeTinyMask } from '../fixtures.js';

const dir = tempDir();

test('good/, bad/ and masks/ matched by base name (<name>.png or <name>_mask.png)', async () => {
  const p = join(dir, 'widget');
  await writeTinyImage(join(p, 'good/a.jpg'));
  await writeTinyImage(join(p, 'good/b.jpg'));
  await writeTinyImage(join(p, 'bad/img_7.jpg'));
  await writeTinyImage(join(p, 'bad/img_8.jpg'));
  await writeTinyMask(join(p, 'masks/img_7.png'));
  await writeTinyMask(join(p, 'masks/img_8_mask.png'));
  const ds = await openDataset(p);
  assert.equal(ds.layout, 'folder');
  assert.deepEqual(ds.objects, ['widget']);
  assert.deepEqual(
    ds.samples.map((s) => [s.label, s.mask]),
    [
      ['normal', null],
      ['normal', null],
      ['anomaly', join(p, 'masks/img_7.png')],
      ['anomaly', join(p, 'masks/img_8_mask.png')],
    ],
  );
  assert.ok(ds.samples.every((s) => s.split === null && s.object === 'widget'));
});

test('bad/<defect>/ names defect classes; masks/<defect>/ wins over masks/; several products under one root', async () => {
  const p = join(dir, 'products/gear');
  await writeTinyImage(join(p, 'good/0.png'));
  await writeTinyImage(join(p, 'bad/dent/1.png'));
  await writeTinyImage(join(p, 'bad/rust/1.png'));
  await writeTinyMask(join(p, 'masks/dent/1.png'));
  await writeTinyMask(join(p, 'masks/1.png'));
  const q = join(dir, 'products/spring');
  await writeTinyImage(join(q, 'good/0.png'));
  const ds = await openDataset(join(dir, 'products'));
  assert.deepEqual(ds.objects, ['gear', 'spring']);
  const bad = ds.samples.filter((s) => s.label === 'anomaly');
  assert.deepEqual(bad.map((s) => [s.defect, s.mask]), [
    ['dent', join(p, 'masks/dent/1.png')],
    ['rust', join(p, 'masks/1.png')],
  ]);
});

test('without masks/ the images keep their labels and masks are null', async () => {
  const p = join(dir, 'labels-only');
  await writeTinyImage(join(p, 'good/0.png'));
  await writeTinyImage(join(p, 'bad/1.png'));
  const ds = await readFolder(p);
  assert.equal(ds.samples[1]?.mask, null);
});

test('with masks/, a bad image without its mask is an error; empty good/ or bad/ too', async () => {
  const p = join(dir, 'missing');
  await writeTinyImage(join(p, 'good/0.png'));
  await writeTinyImage(join(p, 'bad/1.png'));
  await writeTinyImage(join(p, 'bad/2.png'));
  await writeTinyMask(join(p, 'masks/1.png'));
  await assert.rejects(readFolder(p), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND') && e.message.includes(join('bad', '2.png')) && !e.message.includes(join('bad', '1.png')));

  const e1 = join(dir, 'empty-good');
  mkdirSync(join(e1, 'good'), { recursive: true });
  await assert.rejects(readFolder(e1), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /empty class/.test(e.message) && e.message.includes('good'));
  const e2 = join(dir, 'empty-bad');
  await writeTinyImage(join(e2, 'good/0.png'));
  mkdirSync(join(e2, 'bad'), { recursive: true });
  await assert.rejects(readFolder(e2), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /empty class/.test(e.message) && e.message.includes('bad'));
});

test('an unknown layout says which layouts were tried', async () => {
  const p = join(dir, 'nothing');
  await writeTinyImage(join(p, 'pics/0.png'));
  await assert.rejects(openDataset(p), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /unknown dataset layout/.test(e.message) && /raw VisA/.test(e.message) && /prepared/.test(e.message) && /folder/.test(e.message));
  await assert.rejects(openDataset(join(dir, 'does-not-exist')), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND'));
});
