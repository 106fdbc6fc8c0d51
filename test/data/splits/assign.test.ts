import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignSplit, type ObjectImages, type SplitEntry } from '../../../src/data/splits/assign.js';
import { SPLIT_TYPES } from '../../../src/data/visa/split-csv.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

function product(object: string, normals: number, anomalies: number): ObjectImages {
  return {
    object,
    normal: Array.from({ length: normals }, (_, i) => `${object}/good/${String(i).padStart(3, '0')}.png`),
    anomaly: Array.from({ length: anomalies }, (_, i) => ({ image: `${object}/bad/a${i}.png`, mask: `${object}/masks/a${i}.png` })),
  };
}

const objects = [product('widget', 37, 11), product('gear', 10, 5), product('bolt', 500, 100)];

function count(rows: readonly SplitEntry[], object: string, split: string, label: string): number {
  return rows.filter((r) => r.object === object && r.split === split && r.label === label).length;
}

test('train/test counts per object and class follow each rule (round half to even, one per side)', () => {
  // [widget, gear, bolt] x [train normal, train anomaly, test normal, test anomaly], worked out by hand from the rules.
  const expected = {
    '1cls': { widget: [33, 0, 4, 11], gear: [9, 0, 1, 5], bolt: [450, 0, 50, 100] },
    '2cls_highshot': { widget: [22, 7, 15, 4], gear: [6, 3, 4, 2], bolt: [300, 60, 200, 40] },
    '2cls_fewshot': { widget: [7, 2, 30, 9], gear: [2, 1, 8, 4], bolt: [100, 20, 400, 80] },
  };
  for (const type of SPLIT_TYPES) {
    const rows = assignSplit(objects, type, 7);
    for (const [object, want] of Object.entries(expected[type])) {
      const got = [count(rows, object, 'train', 'normal'), count(rows, object, 'train', 'anomaly'), count(rows, object, 'test', 'normal'), count(rows, object, 'test', 'anomaly')];
      assert.deepEqual(got, want, `${type} ${object}`);
    }
    const listed = rows.map((r) => r.image).sort();
    const all = objects.flatMap((o) => [...o.normal, ...o.anomaly.map((a) => a.image)]).sort();
    assert.deepEqual(listed, all, `${type}: every image exactly once`);
    for (const r of rows) assert.equal(r.mask, r.label === 'anomaly' ? r.image.replace('/bad/', '/masks/') : null);
  }
});

test('rows come in the official order: objects by name; train normal, train anomaly, test normal, test anomaly; paths sorted within', () => {
  const rows = assignSplit(objects, '2cls_highshot', 1);
  const groups: string[] = [];
  for (const r of rows) {
    const g = `${r.object} ${r.split} ${r.label}`;
    if (groups[groups.length - 1] !== g) groups.push(g);
  }
  assert.deepEqual(groups, ['bolt', 'gear', 'widget'].flatMap((o) => [`${o} train normal`, `${o} train anomaly`, `${o} test normal`, `${o} test anomaly`]));
  for (const g of groups) {
    const paths = rows.filter((r) => `${r.object} ${r.split} ${r.label}` === g).map((r) => r.image);
    assert.deepEqual(paths, [...paths].sort(), g);
  }
});

test('same seed, same split whatever the listing order; another seed, another split', () => {
  const a = assignSplit(objects, '2cls_fewshot', 3);
  const reversed = objects.map((o) => ({ ...o, normal: [...o.normal].reverse(), anomaly: [...o.anomaly].reverse() })).reverse();
  assert.deepEqual(assignSplit(reversed, '2cls_fewshot', 3), a);
  const train = (rows: readonly SplitEntry[]): string[] => rows.filter((r) => r.split === 'train').map((r) => r.image);
  const b = assignSplit(objects, '2cls_fewshot', 4);
  assert.notDeepEqual(train(b), train(a));
  assert.equal(train(b).length, train(a).length);
});

test('one object or class does not shift another: adding an object leaves the others as they were', () => {
  const before = assignSplit(objects, '2cls_highshot', 9);
  const after = assignSplit([...objects, product('nut', 20, 6)], '2cls_highshot', 9);
  assert.deepEqual(after.filter((r) => r.object !== 'nut'), before);
});

test('a product too small for the rule names the object and class', () => {
  assert.throws(() => assignSplit([product('widget', 10, 1)], '2cls_fewshot', 0), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /^widget anomaly: 1 image\(s\) is too few/.test(e.message));
  assert.throws(() => assignSplit([product('gear', 10, 0)], '1cls', 0), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /^gear anomaly: 0 image\(s\)/.test(e.message));
  assert.throws(() => assignSplit([product('nut', 1, 3)], '1cls', 0), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /^nut normal: 1 image\(s\) is too few for a 90% train/.test(e.message));
});
