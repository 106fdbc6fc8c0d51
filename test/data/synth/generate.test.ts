import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { defectPlan, generateSynthDataset } from '../../../src/data/synth/generate.js';
import { encodeJpeg } from '../../../src/data/synth/encode.js';
import { renderSample } from '../../../src/data/synth/render.js';
import { SYNTH_OBJECTS } from '../../../src/data/synth/objects/index.js';
import { SPLIT_RULES } from '../../../src/data/splits/rules.js';
import { trainCount } from '../../../src/data/splits/train-count.js';
import { SPLIT_TYPES } from '../../../src/data/visa/split-csv.js';
import type { SynthObject } from '../../../src/data/synth/types.js';
import { readRawVisa } from '../../../src/data/datasets/raw-visa.js';
import { openDataset } from '../../../src/data/datasets/open.js';
import { readCsv } from '../../../src/data/datasets/csv.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { defectClassesFile } from '../../../src/data/visa/facts.js';

const dir = tempDir();
const N = 10;
const M = 7;
const SIZE = 96;
const SEED = 7;
const root = join(dir, 'a');
// threads 2 here and 0 below: the bytes must not depend on which thread drew an image
await generateSynthDataset({ out: root, seed: SEED, normal: N, anomalous: M, size: SIZE, threads: 2 });

function hashes(r: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(r, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(r);
  return out;
}

test('the same seed gives the same bytes (whatever the thread count); another seed does not', async () => {
  const again = join(dir, 'b');
  await generateSynthDataset({ out: again, seed: SEED, normal: N, anomalous: M, size: SIZE, threads: 0 });
  const a = hashes(root);
  assert.equal(a.size, 3 * (N + 2 * M) + 3 + 3 + 2, 'images, masks, image_anno.csv ×3, split CSVs ×3, defect_classes.json, synth.json');
  assert.deepEqual(hashes(again), a);
  const other = join(dir, 'c');
  await generateSynthDataset({ out: other, seed: SEED + 1, normal: N, anomalous: M, size: SIZE, objects: ['pills'], threads: 1 });
  assert.notEqual(hashes(other).get('pills/Data/Images/Normal/0000.JPG'), a.get('pills/Data/Images/Normal/0000.JPG'));
});

test('raw VisA layout: image_anno.csv, JPEG images at the asked size, class-id masks, defect_classes.json shaped like the real one', async () => {
  const classes = JSON.parse(readFileSync(join(root, 'defect_classes.json'), 'utf8')) as Record<string, Record<string, string>>;
  const real = JSON.parse(readFileSync(defectClassesFile, 'utf8')) as Record<string, Record<string, string>>;
  const shapeOk = (table: Record<string, Record<string, string>>): boolean =>
    Object.values(table).every((ids) => ids['0'] === 'BACKGROUND' && Object.keys(ids).every((k, i) => k === String(i)) && Object.values(ids).every((v) => typeof v === 'string'));
  assert.ok(shapeOk(real), 'the reference file has the expected shape');
  assert.ok(shapeOk(classes));
  assert.deepEqual(Object.keys(classes), ['board', 'pills', 'tealight']);
  for (const object of Object.keys(classes)) {
    const rows = await readCsv(join(root, object, 'image_anno.csv'), ['image', 'label', 'mask']);
    assert.equal(rows.length, N + M);
    assert.equal(rows.filter((r) => r.values['label'] === 'normal').length, N);
    assert.equal(rows[0]?.values['image'], `${object}/Data/Images/Normal/0000.JPG`);
    const anomalies = rows.filter((r) => r.values['label'] === 'anomaly');
    assert.equal(anomalies[0]?.values['image'], `${object}/Data/Images/Anomaly/000.JPG`);
    assert.equal(anomalies[0]?.values['mask'], `${object}/Data/Masks/Anomaly/000.png`);
    const ids = Object.keys(classes[object] as Record<string, string>).map(Number);
    for (const r of anomalies) {
      const meta = await sharp(join(root, r.values['image'] as string)).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, SIZE);
      const maskPath = join(root, r.values['mask'] as string);
      assert.equal((await sharp(maskPath).metadata()).channels, 1, 'masks are single-channel');
      const data = await sharp(maskPath).extractChannel(0).raw().toBuffer();
      const values = new Set(data);
      assert.ok(values.has(0) && values.size >= 2, 'a mask holds background and at least one defect id');
      for (const v of values) assert.ok(ids.includes(v), `mask value ${v} is not a class id of ${object}`);
    }
  }
  assert.equal((await openDataset(root)).layout, 'raw-visa');
});

test('split CSVs follow the three protocols: counts per object, every image once, masks only for anomalies', async () => {
  for (const protocol of SPLIT_TYPES) {
    const rows = await readCsv(join(root, 'split_csv', `${protocol}.csv`), ['object', 'split', 'label', 'image', 'mask']);
    assert.equal(rows.length, 3 * (N + M));
    assert.equal(new Set(rows.map((r) => r.values['image'])).size, rows.length, 'each image once');
    const rule = SPLIT_RULES[protocol];
    for (const object of ['board', 'pills', 'tealight']) {
      const count = (split: string, label: string): number => rows.filter((r) => r.values['object'] === object && r.values['split'] === split && r.values['label'] === label).length;
      assert.equal(count('train', 'normal'), trainCount(rule.normal, N, 'normal'), `${protocol} ${object} train normal`);
      assert.equal(count('test', 'normal'), N - trainCount(rule.normal, N, 'normal'));
      assert.equal(count('train', 'anomaly'), trainCount(rule.anomaly, M, 'anomaly'));
      assert.equal(count('test', 'anomaly'), M - trainCount(rule.anomaly, M, 'anomaly'));
    }
    assert.ok(rows.every((r) => (r.values['label'] === 'anomaly') === (r.values['mask'] !== '')));
    // the dataset reader takes the same split file and finds every file
    const ds = await readRawVisa(root, { split: protocol });
    assert.equal(ds.samples.filter((s) => s.split === 'train').length, rows.filter((r) => r.values['split'] === 'train').length);
  }
  // protocol fractions as published: 1cls 9 of 10 normals train, 0 anomalies; fewshot 2 and 1 (round(0.2 × 7) = 1)
  const one = await readRawVisa(root, { split: '1cls', objects: ['pills'] });
  assert.equal(one.samples.filter((s) => s.split === 'train').length, 9);
  const few = await readRawVisa(root, { split: '2cls_fewshot', objects: ['pills'] });
  assert.equal(few.samples.filter((s) => s.split === 'train' && s.label === 'anomaly').length, 1);
});

test('after JPEG, an anomalous image still equals its twin outside the mask (beyond the JPEG blocks it touches)', async () => {
  for (const name of ['board', 'pills', 'tealight']) {
    const object = SYNTH_OBJECTS[name] as SynthObject;
    const plan = defectPlan(object, SEED, M);
    for (const i of [0, 3]) {
      const stem = String(i).padStart(3, '0');
      const file = readFileSync(join(root, name, 'Data/Images/Anomaly', `${stem}.JPG`));
      const r = renderSample(object, { seed: SEED, size: SIZE, index: i, defects: plan[i] as number[] });
      // the file is exactly the internal API's image, encoded
      assert.deepEqual(new Uint8Array(file), await encodeJpeg(r.image, SIZE, SIZE));
      const decoded = await sharp(file).raw().toBuffer();
      const twin = await sharp(await encodeJpeg(r.twin, SIZE, SIZE)).raw().toBuffer();
      const mask = await sharp(join(root, name, 'Data/Masks/Anomaly', `${stem}.png`)).extractChannel(0).raw().toBuffer();
      assert.equal(mask.length, SIZE * SIZE);
      // 4:2:0 JPEG codes 16×16 blocks independently; the decoder's chroma upsampling reads one
      // chroma sample (2 pixels) into the neighbouring block. Outside that, pixels are identical.
      const touched = new Uint8Array(SIZE * SIZE);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          if (!mask[y * SIZE + x]) continue;
          const bx = Math.floor(x / 16) * 16;
          const by = Math.floor(y / 16) * 16;
          for (let yy = Math.max(0, by - 2); yy < Math.min(SIZE, by + 18); yy++) for (let xx = Math.max(0, bx - 2); xx < Math.min(SIZE, bx + 18); xx++) touched[yy * SIZE + xx] = 1;
        }
      }
      let outside = 0;
      let differs = 0;
      for (let p = 0; p < SIZE * SIZE; p++) {
        const same = decoded[p * 3] === twin[p * 3] && decoded[p * 3 + 1] === twin[p * 3 + 1] && decoded[p * 3 + 2] === twin[p * 3 + 2];
        if (!touched[p]) {
          outside++;
          assert.ok(same, `${name} ${stem}: pixel ${p} differs from the twin away from the mask`);
        } else if (mask[p] && !same) differs++;
      }
      assert.ok(outside > SIZE * SIZE * 0.3, 'most of the image is away from the defect');
      assert.ok(differs > 0);
    }
  }
});

test('bad options are usage errors; a folder that is not a synth dataset is never replaced', async () => {
  await assert.rejects(generateSynthDataset({ out: join(dir, 'x'), size: 32 }), (e: unknown) => isSpotdiffError(e, 'ERR_USAGE') && /--size/.test(e.message));
  await assert.rejects(generateSynthDataset({ out: join(dir, 'x'), objects: ['board', 'toaster'] }), (e: unknown) => isSpotdiffError(e, 'ERR_USAGE') && /toaster/.test(e.message) && /tealight/.test(e.message));
  await assert.rejects(generateSynthDataset({ out: join(dir, 'x'), normal: 0 }), (e: unknown) => isSpotdiffError(e, 'ERR_USAGE'));
  const mine = join(dir, 'precious');
  mkdirSync(mine);
  writeFileSync(join(mine, 'notes.txt'), 'keep me');
  await assert.rejects(generateSynthDataset({ out: mine, normal: 2, anomalous: 1, size: 64 }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /refusing/.test(e.message));
  assert.equal(readFileSync(join(mine, 'notes.txt'), 'utf8'), 'keep me');
  // an earlier synth dataset is replaced as a whole
  const again = join(dir, 'again');
  await generateSynthDataset({ out: again, normal: 2, anomalous: 1, size: 64, objects: ['pills', 'board'], threads: 0 });
  await generateSynthDataset({ out: again, normal: 2, anomalous: 1, size: 64, objects: ['tealight'], threads: 0 });
  assert.ok(existsSync(join(again, 'tealight')) && !existsSync(join(again, 'pills')));
});
