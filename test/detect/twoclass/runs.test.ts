import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeeds, summarizeRuns } from '../../../src/detect/twoclass/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { pythonJson } from '../../helpers/python.js';

const RUNS = [
  { aupr: 0.61, auroc: 0.85 },
  { aupr: 0.55, auroc: 0.83 },
  { aupr: 0.7, auroc: 0.9 },
  { aupr: 0.52, auroc: 0.8 },
  { aupr: 0.66, auroc: 0.87 },
];

test('mean ± std over runs: numpy’s np.mean, np.std (population, the default) and np.std(ddof=1)', () => {
  const ref = pythonJson<Record<string, [number, number, number]>>(
    `import json, sys, numpy as np
runs = json.loads(sys.argv[1])
print(json.dumps({m: [float(np.mean(v)), float(np.std(v)), float(np.std(v, ddof=1))] for m, v in ((m, [r[m] for r in runs]) for m in ('aupr', 'auroc'))}))`,
    [JSON.stringify(RUNS)],
  );
  const pop = summarizeRuns(RUNS, ['aupr', 'auroc']);
  const sample = summarizeRuns(RUNS, ['aupr', 'auroc'], { ddof: 1 });
  for (const m of ['aupr', 'auroc']) {
    const [mean, std, std1] = ref[m] as [number, number, number];
    assert.ok(Math.abs(pop[m]!.mean - mean) < 1e-12, `${m} mean`);
    assert.ok(Math.abs(pop[m]!.std - std) < 1e-12, `${m} std ${pop[m]!.std} vs ${std}`);
    assert.ok(Math.abs(sample[m]!.std - std1) < 1e-12, `${m} sample std`);
    assert.deepEqual(pop[m]!.values, RUNS.map((r) => r[m as 'aupr' | 'auroc']));
  }
});

test('runSeeds runs seeds 0..n-1 in order; missing metrics and empty runs are errors', async () => {
  const seen: number[] = [];
  const r = await runSeeds(3, async (seed) => (seen.push(seed), { score: seed * 2 }), ['score']);
  assert.deepEqual(seen, [0, 1, 2]);
  assert.equal(r.summary.score!.mean, 2);
  assert.throws(() => summarizeRuns([{ a: 1 }, { b: 2 }], ['a']), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /run 1 has no finite value for metric "a"/.test(e.message));
  assert.throws(() => summarizeRuns([], ['a']), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
  assert.throws(() => summarizeRuns([{ a: 1 }], ['a'], { ddof: 1 }), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /at least 2 runs/.test(e.message));
  await assert.rejects(runSeeds(0, async () => ({ a: 1 }), ['a']), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});
