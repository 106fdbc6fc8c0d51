import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { protocolDataFolder } from '../../src/benchmark/protocol-data.js';

test('protocolDataFolder: the prepare root gives its split folder; the split folder itself is taken as is', async () => {
  const root = tempDir();
  for (const s of ['1cls', '2cls_fewshot']) mkdirSync(join(root, s));
  assert.equal(await protocolDataFolder(root, '2cls_fewshot'), join(root, '2cls_fewshot'));
  assert.equal(await protocolDataFolder(root, '1cls'), join(root, '1cls'));
  assert.equal(await protocolDataFolder(join(root, '2cls_fewshot'), '2cls_fewshot'), join(root, '2cls_fewshot'));
});

test('protocolDataFolder: another split, a folder without the split and a missing folder are refused', async () => {
  const root = tempDir();
  mkdirSync(join(root, '1cls'));
  await assert.rejects(protocolDataFolder(join(root, '1cls'), '2cls_highshot'), (e) => isSpotdiffError(e, 'ERR_USAGE') && /it is the 1cls split/.test(e.message));
  await assert.rejects(protocolDataFolder(root, '2cls_highshot'), (e) => isSpotdiffError(e, 'ERR_USAGE') && /holding 2cls_highshot\//.test(e.message));
  await assert.rejects(protocolDataFolder(join(root, 'absent'), '1cls'), (e) => isSpotdiffError(e, 'ERR_NOT_FOUND'));
});
