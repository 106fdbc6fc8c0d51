import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpotdiffError } from '../../src/util/errors.js';
import { benchmarkInits } from '../../src/benchmark/inits.js';

test('benchmarkInits: names from the files, random init, X+spd paired with X', () => {
  const rows = benchmarkInits(['w/simsiam.pth', 'w/simsiam+spd.safetensors', 'random', 'w/moco+spd.pth']);
  assert.deepEqual(rows, [
    { name: 'simsiam', weights: 'w/simsiam.pth', base: null },
    { name: 'simsiam+spd', weights: 'w/simsiam+spd.safetensors', base: 'simsiam' },
    { name: 'random', weights: null, base: null },
    { name: 'moco+spd', weights: 'w/moco+spd.pth', base: null },
  ]);
  const named = benchmarkInits(['random', 'a.pth'], ['SimCLR', 'SimCLR+SPD']);
  assert.deepEqual(named.map((r) => [r.name, r.base]), [['SimCLR', null], ['SimCLR+SPD', 'SimCLR']]);
});

test('benchmarkInits: explicit pairs replace the naming rule', () => {
  const rows = benchmarkInits(['a.pth', 'b.pth', 'c.pth'], ['base', 'ours', 'c+spd'], [['base', 'ours']]);
  assert.deepEqual(rows.map((r) => r.base), [null, 'base', null]);
});

test('benchmarkInits: duplicate or unusable names, count mismatches and bad pairs are refused', () => {
  const bad = (f: () => unknown, re: RegExp): void => assert.throws(f, (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && re.test(e.message));
  bad(() => benchmarkInits(['random', 'random']), /two rows are named "random"/);
  bad(() => benchmarkInits(['a.pth'], ['x', 'y']), /2 names for 1 initialisations/);
  bad(() => benchmarkInits(['a.pth'], ['x/y']), /plain folder name/);
  bad(() => benchmarkInits(['a.pth'], ['..']), /plain folder name/);
  bad(() => benchmarkInits(['a.pth', 'b.pth'], undefined, [['a', 'z']]), /"z", which is not a row/);
  bad(() => benchmarkInits(['a.pth', 'b.pth'], undefined, [['a', 'a']]), /with itself/);
  bad(() => benchmarkInits([]), /no initialisation/);
});
