import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTable, renderMarkdown, renderText, tableJson } from '../../src/metrics/table.js';
import { isSpotdiffError } from '../../src/util/errors.js';

test('per-object rows and the mean over objects', () => {
  const table = buildTable([
    { object: 'candle', metrics: { aupr: 0.9, auroc: 0.8 } },
    { object: 'pcb1', metrics: { aupr: 0.7, auroc: 0.6 } },
  ]);
  assert.deepEqual(table.metrics, ['aupr', 'auroc']);
  assert.deepEqual(table.rows.map((r) => r.name), ['candle', 'pcb1', 'mean']);
  const mean = table.rows[2]!;
  assert.ok(Math.abs(mean.cells[0]!.mean - 0.8) < 1e-15);
  assert.equal(mean.cells[0]!.std, null);
  assert.equal(renderText(table), ['object  AU-PR  AU-ROC', 'candle   90.0    80.0', 'pcb1     70.0    60.0', 'mean     80.0    70.0'].join('\n'));
  assert.equal(
    renderMarkdown(table, { digits: 2 }),
    ['| object | AU-PR | AU-ROC |', '| --- | ---: | ---: |', '| candle | 90.00 | 80.00 |', '| pcb1 | 70.00 | 60.00 |', '| **mean** | 80.00 | 70.00 |'].join('\n'),
  );
});

test('k-shot runs: mean ± population std per object; the mean row is the std over runs of the per-run object mean', () => {
  const records = [
    { object: 'a', run: 0, metrics: { aupr: 0.5 } },
    { object: 'a', run: 1, metrics: { aupr: 0.7 } },
    { object: 'b', run: 0, metrics: { aupr: 0.9 } },
    { object: 'b', run: 1, metrics: { aupr: 0.9 } },
  ];
  const table = buildTable(records);
  const [a, b, mean] = table.rows;
  assert.ok(Math.abs(a!.cells[0]!.mean - 0.6) < 1e-15);
  assert.ok(Math.abs(a!.cells[0]!.std! - 0.1) < 1e-15); // np.std([0.5, 0.7]) = 0.1
  assert.equal(b!.cells[0]!.std, 0);
  // Per run: (0.5 + 0.9) / 2 = 0.7 and (0.7 + 0.9) / 2 = 0.8 -> 0.75 ± 0.05.
  assert.ok(Math.abs(mean!.cells[0]!.mean - 0.75) < 1e-15);
  assert.ok(Math.abs(mean!.cells[0]!.std! - 0.05) < 1e-15);
  assert.equal(renderText(table).split('\n')[3], 'mean     75.0 ± 5.0'); // aligned under 'a': 60.0 ± 10.0
  const json = tableJson(table);
  assert.deepEqual(json.rows[0], { name: 'a', metrics: { aupr: { mean: 0.6, std: a!.cells[0]!.std, runs: 2 } } });
});

test('a missing metric or no records is a clear error', () => {
  assert.throws(() => buildTable([]), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
  assert.throws(
    () => buildTable([{ object: 'a', metrics: { aupr: 1 } }, { object: 'b', metrics: { auroc: 1 } }]),
    (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /a has no AU-ROC/.test(e.message),
  );
});
