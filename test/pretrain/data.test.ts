import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readPretrainData } from '../../src/pretrain/data.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { writeText, writeTinyImage } from '../data/fixtures.js';
import { writeTinyImages } from './tiny-images.js';

const names = (paths: readonly string[], root: string): string[] => paths.map((p) => p.slice(root.length + 1));

test('a plain folder of images, at any depth, is pre-training data: every image, one class named after the folder', async () => {
  const root = join(tempDir(), 'photos');
  for (const f of ['b.png', 'a.JPG', 'day1/c.jpeg', 'day1/deep/d.webp', 'day2/e.PNG']) await writeTinyImage(join(root, f));
  writeText(join(root, 'notes.txt'), 'not an image');
  await writeTinyImage(join(root, '.thumbs', 'x.png'));
  await writeTinyImage(join(root, 'day1', '.hidden.png'));
  const data = await readPretrainData([root]);
  assert.deepEqual(names(data.samples.map((s) => s.image), root), ['a.JPG', 'b.png', 'day1/c.jpeg', 'day1/deep/d.webp', 'day2/e.PNG']);
  assert.ok(data.samples.every((s) => s.label === 'normal' && s.mask === null && s.split === null && s.object === 'photos'));
  assert.deepEqual(data.classes, ['photos']);
});

test('an ImageNet-style folder of class folders: the class is the sub-folder name, classes sorted', async () => {
  const root = join(tempDir(), 'train');
  for (const f of ['n02/x.JPEG', 'n01/a.JPEG', 'n01/b.JPEG', 'n03/sub/y.png']) await writeTinyImage(join(root, f));
  writeText(join(root, 'n04', 'README'), 'a folder without images is no class');
  const data = await readPretrainData([root]);
  assert.deepEqual(data.classes, ['n01', 'n02', 'n03']);
  assert.deepEqual(
    data.samples.map((s) => [s.object, data.classOf.get(s.object)]),
    [['n01', 0], ['n01', 0], ['n02', 1], ['n03', 2]],
  );
  assert.deepEqual(names(data.samples.map((s) => s.image), root), ['n01/a.JPEG', 'n01/b.JPEG', 'n02/x.JPEG', 'n03/sub/y.png']);
});

test('image folders combine with prepared datasets; dataset layouts keep their meaning (normal training images only)', async () => {
  const dir = tempDir();
  const products = await writeTinyImages(join(dir, 'products'), { objects: ['alpha', 'beta'], perObject: 2, size: 8 });
  await writeTinyImage(join(products, 'alpha', 'bad', '000.png'));
  const classes = join(dir, 'imagenet');
  for (const f of ['alpha/1.png', 'zeta/1.png']) await writeTinyImage(join(classes, f));
  const data = await readPretrainData([products, classes]);
  assert.deepEqual(data.classes, ['alpha', 'beta', 'zeta'], 'the same name in two folders is one class');
  assert.equal(data.samples.length, 2 + 2 + 2);
  assert.ok(data.samples.every((s) => s.label === 'normal'));
});

test('a folder with no images (at any depth) is a clear error; a link to an image counts', async () => {
  const dir = tempDir();
  const none = join(dir, 'none');
  writeText(join(none, 'a', 'notes.txt'), 'text');
  writeText(join(none, 'list.csv'), 'image\n');
  await assert.rejects(readPretrainData([none]), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /holds no images/.test(e.message) && e.message.includes(none) && /\.png/.test(e.message));
  const linked = join(dir, 'linked');
  const target = await writeTinyImage(join(dir, 'elsewhere', 'x.png'));
  writeText(join(linked, 'keep.txt'), '');
  symlinkSync(target, join(linked, 'x.png'));
  assert.deepEqual((await readPretrainData([linked])).samples.map((s) => s.image), [join(linked, 'x.png')]);
  await assert.rejects(readPretrainData([join(dir, 'missing')]), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND'));
});
