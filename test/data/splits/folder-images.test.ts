import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { folderImages } from '../../../src/data/splits/folder-images.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeTinyImage, writeTinyMask } from '../fixtures.js';

const dir = tempDir();

test('paths relative to the root given, for one product folder and for a folder of products', async () => {
  const gear = join(dir, 'products/gear');
  await writeTinyImage(join(gear, 'good/0.png'));
  await writeTinyImage(join(gear, 'bad/dent/1.png'));
  await writeTinyMask(join(gear, 'masks/dent/1_mask.png'));
  await writeTinyImage(join(dir, 'products/spring/good/5.jpg'));
  await writeTinyImage(join(dir, 'products/spring/bad/6.jpg'));
  await writeTinyMask(join(dir, 'products/spring/masks/6.png'));
  assert.deepEqual(await folderImages(join(dir, 'products')), [
    { object: 'gear', normal: ['gear/good/0.png'], anomaly: [{ image: 'gear/bad/dent/1.png', mask: 'gear/masks/dent/1_mask.png' }] },
    { object: 'spring', normal: ['spring/good/5.jpg'], anomaly: [{ image: 'spring/bad/6.jpg', mask: 'spring/masks/6.png' }] },
  ]);
  assert.deepEqual(await folderImages(gear), [{ object: 'gear', normal: ['good/0.png'], anomaly: [{ image: 'bad/dent/1.png', mask: 'masks/dent/1_mask.png' }] }]);
});

test('anomalous images without masks are an error naming them', async () => {
  const p = join(dir, 'labels-only');
  await writeTinyImage(join(p, 'good/0.png'));
  await writeTinyImage(join(p, 'bad/1.png'));
  await assert.rejects(folderImages(p), (e) => isSpotdiffError(e, 'ERR_NOT_FOUND') && /1 anomalous image\(s\) in .*labels-only have no mask/.test(e.message) && e.message.includes(join(p, 'bad/1.png')));
});
