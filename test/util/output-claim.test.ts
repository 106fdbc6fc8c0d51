import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claimOutputFiles, OUTPUT_LEDGER } from '../../src/util/output-claim.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';

const refused = (p: Promise<void>, message: RegExp) => assert.rejects(p, (e: unknown) => isSpotdiffError(e, 'ERR_USAGE') && message.test((e as Error).message));

test('a writer may claim new names and, on a rerun, the files it wrote before', async () => {
  const dir = join(tempDir(), 'out');
  await claimOutputFiles(dir, 'spotdiff predict', ['a.mask.png', 'sub/b.mask.png']);
  writeFileSync(join(dir, 'a.mask.png'), 'written by predict');
  await claimOutputFiles(dir, 'spotdiff predict', ['a.mask.png', 'c.mask.png']);
  const ledger = JSON.parse(readFileSync(join(dir, OUTPUT_LEDGER), 'utf8')) as { files: string[] };
  assert.deepEqual(ledger.files, ['a.mask.png', 'c.mask.png', 'sub/b.mask.png']);
});

test('a file the writer did not write is refused, and so is a ledger that is not its own', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.mask.png'), 'the user\'s');
  await refused(claimOutputFiles(dir, 'spotdiff predict', ['b.mask.png', 'a.mask.png']), /already holds a\.mask\.png, not written by spotdiff predict/);
  assert.equal(readFileSync(join(dir, 'a.mask.png'), 'utf8'), 'the user\'s');
  const other = join(dir, 'other');
  mkdirSync(other);
  writeFileSync(join(other, OUTPUT_LEDGER), 'not json');
  await refused(claimOutputFiles(other, 'spotdiff predict', ['x.png']), /is not a list of files written by spotdiff predict/);
});
