import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { splitCsvText, tinyJpeg, writeRawTree, type RawRow } from '../data/visa/raw-tree.js';
import { listFiles } from '../data/visa/tree-files.js';
import { scratchDir } from '../data/visa/scratch.js';
import { runCli } from './run-cli.js';

test('spotdiff prepare: usage errors exit 2', async () => {
  const none = await runCli(['prepare', '--data-folder', 'x', '--save-folder', 'y']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--split-type is required/);
  const bad = await runCli(['prepare', '--split-type', '3cls', '--data-folder', 'x', '--save-folder', 'y']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--split-type must be one of 1cls, 2cls_highshot, 2cls_fewshot, got "3cls"/);
  assert.equal((await runCli(['prepare', '--split-type', '1cls', '--bogus'])).code, 2);
  const help = await runCli(['prepare', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--split-file/);
});

test('spotdiff prepare --json: counts per object, split and label; errors exit 1', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'));
  const r = await runCli(['prepare', '--split-type', '2cls_fewshot', '--data-folder', tree.root, '--save-folder', join(dir, 'out'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { outputFolder: string; counts: Record<string, { train: { normal: number; anomaly: number }; test: { normal: number; anomaly: number } }> };
  assert.equal(summary.outputFolder, join(dir, 'out', '2cls_fewshot'));
  // 10 normal and 5 anomalous images per object; 20% of each class trains.
  assert.deepEqual(summary.counts.candle, { train: { normal: 2, anomaly: 1 }, test: { normal: 8, anomaly: 4 } });
  assert.match(r.stderr, /writing 2cls_fewshot/, 'progress on stderr');
  const missing = await runCli(['prepare', '--split-type', '1cls', '--data-folder', join(dir, 'nowhere'), '--save-folder', join(dir, 'out'), '--quiet']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /data folder .*nowhere does not exist/);
});

test('spotdiff prepare with a changed split removes what left it and says how many files it removed', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'), { objects: ['candle'] });
  const args = ['prepare', '--split-type', '1cls', '--data-folder', tree.root, '--save-folder', join(dir, 'out')];
  assert.equal((await runCli(args)).code, 0);
  const rows = tree.rows['1cls'].map((r) => ({ ...r }));
  const moved = rows.find((r) => r.split === 'train') as RawRow;
  moved.split = 'test';
  await writeFile(join(dir, 'changed.csv'), splitCsvText(rows));
  const r = await runCli([...args, '--split-file', join(dir, 'changed.csv')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /1 file\(s\) no longer in the split removed/);
  assert.match(r.stdout, /train 8 normal .*test 2 normal .*; 1 file\(s\) no longer in the split removed/);
  const name = moved.image.split('/').pop() as string;
  const files = await listFiles(join(dir, 'out', '1cls', 'candle'));
  assert.deepEqual(files.filter((f) => f.endsWith(`/${name}`)), [`test/good/${name}`]);
});

test('a run killed mid-copy leaves only complete files; the next run finishes the job', async () => {
  const dir = scratchDir();
  const root = join(dir, 'VisA');
  const total = 3000;
  const jpeg = await tinyJpeg(90, 32);
  await mkdir(join(root, 'obj', 'Data', 'Images', 'Normal'), { recursive: true });
  const rows: RawRow[] = [];
  for (let i = 0; i < total; i++) {
    const image = `obj/Data/Images/Normal/${String(i).padStart(4, '0')}.JPG`;
    await writeFile(join(root, image), jpeg);
    rows.push({ object: 'obj', split: 'train', label: 'normal', image, mask: '' });
  }
  await mkdir(join(root, 'split_csv'));
  await writeFile(join(root, 'split_csv', '1cls.csv'), splitCsvText(rows));
  const out = join(dir, 'out');
  const good = join(out, '1cls', 'obj', 'train', 'good');
  const args = ['prepare', '--split-type', '1cls', '--data-folder', root, '--save-folder', out, '--quiet'];

  const killed = await runCli([...args, '--concurrency', '1'], (child) => {
    const poll = setInterval(() => {
      readdir(good).then(
        (names) => {
          if (names.filter((n) => !n.startsWith('.')).length >= 30) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        },
        () => {},
      );
    }, 2);
    child.on('close', () => clearInterval(poll));
  });
  assert.equal(killed.signal, 'SIGKILL', 'the run was stopped before it finished');
  const visible = (await readdir(good)).filter((n) => !n.startsWith('.'));
  assert.ok(visible.length >= 30 && visible.length < total, `${visible.length} files before the kill`);
  for (const name of visible) assert.ok((await readFile(join(good, name))).equals(jpeg), `${name} is complete`);

  const again = await runCli([...args, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout) as { images: { copied: number; upToDate: number } };
  assert.equal(summary.images.copied + summary.images.upToDate, total);
  assert.ok(summary.images.upToDate >= visible.length, 'complete copies are kept');
  const files = await listFiles(good);
  assert.equal(files.length, total, 'every image, and no temporary file left');
  for (const name of files) assert.ok((await readFile(join(good, name))).equals(jpeg));
});
