import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutCollisions, objectFolders, preparedPaths } from '../../../src/data/visa/layout.js';
import type { SplitRow } from '../../../src/data/visa/split-csv.js';

const row = (split: SplitRow['split'], label: SplitRow['label'], image: string, mask: string | null, line = 2): SplitRow => ({ line, object: 'pcb1', split, label, image, mask });

test('prepared paths per split type, as the official prepare_data.py writes them', () => {
  const normal = row('train', 'normal', 'pcb1/Data/Images/Normal/0007.JPG', null);
  const bad = row('test', 'anomaly', 'pcb1/Data/Images/Anomaly/012.JPG', 'pcb1/Data/Masks/Anomaly/012.png');
  const trainBad = row('train', 'anomaly', 'pcb1/Data/Images/Anomaly/013.JPG', 'pcb1/Data/Masks/Anomaly/013.png');
  assert.deepEqual(preparedPaths(normal, '1cls'), { image: 'pcb1/train/good/0007.JPG', mask: null });
  assert.deepEqual(preparedPaths(bad, '1cls'), { image: 'pcb1/test/bad/012.JPG', mask: 'pcb1/ground_truth/bad/012.png' });
  assert.deepEqual(preparedPaths(bad, '2cls_highshot'), { image: 'pcb1/test/bad/012.JPG', mask: 'pcb1/ground_truth/test/bad/012.png' });
  assert.deepEqual(preparedPaths(trainBad, '2cls_fewshot'), { image: 'pcb1/train/bad/013.JPG', mask: 'pcb1/ground_truth/train/bad/013.png' });
  // Masks are written as PNG whatever their source extension.
  assert.equal(preparedPaths(row('test', 'anomaly', 'a/1.JPG', 'a/1.bmp'), '1cls').mask, 'pcb1/ground_truth/bad/1.png');
  assert.deepEqual(objectFolders('pcb1', '1cls'), ['pcb1/train/good', 'pcb1/test/good', 'pcb1/test/bad', 'pcb1/ground_truth/bad']);
  assert.equal(objectFolders('pcb1', '2cls_fewshot').length, 6);
});

test('collisions: the official names never collide (NNNN.JPG normal vs NNN.JPG anomalous); real ones are found', () => {
  const official = [
    row('test', 'normal', 'pcb1/Data/Images/Normal/0012.JPG', null, 2),
    row('test', 'anomaly', 'pcb1/Data/Images/Anomaly/012.JPG', 'pcb1/Data/Masks/Anomaly/012.png', 3),
  ];
  assert.deepEqual(layoutCollisions(official, '1cls'), []);
  const clash = [...official, row('test', 'anomaly', 'pcb1/Data/Other/012.JPG', 'pcb1/Data/Other/012.png', 4)];
  assert.deepEqual(layoutCollisions(clash, '2cls_highshot').map((p) => p.line), [4, 4]);
  // 2cls keeps train and test masks apart; the same mask name in both splits is fine there.
  const split = [row('train', 'anomaly', 'a/x/1.JPG', 'a/x/1.png', 2), row('test', 'anomaly', 'a/y/1.JPG', 'a/y/1.png', 3)];
  assert.deepEqual(layoutCollisions(split, '2cls_fewshot'), []);
});
