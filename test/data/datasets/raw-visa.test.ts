import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readRawVisa } from '../../../src/data/datasets/raw-visa.js';
import { openDataset } from '../../../src/data/datasets/open.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeText, writeTinyImage, writeTinyMask } from '../fixtures.js';

const dir = tempDir();
const root = join(dir, 'VisA');

// Two objects in the raw layout, with class-id masks and a 1cls split file.
async function build(): Promise<void> {
  const split = ['object,split,label,image,mask'];
  for (const object of ['candle', 'pcb1']) {
    const anno = ['image,label,mask'];
    for (const n of ['0000', '0001', '0002']) {
      const rel = `${object}/Data/Images/Normal/${n}.JPG`;
      await writeTinyImage(join(root, rel));
      anno.push(`${rel},normal,`);
      split.push(`${object},${n === '0002' ? 'test' : 'train'},normal,${rel},`);
    }
    for (const n of ['000', '001']) {
      const rel = `${object}/Data/Images/Anomaly/${n}.JPG`;
      const mask = `${object}/Data/Masks/Anomaly/${n}.png`;
      await writeTinyImage(join(root, rel));
      await writeTinyMask(join(root, mask), 3);
      anno.push(`${rel},anomaly,${mask}`);
      split.push(`${object},test,anomaly,${rel},${mask}`);
    }
    writeText(join(root, object, 'image_anno.csv'), anno.join('\n') + '\n');
  }
  writeText(join(root, 'split_csv/1cls.csv'), split.join('\r\n') + '\r\n');
}

test('reads image_anno.csv of every object (no split) and a split file (with splits)', async () => {
  await build();
  const ds = await openDataset(root);
  assert.equal(ds.layout, 'raw-visa');
  assert.deepEqual(ds.objects, ['candle', 'pcb1']);
  assert.equal(ds.samples.length, 10);
  assert.ok(ds.samples.every((s) => s.split === null));
  const a = ds.samples.find((s) => s.object === 'pcb1' && s.label === 'anomaly');
  assert.equal(a?.image, join(root, 'pcb1/Data/Images/Anomaly/000.JPG'));
  assert.equal(a?.mask, join(root, 'pcb1/Data/Masks/Anomaly/000.png'));

  const split = await readRawVisa(root, { split: '1cls', objects: ['candle'] });
  assert.equal(split.samples.length, 5);
  assert.deepEqual(
    split.samples.map((s) => `${s.split}/${s.label}`),
    ['train/normal', 'train/normal', 'test/normal', 'test/anomaly', 'test/anomaly'],
  );
  // an explicit CSV path works too
  assert.equal((await readRawVisa(root, { split: join(root, 'split_csv/1cls.csv') })).samples.length, 10);
});

test('a split type without split_csv/ in the dataset reads the official VisA split shipped with spotdiff', async () => {
  const bare = join(tempDir(), 'VisA');
  writeText(join(bare, 'candle', 'image_anno.csv'), 'image,label,mask\n');
  await assert.rejects(readRawVisa(bare, { split: '2cls_highshot' }), (e: unknown) => {
    assert.ok(isSpotdiffError(e, 'ERR_NOT_FOUND'), String(e));
    // Every candle image the official split lists (1,000 normal, 100 anomalous), none on disk.
    assert.match(e.message, /^1100 image\(s\) listed but not found/);
    assert.match(e.message, /candle\/Data\/Images\/Normal\/\d{4}\.JPG/);
    return true;
  });
});

test('one object folder as root resolves paths from its parent', async () => {
  const ds = await openDataset(join(root, 'candle'));
  assert.deepEqual(ds.objects, ['candle']);
  assert.equal(ds.samples[0]?.image, join(root, 'candle/Data/Images/Normal/0000.JPG'));
});

test('a defect name in the label column becomes the defect class', async () => {
  const r = join(dir, 'named');
  await writeTinyImage(join(r, 'o/Data/Images/Normal/0000.JPG'));
  await writeTinyImage(join(r, 'o/Data/Images/Anomaly/000.JPG'));
  await writeTinyMask(join(r, 'o/Data/Masks/Anomaly/000.png'));
  writeText(join(r, 'o/image_anno.csv'), 'image,label,mask\no/Data/Images/Normal/0000.JPG,normal,\no/Data/Images/Anomaly/000.JPG,"scratch, long",o/Data/Masks/Anomaly/000.png\n');
  const ds = await readRawVisa(r);
  assert.equal(ds.samples[1]?.label, 'anomaly');
  assert.equal(ds.samples[1]?.defect, 'scratch, long');
});

test('missing mask files, missing images, bad columns and escaping paths are clear errors', async () => {
  rmSync(join(root, 'pcb1/Data/Masks/Anomaly/001.png'));
  await assert.rejects(readRawVisa(root), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND') && /missing mask/.test(e.message) && e.message.includes('pcb1/Data/Images/Anomaly/001.JPG'));
  const lenient = await readRawVisa(root, { requireMasks: false });
  assert.equal(lenient.samples.find((s) => s.image.endsWith('pcb1/Data/Images/Anomaly/001.JPG'))?.mask, null);

  rmSync(join(root, 'candle/Data/Images/Normal/0001.JPG'));
  await assert.rejects(readRawVisa(root, { objects: ['candle'] }), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND') && e.message.includes('0001.JPG'));

  const bad = join(dir, 'badcsv');
  writeText(join(bad, 'o/image_anno.csv'), 'image,mask\nx.JPG,\n');
  await assert.rejects(readRawVisa(bad), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_CSV') && /label/.test(e.message));
  writeText(join(bad, 'o/image_anno.csv'), 'image,label,mask\n../../etc/passwd,normal,\n');
  await assert.rejects(readRawVisa(bad), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_CSV') && /leaves the dataset root/.test(e.message));
  writeText(join(bad, 'o/image_anno.csv'), 'image,label,mask\n');
  await assert.rejects(readRawVisa(bad), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /empty class/.test(e.message));
});
