import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isSpotdiffError } from '../../src/util/errors.js';
import { paperResultsFile } from '../../src/data/visa/facts.js';
import { benchmarkProtocol, PROTOCOL_NAMES, runFitOptions } from '../../src/benchmark/protocol.js';

test('protocols: split folder, methods per column and run options as the paper\'s Tables 2-4', () => {
  const one = benchmarkProtocol('1cls');
  assert.equal(one.splitType, '1cls');
  assert.deepEqual(one.jobs('padim'), [{ method: 'padim', metrics: ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc'] }]);
  assert.throws(() => one.jobs(undefined), (e) => isSpotdiffError(e, 'ERR_USAGE'));
  assert.equal(one.defaultRuns, 1);
  const high = benchmarkProtocol('2cls-highshot');
  assert.equal(high.splitType, '2cls_highshot');
  assert.deepEqual(high.jobs(undefined).map((j) => [j.method, j.metrics]), [['classifier', ['image.aupr', 'image.auroc']], ['segmenter', ['pixel.aupr', 'pixel.auroc']]]);
  assert.deepEqual(runFitOptions(high, 0), { protocol: 'high-shot' });
  assert.equal(high.draws, false);
  for (const [name, shots] of [['2cls-5shot', 5], ['2cls-10shot', 10]] as const) {
    const p = benchmarkProtocol(name);
    assert.equal(p.splitType, '2cls_fewshot');
    assert.equal(p.defaultRuns, 5);
    assert.equal(p.draws, true);
    assert.deepEqual(runFitOptions(p, 3, { iterations: 7, lr: 0.01 }), { protocol: 'few-shot', shots, run: 3, iterations: 7, lr: 0.01 });
  }
});

test('protocols: unknown names, bad run indices and overrides of the protocol\'s own keys are refused', () => {
  assert.throws(() => benchmarkProtocol('2cls'), (e) => isSpotdiffError(e, 'ERR_USAGE') && /1cls, 2cls-highshot, 2cls-5shot, 2cls-10shot/.test(e.message));
  const p = benchmarkProtocol('2cls-5shot');
  assert.throws(() => runFitOptions(p, 0, { shots: 10 }), /sets shots itself/);
  assert.throws(() => runFitOptions(p, -1), /non-negative integer/);
});

test('protocols: every published table and column they name is in paper_results.json', () => {
  const all = JSON.parse(readFileSync(paperResultsFile, 'utf8')) as Record<string, { columns: string[] }>;
  for (const name of PROTOCOL_NAMES) {
    for (const method of ['padim', 'patchcore', 'classifier']) {
      const ref = benchmarkProtocol(name).paper(method);
      if (ref === null) continue;
      assert.ok(all[ref.table] !== undefined, ref.table);
      for (const c of ref.columns) assert.ok(all[ref.table]!.columns.includes(c), `${ref.table}.${c}`);
    }
  }
  assert.equal(benchmarkProtocol('1cls').paper('other'), null);
  assert.deepEqual(benchmarkProtocol('2cls-10shot').paper('')!.columns, ['cls10_aupr', 'cls10_auroc', 'seg10_aupr', 'seg10_auroc']);
});
