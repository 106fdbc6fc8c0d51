import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseSplitCsv, unsafeRelativePath, validateSplitRows, SPLIT_TYPES } from '../../../src/data/visa/split-csv.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { officialSplitFile } from '../../../src/data/visa/facts.js';

test('the three official split files parse cleanly: 10,821 rows each, the published class counts', () => {
  // Counts per split and label, read off the published files with a plain line split (they hold
  // no quotes), independently of the parser under test.
  for (const type of SPLIT_TYPES) {
    const text = readFileSync(officialSplitFile(type), 'utf8');
    const rows = parseSplitCsv(text, `${type}.csv`, type);
    const lines = text.split(/\r?\n/).slice(1).filter((l) => l !== '');
    assert.equal(rows.length, 10821);
    assert.equal(rows.length, lines.length);
    const count = (split: string, label: string): number => lines.filter((l) => l.split(',')[1] === split && l.split(',')[2] === label).length;
    for (const split of ['train', 'test'] as const) {
      for (const label of ['normal', 'anomaly'] as const) {
        assert.equal(rows.filter((r) => r.split === split && r.label === label).length, count(split, label), `${type} ${split} ${label}`);
      }
    }
    assert.equal(rows.filter((r) => r.label === 'anomaly' && r.mask === null).length, 0);
    assert.equal(rows.filter((r) => r.label === 'normal' && r.mask !== null).length, 0);
  }
});

test('quoted fields, extra columns in any order, CRLF and a BOM are read as CSV', () => {
  const text = '\ufeffmask,extra,image,label,split,object\r\n"a/m,1.png","x ""y""","a/i,1.JPG",anomaly,test,a\r\n,,a/n.JPG,normal,train,a\r\n';
  const rows = parseSplitCsv(text, 't.csv');
  assert.deepEqual(rows, [
    { line: 2, object: 'a', split: 'test', label: 'anomaly', image: 'a/i,1.JPG', mask: 'a/m,1.png' },
    { line: 3, object: 'a', split: 'train', label: 'normal', image: 'a/n.JPG', mask: null },
  ]);
});

test('every row problem is collected with its line; a quoted field spanning lines keeps later line numbers right', () => {
  const header = ['object', 'split', 'label', 'image', 'mask'];
  const { rows, problems } = validateSplitRows(header, [
    { line: 2, fields: ['a', 'train', 'normal', 'a/0.JPG', ''] },
    { line: 3, fields: ['a/b', 'train', 'normal', 'a/1.JPG', ''] },
    { line: 4, fields: ['..', 'TEST', 'Normal', 'a\\2.JPG', ''] },
    { line: 5, fields: ['a', 'test', 'anomaly', 'a/3.JPG', 'C:/m.png'] },
    { line: 6, fields: ['a', 'test', 'anomaly', 'a/4.JPG', 'a/m/'] },
    { line: 7, fields: ['a', 'test', 'anomaly', 'a/5.JPG', 'a/m.png'] },
    { line: 8, fields: ['a', 'test', 'anomaly', 'a/6.JPG', 'a/m.png'] },
  ]);
  assert.deepEqual(rows.map((r) => r.line), [2, 7]);
  assert.deepEqual(problems.map((p) => p.line), [3, 4, 4, 4, 4, 5, 6, 8]);
  assert.match(problems[0]?.message ?? '', /object "a\/b" is not a plain folder name/);
  assert.match(problems[7]?.message ?? '', /duplicate: mask "a\/m\.png" is already used on line 7/);
  const multi = 'object,split,label,image,mask\n"a",train,normal,"a/x\ny.JPG",\na,bogus,normal,a/z.JPG,\n';
  assert.throws(() => parseSplitCsv(multi, 'm.csv'), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_CSV') && /line 4: split "bogus"/.test(e.message));
});

test('unsafe paths: absolute, drive letters, .., backslashes, NUL, folders', () => {
  assert.equal(unsafeRelativePath('candle/Data/Images/Normal/0000.JPG'), null);
  assert.equal(unsafeRelativePath('./candle/x..y.JPG'), null);
  for (const p of ['/abs.JPG', 'C:/x.JPG', 'a/../../x.JPG', '..', 'a\\b.JPG', 'a\0b', 'a/']) assert.notEqual(unsafeRelativePath(p), null, p);
});
