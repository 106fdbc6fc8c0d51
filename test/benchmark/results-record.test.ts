import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { foldRankRecords, rankRecordFiles, rankRecordPath, readRecordWithRanks, removeRankRecords, RESULTS_RECORD_VERSION, type ResultLine } from '../../src/benchmark/results-record.js';

const line = (object: string, value: number): ResultLine => ({ version: RESULTS_RECORD_VERSION, row: 'r', object, run: 0, method: 'padim', model: join('r', object), modelJsonSha256: 'ab', metrics: { 'image.auroc': value } });
const text = (...lines: ResultLine[]): string => lines.map((l) => JSON.stringify(l) + '\n').join('');

test('rank record files: rank 0 writes the record itself, rank r its own file beside it; found by rank order (10 after 2), other files ignored', async () => {
  const dir = tempDir();
  const record = join(dir, 'results.jsonl');
  assert.equal(rankRecordPath(record, 0), record);
  assert.equal(rankRecordPath(record, 3), join(dir, 'results.rank-3.jsonl'));
  for (const name of ['results.rank-10.jsonl', 'results.rank-2.jsonl', 'results.rank-x.jsonl', 'notes.jsonl']) writeFileSync(join(dir, name), '');
  assert.deepEqual(await rankRecordFiles(record), [join(dir, 'results.rank-2.jsonl'), join(dir, 'results.rank-10.jsonl')]);
});

test('readRecordWithRanks reads the record and every rank file (a rank file\'s line wins; a torn last line dropped with a warning); foldRankRecords leaves the one record', async () => {
  const dir = tempDir();
  const record = join(dir, 'results.jsonl');
  writeFileSync(record, text(line('a', 0.1), line('b', 0.2)));
  writeFileSync(rankRecordPath(record, 1), text(line('b', 0.25)) + '{"version":1,"ro');
  writeFileSync(rankRecordPath(record, 4), text(line('c', 0.3)));
  const warnings: string[] = [];
  const read = await readRecordWithRanks(record, (w) => warnings.push(w));
  assert.deepEqual([...read.values()].map((l) => [l.object, l.metrics['image.auroc']]), [['a', 0.1], ['b', 0.25], ['c', 0.3]]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /results\.rank-1\.jsonl: the last line was cut short/);
  await foldRankRecords(record);
  assert.deepEqual(readdirSync(dir), ['results.jsonl']);
  assert.equal(readFileSync(record, 'utf8'), text(line('a', 0.1), line('b', 0.2), line('b', 0.25), line('c', 0.3)));
  assert.deepEqual(await readRecordWithRanks(record, () => assert.fail('no torn line left')), read);
  writeFileSync(rankRecordPath(record, 2), text(line('d', 0.4)));
  await removeRankRecords(record);
  assert.deepEqual(readdirSync(dir), ['results.jsonl']);
});
