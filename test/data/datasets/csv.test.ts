import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseCsvRows, readCsv } from '../../../src/data/datasets/csv.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeText } from '../fixtures.js';

test('CSV: quotes, escaped quotes, embedded commas and newlines, CRLF, BOM, blank lines', () => {
  const rows = parseCsvRows('\ufeffa,b,c\r\n"x, y","say ""hi""",\r\n\r\n"multi\nline",2,3\n', 't.csv');
  assert.deepEqual(rows, [
    { line: 1, fields: ['a', 'b', 'c'] },
    { line: 2, fields: ['x, y', 'say "hi"', ''] },
    { line: 4, fields: ['multi\nline', '2', '3'] },
  ]);
  assert.deepEqual(parseCsvRows('a,b', 't.csv'), [{ line: 1, fields: ['a', 'b'] }]);
  assert.throws(() => parseCsvRows('a,"b\n', 't.csv'), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_CSV'));
});

test('readCsv checks the header and the field count', async () => {
  const dir = tempDir();
  writeText(join(dir, 'ok.csv'), 'image,label,mask\na.png,normal,\n');
  assert.deepEqual((await readCsv(join(dir, 'ok.csv'), ['image', 'label'])).map((r) => r.values), [{ image: 'a.png', label: 'normal', mask: '' }]);
  writeText(join(dir, 'short.csv'), 'image,label,mask\na.png,normal\n');
  await assert.rejects(readCsv(join(dir, 'short.csv'), ['image']), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_CSV') && /line 2/.test(e.message));
  await assert.rejects(readCsv(join(dir, 'none.csv'), ['image']), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND'));
});
