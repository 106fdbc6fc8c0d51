import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset } from '../../src/data/datasets/open.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyImage, writeTinyMask } from '../data/fixtures.js';
import { runCli } from './run-cli.js';

/**
 * A folder dataset of two products: widget (10 normal, 5 anomalous in bad/) and gear (12 normal,
 * 3 + 2 anomalous in bad/dent/ and bad/rust/, masks named <name>_mask.png in masks/<defect>/).
 */
async function folderDataset(root: string): Promise<void> {
  const widget = join(root, 'widget');
  for (let i = 0; i < 10; i++) await writeTinyImage(join(widget, 'good', `${i}.png`), 100 + i);
  for (let i = 0; i < 5; i++) {
    await writeTinyImage(join(widget, 'bad', `b${i}.jpg`), 30 + i);
    await writeTinyMask(join(widget, 'masks', `b${i}.png`), 1 + i);
  }
  const gear = join(root, 'gear');
  for (let i = 0; i < 12; i++) await writeTinyImage(join(gear, 'good', `g${i}.png`), 150 + i);
  for (const [defect, n] of [['dent', 3], ['rust', 2]] as const) {
    for (let i = 0; i < n; i++) {
      await writeTinyImage(join(gear, 'bad', defect, `${defect}${i}.png`), 60 + i);
      await writeTinyMask(join(gear, 'masks', defect, `${defect}${i}_mask.png`));
    }
  }
}

test('spotdiff split: usage errors exit 2; --help shows the rules', async () => {
  const none = await runCli(['split', '--data', 'x', '--out', 'y.csv']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--split-type is required/);
  const bad = await runCli(['split', '--data', 'x', '--split-type', '3cls', '--out', 'y.csv']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--split-type must be one of 1cls, 2cls_highshot, 2cls_fewshot, got "3cls"/);
  assert.equal((await runCli(['split', '--data', 'x', '--split-type', '1cls', '--out', 'y.csv', '--seed', '-1'])).code, 2);
  const help = await runCli(['split', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /60% of the normal and 60% of the anomalous images train/);
});

test('split then prepare: the prepared folder reads back with the rule\'s counts per product and class', async () => {
  const dir = tempDir();
  const data = join(dir, 'products');
  await folderDataset(data);
  const csv = join(dir, 'highshot.csv');
  const s = await runCli(['split', '--data', data, '--split-type', '2cls_highshot', '--seed', '5', '--out', csv]);
  assert.equal(s.code, 0, s.stderr);
  // widget: 10 normal -> 6 / 4, 5 anomalous -> 3 / 2; gear: 12 -> 7 / 5 (7.2), 5 -> 3 / 2.
  assert.match(s.stdout, /train 13 normal \+ 6 anomalous, test 9 normal \+ 4 anomalous \(2 object\(s\)\)/);
  const text = await readFile(csv, 'utf8');
  assert.match(text, /^object,split,label,image,mask\r\ngear,train,normal,gear\/good\/g/);
  assert.match(text, /\r\n$/);
  const p = await runCli(['prepare', '--split-type', '2cls_highshot', '--data-folder', data, '--split-file', csv, '--save-folder', join(dir, 'out'), '--quiet']);
  assert.equal(p.code, 0, p.stderr);
  const ds = await openDataset(join(dir, 'out', '2cls_highshot'));
  assert.equal(ds.layout, 'prepared');
  const count = (object: string, split: string, label: string): number => ds.samples.filter((x) => x.object === object && x.split === split && x.label === label).length;
  const got = Object.fromEntries(['gear', 'widget'].map((o) => [o, [count(o, 'train', 'normal'), count(o, 'train', 'anomaly'), count(o, 'test', 'normal'), count(o, 'test', 'anomaly')]]));
  assert.deepEqual(got, { gear: [7, 3, 5, 2], widget: [6, 3, 4, 2] });
  assert.ok(ds.samples.filter((x) => x.label === 'anomaly').every((x) => x.mask !== null), 'every anomaly found its mask');
  // The split file's train images are the prepared train images.
  const trainInCsv = text.split('\r\n').filter((l) => l.includes(',train,')).map((l) => (l.split(',')[3] as string).split('/').pop()).sort();
  assert.deepEqual(ds.samples.filter((x) => x.split === 'train').map((x) => x.image.split('/').pop()).sort(), trainInCsv);
});

test('same seed, same bytes; another seed, another split; an existing file needs --force', async () => {
  const dir = tempDir();
  const data = join(dir, 'products');
  await folderDataset(data);
  const split = (seed: string, out: string, ...more: string[]) => runCli(['split', '--data', data, '--split-type', '2cls_fewshot', '--seed', seed, '--out', join(dir, out), ...more]);
  assert.equal((await split('1', 'a.csv')).code, 0);
  assert.equal((await split('1', 'b.csv')).code, 0);
  assert.equal((await split('2', 'c.csv')).code, 0);
  const a = await readFile(join(dir, 'a.csv'));
  assert.ok(a.equals(await readFile(join(dir, 'b.csv'))), 'same seed, same bytes');
  assert.notEqual((await readFile(join(dir, 'c.csv'), 'utf8')), a.toString(), 'another seed, another split');
  await writeFile(join(dir, 'mine.csv'), 'my notes\n');
  const refused = await split('1', 'mine.csv');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /mine\.csv already exists; pass --force to replace it/);
  assert.equal(await readFile(join(dir, 'mine.csv'), 'utf8'), 'my notes\n');
  assert.equal((await split('1', 'mine.csv', '--force')).code, 0);
  assert.ok(a.equals(await readFile(join(dir, 'mine.csv'))));
  assert.deepEqual((await readdir(dir)).filter((n) => n.includes('.tmp-')), []);
});

test('a class too small for the rule, and a folder dataset prepared without a split file, are clear errors', async () => {
  const dir = tempDir();
  const p = join(dir, 'tiny');
  await writeTinyImage(join(p, 'good/0.png'));
  await writeTinyImage(join(p, 'good/1.png'));
  await writeTinyImage(join(p, 'bad/2.png'));
  await writeTinyMask(join(p, 'masks/2.png'));
  const small = await runCli(['split', '--data', p, '--split-type', '2cls_fewshot', '--out', join(dir, 'x.csv')]);
  assert.equal(small.code, 1);
  assert.match(small.stderr, /tiny anomaly: 1 image\(s\) is too few for a 20% train \/ 80% test split/);
  assert.deepEqual(await readdir(dir), ['tiny'], 'nothing written');
  const ok = await runCli(['split', '--data', p, '--split-type', '1cls', '--out', join(dir, 'x.csv')]);
  assert.equal(ok.code, 0, ok.stderr);
  const noSplit = await runCli(['prepare', '--split-type', '1cls', '--data-folder', p, '--save-folder', join(dir, 'out'), '--quiet']);
  assert.equal(noSplit.code, 1);
  assert.match(noSplit.stderr, /tiny is a folder dataset .* make a split file for it \(spotdiff split\)/i);
});
