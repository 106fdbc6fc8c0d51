import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { SPLIT_RULES } from '../../../src/data/splits/rules.js';
import { roundHalfEven, trainCount } from '../../../src/data/splits/train-count.js';
import { officialSplitFile } from '../../../src/data/visa/facts.js';
import { SPLIT_TYPES } from '../../../src/data/visa/split-csv.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

/** Per object and label: how many images the published split file has, and how many of them train (plain split: the files hold no quotes). */
async function officialCounts(type: (typeof SPLIT_TYPES)[number]): Promise<Map<string, { n: number; train: number }>> {
  const text = await readFile(officialSplitFile(type), 'utf8');
  const counts = new Map<string, { n: number; train: number }>();
  for (const line of text.split('\r\n').slice(1)) {
    if (line === '') continue;
    const [object, split, label] = line.split(',') as [string, string, string];
    const c = counts.get(`${object} ${label}`) ?? { n: 0, train: 0 };
    c.n++;
    if (split === 'train') c.train++;
    counts.set(`${object} ${label}`, c);
  }
  return counts;
}

test('the rule table and the rounding reproduce every per-object, per-class train count of the three official VisA split files', async () => {
  for (const type of SPLIT_TYPES) {
    const counts = await officialCounts(type);
    assert.equal(counts.size, 24, `${type}: 12 objects x 2 classes`);
    for (const [key, { n, train }] of counts) {
      const fraction = key.endsWith(' normal') ? SPLIT_RULES[type].normal : SPLIT_RULES[type].anomaly;
      assert.equal(trainCount(fraction, n, key), train, `${type} ${key}: ${n} images`);
    }
  }
  // The one tie in the published files: rounding half up would give 905.
  assert.equal((await officialCounts('1cls')).get('pcb4 normal')?.train, 904);
  assert.equal(Math.round(0.9 * 1005), 905);
});

test('the rules: 1cls trains on 90% of the normals only; 2cls on 60% / 20% of both classes', () => {
  assert.deepEqual(
    Object.fromEntries(SPLIT_TYPES.map((t) => [t, [SPLIT_RULES[t].normal, SPLIT_RULES[t].anomaly]])),
    { '1cls': [0.9, 0], '2cls_highshot': [0.6, 0.6], '2cls_fewshot': [0.2, 0.2] },
  );
  for (const t of SPLIT_TYPES) assert.match(SPLIT_RULES[t].source, /paper Sec\. 4/);
});

test('roundHalfEven: nearest integer, ties to even (as Python round)', () => {
  assert.deepEqual([0.4, 0.5, 1.5, 2.5, 2.6, 3.5, 904.5, 7].map(roundHalfEven), [0, 0, 2, 2, 3, 4, 904, 7]);
});

test('small classes keep one image on each side the rule gives a share to', () => {
  assert.equal(trainCount(0.2, 2, 'x'), 1, '0.4 rounds to 0, raised to 1 train');
  assert.equal(trainCount(0.9, 2, 'x'), 1, '1.8 rounds to 2, lowered to leave 1 test');
  assert.equal(trainCount(0.6, 3, 'x'), 2);
  assert.equal(trainCount(0.2, 3, 'x'), 1);
  assert.equal(trainCount(0, 1, 'x'), 0, '1cls anomalies: one is enough, it tests');
  assert.equal(trainCount(0, 40, 'x'), 0);
});

test('a class too small for the rule is a clear error', () => {
  const tooFew = (fraction: number, n: number, what: string, message: RegExp): void => {
    assert.throws(() => trainCount(fraction, n, what), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && message.test(e.message));
  };
  tooFew(0.2, 1, 'widget anomaly', /^widget anomaly: 1 image\(s\) is too few for a 20% train \/ 80% test split \(it needs at least 2: one train and one test image\)$/);
  tooFew(0.6, 0, 'gear normal', /gear normal: 0 image\(s\) is too few .* at least 2/);
  tooFew(0, 0, 'widget anomaly', /widget anomaly: 0 image\(s\) is too few for a 0% train \/ 100% test split \(it needs at least 1: one test image\)/);
});
