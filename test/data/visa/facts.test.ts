import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { defaultSplitFile, defectClassesFile, officialSplitFile, paperResultsFile, visaFactsDir } from '../../../src/data/visa/facts.js';
import { SPLIT_TYPES } from '../../../src/data/visa/split-csv.js';
import { repoRoot, tempDir } from '../../helpers/tmp.js';
import { writeText } from '../fixtures.js';

const shipped = (): string[] => [...SPLIT_TYPES.map(officialSplitFile), defectClassesFile, paperResultsFile];

test('the VisA facts resolve to data/visa/ of the package root, from the compiled code', () => {
  assert.equal(visaFactsDir.replace(/\/$/, ''), join(repoRoot, 'data', 'visa'));
  for (const f of shipped()) assert.ok(existsSync(f), f);
  assert.equal(readFileSync(officialSplitFile('1cls'), 'utf8').split('\r\n')[0], 'object,split,label,image,mask');
});

test('the npm package carries the facts where the compiled code looks for them', () => {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as [{ files: { path: string }[] }];
  const packed = new Set(pack.files.map((f) => f.path));
  for (const f of shipped()) assert.ok(packed.has(relative(repoRoot, f)), `${relative(repoRoot, f)} is in the package`);
});

test("the default split file is the dataset's own split_csv/<type>.csv, else the shipped one", async () => {
  const root = tempDir();
  writeText(join(root, 'split_csv', '1cls.csv'), 'object,split,label,image,mask\r\n');
  assert.equal(await defaultSplitFile(root, '1cls'), join(root, 'split_csv', '1cls.csv'));
  assert.equal(await defaultSplitFile(root, '2cls_fewshot'), officialSplitFile('2cls_fewshot'));
});
