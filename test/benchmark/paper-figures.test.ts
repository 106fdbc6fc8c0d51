import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { paperResultsFile } from '../../src/data/visa/facts.js';
import { paperMeans } from '../../src/benchmark/paper-figures.js';
import { benchmarkProtocol } from '../../src/benchmark/protocol.js';

type Table = Record<string, number[]> & { columns: string[] };
const tables = JSON.parse(readFileSync(paperResultsFile, 'utf8')) as Record<string, Table>;

test('paperMeans: the rows named like the paper\'s, case-insensitive, from the protocol\'s table and columns', () => {
  const ref = benchmarkProtocol('2cls-5shot').paper('');
  const p = paperMeans(undefined, ref, ['Supervised', 'simsiam+spd', 'mine'], ['candle', 'pcb4']);
  assert.ok(p !== null);
  assert.deepEqual(Object.keys(p.rows), ['Supervised', 'simsiam+spd']);
  const t4 = tables['table4_2class_lowshot_visa']!;
  const col = (row: string, c: string): number => t4[row]![t4.columns.indexOf(c)]! / 100;
  assert.deepEqual(p.rows['simsiam+spd'], { 'image.aupr': col('simsiam+spd', 'cls5_aupr'), 'image.auroc': col('simsiam+spd', 'cls5_auroc'), 'pixel.aupr': col('simsiam+spd', 'seg5_aupr'), 'pixel.auroc': col('simsiam+spd', 'seg5_auroc') });
  assert.equal(p.rows['Supervised']!['pixel.auroc'], col('supervised', 'seg5_auroc'));
  const ten = paperMeans(undefined, benchmarkProtocol('2cls-10shot').paper(''), ['moco'], ['candle']);
  assert.equal(ten!.rows['moco']!['image.aupr'], col('moco', 'cls10_aupr'));
  const one = paperMeans(undefined, benchmarkProtocol('1cls').paper('patchcore'), ['supervised+spd', 'simsiam'], ['candle']);
  assert.deepEqual(Object.keys(one!.rows), ['supervised+spd'], 'Table 6 has supervised rows only');
});

test('paperMeans: null off VisA, without a matching row, without a published table or without the file', () => {
  const ref = benchmarkProtocol('2cls-highshot').paper('');
  assert.equal(paperMeans(undefined, ref, ['supervised'], ['pills']), null);
  assert.equal(paperMeans(undefined, ref, ['mine'], ['candle']), null);
  assert.equal(paperMeans(undefined, null, ['supervised'], ['candle']), null);
  assert.equal(paperMeans(join(tempDir(), 'absent.json'), ref, ['supervised'], ['candle']), null);
});
