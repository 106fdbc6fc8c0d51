import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random, hashSeed } from '../../src/util/random.js';

test('xoshiro128** matches the reference implementation for state {1,2,3,4}', () => {
  // First outputs of the authors' C reference (xoshiro128starstar.c) from s = {1, 2, 3, 4}.
  const expected = [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804];
  const r = Random.fromState([1, 2, 3, 4]);
  assert.deepEqual(expected.map(() => r.uint32()), expected);
});

test('same seed gives the same stream; different seeds and labels differ', () => {
  const a = new Random(42);
  const b = new Random(42);
  const xs = Array.from({ length: 100 }, () => a.uint32());
  assert.deepEqual(Array.from({ length: 100 }, () => b.uint32()), xs);
  const c = new Random(43);
  assert.notDeepEqual(Array.from({ length: 100 }, () => c.uint32()), xs);
  assert.notEqual(hashSeed(1, ['ab', 'c']), hashSeed(1, ['a', 'bc']));
  assert.notEqual(hashSeed(1, ['x', 1]), hashSeed(1, ['x', 2]));
  assert.notEqual(hashSeed(1, ['x']), hashSeed(2, ['x']));
  // seeds above 2^32 are not truncated to their low bits
  assert.notEqual(new Random(2 ** 32 + 5).uint32(), new Random(5).uint32());
  assert.equal(Random.derive(7, 'run', 3).uint32(), Random.derive(7, 'run', 3).uint32());
});

test('int() is uniform (chi-square over 10 bins) and float() stays in [0,1)', () => {
  const r = new Random(1);
  const counts = new Array<number>(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) counts[r.int(10)]!++;
  const chi2 = counts.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
  assert.ok(chi2 < 27.9, `chi2 ${chi2} (p=0.001 critical value for 9 dof is 27.9)`);
  for (let i = 0; i < 10_000; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
  }
  assert.throws(() => r.int(0), RangeError);
});

test('normal() has mean 0 and std 1 (within 4 standard errors)', () => {
  const r = new Random(3);
  const n = 50_000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  const std = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 4 / Math.sqrt(2 * n), `std ${std}`);
});

test('shuffle() is a seeded permutation', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  const a = new Random(9).shuffled(items);
  const b = new Random(9).shuffled(items);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, items);
  assert.deepEqual(a.slice().sort((x, y) => x - y), items);
});
