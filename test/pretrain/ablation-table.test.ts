import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ablationRows, formatGap, formatPercent, renderAblationMarkdown, renderAblationText } from '../../src/pretrain/ablation-table.js';
import { isSpotdiffError } from '../../src/util/errors.js';

// The ablation table on hand-made numbers: the gap's sign and rounding, the mean row, absent
// pixel metrics, and both renderings.

test('formatGap: sign, and the difference of the values as shown (not of the unrounded ones)', () => {
  assert.equal(formatGap(0.693, 0.724), '(+3.1)');
  assert.equal(formatGap(0.724, 0.693), '(-3.1)');
  // 70.149 → 70.1 and 72.351 → 72.4: shown difference 2.3, unrounded 2.202
  assert.equal(formatGap(0.70149, 0.72351), '(+2.3)');
  assert.equal(formatPercent(0.70149), '70.1');
  assert.equal(formatPercent(0.72351), '72.4');
  // equal after rounding, either way: +0.0, never -0.0
  assert.equal(formatGap(0.5004, 0.4996), '(+0.0)');
  assert.equal(formatGap(0.5, 0.5), '(+0.0)');
  assert.equal(formatGap(0.7, 0.7004), '(+0.0)');
  // a gap below one point, and two decimals
  assert.equal(formatGap(0.812, 0.807), '(-0.5)');
  // two decimals: 81.23 and 80.78 shown, so -0.45 (unrounded -0.457)
  assert.equal(formatGap(0.81234, 0.80777, 2), '(-0.45)');
  assert.equal(formatPercent(1), '100.0');
  assert.equal(formatPercent(0), '0.0');
  assert.equal(formatPercent(undefined), '-');
});

test('ablationRows: per object, then the mean of each arm over objects and its gap; a metric some object lacks has no mean', () => {
  const rows = ablationRows([
    { object: 'candle', withoutSpd: { 'image.aupr': 0.9, 'image.auroc': 0.8, 'pixel.aupr': 0.2, 'pixel.auroc': 0.95 }, withSpd: { 'image.aupr': 0.92, 'image.auroc': 0.79, 'pixel.aupr': 0.25, 'pixel.auroc': 0.96 } },
    { object: 'pcb1', withoutSpd: { 'image.aupr': 0.7, 'image.auroc': 0.6 }, withSpd: { 'image.aupr': 0.74, 'image.auroc': 0.6 } },
  ]);
  assert.deepEqual(rows.map((r) => r.object), ['candle', 'pcb1', 'mean']);
  const mean = rows[2]!;
  assert.ok(Math.abs(mean.withoutSpd['image.aupr']! - 0.8) < 1e-12);
  assert.ok(Math.abs(mean.withSpd['image.aupr']! - 0.83) < 1e-12);
  assert.ok(Math.abs(mean.gap['image.aupr']! - 0.03) < 1e-12);
  assert.ok(Math.abs(rows[0]!.gap['image.auroc']! + 0.01) < 1e-12);
  assert.equal(rows[0]!.gap['pixel.aupr'] !== undefined, true);
  assert.equal(rows[1]!.gap['pixel.aupr'], undefined);
  assert.equal(mean.withoutSpd['pixel.aupr'], undefined, 'pcb1 has no pixel metrics');

  const text = renderAblationText(rows).split('\n');
  assert.equal(text.length, 1 + 2 * 3);
  assert.match(text[0]!, /^object\s+pre-training\s+image AU-PR\s+image AU-ROC\s+pixel AU-PR\s+pixel AU-ROC$/);
  assert.match(text[1]!, /^candle\s+w\/o SPD\s+90\.0\s+80\.0\s+20\.0\s+95\.0$/);
  assert.match(text[2]!, /^\s+w\/ SPD\s+92\.0 \(\+2\.0\)\s+79\.0 \(-1\.0\)\s+25\.0 \(\+5\.0\)\s+96\.0 \(\+1\.0\)$/);
  assert.match(text[4]!, /^\s+w\/ SPD\s+74\.0 \(\+4\.0\)\s+60\.0 \(\+0\.0\)\s+-\s+-$/);
  assert.match(text[6]!, /^\s+w\/ SPD\s+83\.0 \(\+3\.0\)\s+69\.5 \(-0\.5\)\s+-\s+-$/);
  // columns line up: every line is as long as the header (the last column is right-aligned)
  assert.ok(text.every((l) => l.length === text[0]!.length), text.join('\n'));

  const md = renderAblationMarkdown(rows).split('\n');
  assert.equal(md[0], '| object | pre-training | image AU-PR | image AU-ROC | pixel AU-PR | pixel AU-ROC |');
  assert.equal(md[1], '| --- | --- | ---: | ---: | ---: | ---: |');
  assert.equal(md[2], '| candle | w/o SPD | 90.0 | 80.0 | 20.0 | 95.0 |');
  assert.equal(md[3], '| candle | w/ SPD | 92.0 (+2.0) | 79.0 (-1.0) | 25.0 (+5.0) | 96.0 (+1.0) |');
  assert.equal(md[6], '| **mean** | w/o SPD | 80.0 | 70.0 | - | - |');
  assert.equal(md[7], '| **mean** | w/ SPD | 83.0 (+3.0) | 69.5 (-0.5) | - | - |');
});

test('ablationRows refuses no objects and an object named like the mean row', () => {
  assert.throws(() => ablationRows([]), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
  assert.throws(() => ablationRows([{ object: 'mean', withoutSpd: {}, withSpd: {} }]), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /mean/.test(e.message));
});
