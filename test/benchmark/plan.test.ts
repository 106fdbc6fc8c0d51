import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { benchmarkPlan } from '../../src/benchmark/plan.js';
import { benchmarkInits } from '../../src/benchmark/inits.js';
import { benchmarkProtocol } from '../../src/benchmark/protocol.js';

test('benchmarkPlan: few-shot fits row × object × run × (classifier, segmenter), run r seeded S+r on draw r, a folder per method and run', () => {
  const inits = benchmarkInits(['random', 'a.pth'], ['supervised', 'supervised+spd']);
  const plan = benchmarkPlan({ protocol: benchmarkProtocol('2cls-10shot'), objects: ['pills', 'tealight'], inits, runs: 2, seed: 7, modelsRoot: 'M', overrides: { iterations: 3 } });
  assert.equal(plan.length, 2 * 2 * 2 * 2);
  assert.deepEqual(plan.slice(0, 4).map((f) => [f.init.name, f.object, f.run, f.job.method, f.seed, f.out]), [
    ['supervised', 'pills', 0, 'classifier', 7, join('M', '2cls-10shot', 'supervised', 'pills', 'classifier', 'run-0')],
    ['supervised', 'pills', 0, 'segmenter', 7, join('M', '2cls-10shot', 'supervised', 'pills', 'segmenter', 'run-0')],
    ['supervised', 'pills', 1, 'classifier', 8, join('M', '2cls-10shot', 'supervised', 'pills', 'classifier', 'run-1')],
    ['supervised', 'pills', 1, 'segmenter', 8, join('M', '2cls-10shot', 'supervised', 'pills', 'segmenter', 'run-1')],
  ]);
  assert.deepEqual(plan[3]!.options, { protocol: 'few-shot', shots: 10, run: 1, iterations: 3 });
  assert.equal(plan.at(-1)!.init.weights, 'a.pth');
  assert.equal(new Set(plan.map((f) => f.out)).size, plan.length, 'every fit has its own folder');
});

test('benchmarkPlan: 1cls fits the named method once per row and object into <protocol>/<row>/<object>; run folders only with several runs', () => {
  const inits = benchmarkInits(['random'], ['supervised']);
  const one = benchmarkPlan({ protocol: benchmarkProtocol('1cls'), method: 'padim', objects: ['pills'], inits, runs: 1, seed: 0, modelsRoot: 'M' });
  assert.deepEqual(one.map((f) => [f.job.method, f.out, f.options]), [['padim', join('M', '1cls', 'supervised', 'pills'), {}]]);
  const high = benchmarkPlan({ protocol: benchmarkProtocol('2cls-highshot'), objects: ['pills'], inits, runs: 1, seed: 0, modelsRoot: 'M' });
  assert.deepEqual(high.map((f) => f.out), [join('M', '2cls-highshot', 'supervised', 'pills', 'classifier'), join('M', '2cls-highshot', 'supervised', 'pills', 'segmenter')]);
  const two = benchmarkPlan({ protocol: benchmarkProtocol('1cls'), method: 'patchcore', objects: ['pills'], inits, runs: 2, seed: 0, modelsRoot: 'M' });
  assert.deepEqual(two.map((f) => f.out), [join('M', '1cls', 'supervised', 'pills', 'run-0'), join('M', '1cls', 'supervised', 'pills', 'run-1')]);
  assert.throws(() => benchmarkPlan({ protocol: benchmarkProtocol('1cls'), method: 'padim', objects: ['pills'], inits, runs: 0, seed: 0, modelsRoot: 'M' }), /positive integer/);
});
