import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSplitCsv, writeSplitCsv } from '../../../src/data/splits/split-file.js';
import type { SplitEntry } from '../../../src/data/splits/assign.js';
import { officialSplitFile } from '../../../src/data/visa/facts.js';
import { parseSplitCsv, SPLIT_TYPES } from '../../../src/data/visa/split-csv.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir();

const rows: SplitEntry[] = [
  { object: 'widget', split: 'train', label: 'normal', image: 'widget/good/0.png', mask: null },
  { object: 'widget', split: 'train', label: 'anomaly', image: 'widget/bad/1.png', mask: 'widget/masks/1.png' },
  { object: 'widget', split: 'test', label: 'normal', image: 'widget/good/2.png', mask: null },
  { object: 'widget', split: 'test', label: 'anomaly', image: 'widget/bad/3.png', mask: 'widget/masks/3_mask.png' },
];

test('formatting the rows of each official VisA split file gives the published file back, byte for byte (CRLF, empty masks)', async () => {
  for (const type of SPLIT_TYPES) {
    const text = await readFile(officialSplitFile(type), 'utf8');
    const parsed = parseSplitCsv(text, type);
    assert.equal(parsed.length, 10821);
    assert.equal(formatSplitCsv(parsed.map(({ line: _line, ...entry }) => entry)), text, type);
  }
});

test('a field with a comma or a quote is quoted and reads back as it was', () => {
  const odd: SplitEntry = { object: 'widget', split: 'test', label: 'anomaly', image: 'widget/bad/a,"b".png', mask: 'widget/masks/a,"b".png' };
  const text = formatSplitCsv([odd]);
  assert.equal(text, 'object,split,label,image,mask\r\nwidget,test,anomaly,"widget/bad/a,""b"".png","widget/masks/a,""b"".png"\r\n');
  const [back] = parseSplitCsv(text, 'odd.csv');
  assert.deepEqual({ ...back, line: undefined }, { ...odd, line: undefined });
});

test('writeSplitCsv writes the file; an existing file is refused and left as it is unless overwrite is asked', async () => {
  const path = join(dir, 'widget.csv');
  await writeSplitCsv(path, rows, '2cls_highshot');
  assert.equal(await readFile(path, 'utf8'), formatSplitCsv(rows));
  await writeFile(path, 'mine\n');
  await assert.rejects(writeSplitCsv(path, rows, '2cls_highshot'), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /widget\.csv already exists; it was left as it is/.test(e.message));
  assert.equal(await readFile(path, 'utf8'), 'mine\n');
  await writeSplitCsv(path, rows, '2cls_highshot', { overwrite: true });
  assert.equal(await readFile(path, 'utf8'), formatSplitCsv(rows));
  assert.deepEqual((await readdir(dir)).filter((n) => n.includes('.tmp-')), [], 'no temporary left');
});

test('rows prepare would refuse are refused before anything is written', async () => {
  const path = join(dir, 'bad.csv');
  const anomalousTrain = rows.filter((r) => r.split === 'train');
  await assert.rejects(writeSplitCsv(path, anomalousTrain, '1cls'), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /1cls trains on normal images only/.test(e.message));
  const sameName: SplitEntry[] = [
    ...rows,
    { object: 'widget', split: 'test', label: 'anomaly', image: 'widget/bad/rust/3.png', mask: 'widget/masks/rust/3.png' },
  ];
  await assert.rejects(
    writeSplitCsv(path, sameName, '2cls_fewshot'),
    (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /widget\/bad\/rust\/3\.png: name collision: prepares to "widget\/test\/bad\/3\.png", as widget\/bad\/3\.png does/.test(e.message) && /nothing was written/.test(e.message),
  );
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('bad')), []);
});
