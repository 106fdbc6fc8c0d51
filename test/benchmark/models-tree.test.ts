import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { benchmarkModelPath, checkModelsTree } from '../../src/benchmark/models-tree.js';

const leaves = (root: string): string[] => ['pills', 'tealight'].map((object) => benchmarkModelPath(root, { protocol: '2cls-5shot', row: 'r', object, method: 'segmenter', run: 0 }));

test('checkModelsTree: a missing root, empty folders and an earlier run\'s model folders pass', async () => {
  const root = tempDir();
  await checkModelsTree(join(root, 'new'), leaves(join(root, 'new')));
  const leaf = leaves(root)[0]!;
  mkdirSync(leaf, { recursive: true });
  writeFileSync(join(leaf, 'model.json'), JSON.stringify({ format: 'spotdiff.model' }));
  mkdirSync(join(root, '1cls', 'other'), { recursive: true });
  await checkModelsTree(root, leaves(root));
});

test('checkModelsTree: a file on the way or beside the model folders, or a foreign folder in a model\'s place, is refused', async () => {
  for (const where of [[], ['2cls-5shot', 'r'], ['2cls-5shot', 'r', 'pills', 'segmenter']]) {
    const root = tempDir();
    mkdirSync(join(root, ...where), { recursive: true });
    writeFileSync(join(root, ...where, 'notes.txt'), 'mine');
    await assert.rejects(checkModelsTree(root, leaves(root)), (e) => isSpotdiffError(e, 'ERR_USAGE') && /notes\.txt/.test(e.message), where.join('/'));
  }
  const root = tempDir();
  mkdirSync(join(leaves(root)[1]!, 'photos'), { recursive: true });
  await assert.rejects(checkModelsTree(root, leaves(root)), (e) => isSpotdiffError(e, 'ERR_USAGE') && /run-0/.test(e.message));
});
