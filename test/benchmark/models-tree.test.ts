import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { benchmarkModelPath, benchmarkResultsPath, checkModelsTree } from '../../src/benchmark/models-tree.js';

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

test('checkModelsTree: the results record and each model\'s work folder are the benchmark\'s own; a checkpoint needs resume; anything else there is refused', async () => {
  const root = tempDir();
  const [leaf] = leaves(root) as [string];
  const work = `${leaf}.work`;
  const extras = { files: [benchmarkResultsPath(root, '2cls-5shot')], workFolders: [work] };
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'log.jsonl'), '');
  writeFileSync(extras.files[0]!, '');
  writeFileSync(join(root, '2cls-5shot', '.results.jsonl.tmp-12-0123abcd'), '');
  await checkModelsTree(root, leaves(root), extras);
  await assert.rejects(checkModelsTree(root, leaves(root)), (e) => isSpotdiffError(e, 'ERR_USAGE') && /results\.jsonl/.test(e.message), 'unknown without extras');
  writeFileSync(join(work, 'checkpoint.safetensors'), '');
  await assert.rejects(checkModelsTree(root, leaves(root), extras), (e) => isSpotdiffError(e, 'ERR_USAGE') && /checkpoint of an interrupted fit/.test(e.message));
  await checkModelsTree(root, leaves(root), { ...extras, resume: true });
  mkdirSync(join(dirname(leaf), 'other.work'));
  writeFileSync(join(dirname(leaf), 'other.work', 'log.jsonl'), '');
  await assert.rejects(checkModelsTree(root, leaves(root), { ...extras, resume: true }), (e) => isSpotdiffError(e, 'ERR_USAGE') && /other\.work/.test(e.message), 'a work folder of no planned model');
});
