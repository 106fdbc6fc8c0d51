import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleKShot } from '../../src/data/kshot.js';
import type { Sample } from '../../src/data/datasets/sample.js';
import { isSpotdiffError } from '../../src/util/errors.js';

function make(object: string, split: 'train' | 'test', label: 'normal' | 'anomaly', n: number): Sample[] {
  return Array.from({ length: n }, (_, i) => ({
    image: `/d/${object}/${split}/${label}/${String(i).padStart(3, '0')}.JPG`,
    label,
    mask: label === 'anomaly' ? `/d/${object}/m/${i}.png` : null,
    object,
    defect: null,
    split,
  }));
}

const samples = [
  ...make('candle', 'train', 'normal', 40),
  ...make('candle', 'train', 'anomaly', 12),
  ...make('candle', 'test', 'normal', 30),
  ...make('candle', 'test', 'anomaly', 20),
  ...make('pcb1', 'train', 'normal', 25),
  ...make('pcb1', 'train', 'anomaly', 10),
];

test('k normal and k anomalous train images per object, 5 runs by default', () => {
  const runs = sampleKShot(samples, { k: 5, seed: 1 });
  assert.equal(runs.length, 5);
  for (const r of runs) {
    for (const [pool, label] of [[r.normal, 'normal'], [r.anomaly, 'anomaly']] as const) {
      assert.equal(pool.length, 10); // 5 per object, 2 objects
      assert.ok(pool.every((s) => s.split === 'train' && s.label === label));
      assert.equal(pool.filter((s) => s.object === 'candle').length, 5);
      assert.equal(new Set(pool.map((s) => s.image)).size, pool.length, 'no image twice in a run');
    }
  }
  // runs differ from each other
  assert.equal(new Set(runs.map((r) => r.normal.map((s) => s.image).join())).size, 5);
});

test('seeded and independent of the input order', () => {
  const a = sampleKShot(samples, { k: 10, seed: 3 });
  const b = sampleKShot([...samples].reverse(), { k: 10, seed: 3 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(sampleKShot(samples, { k: 10, seed: 4 }), a);
  assert.equal(sampleKShot(samples, { k: 2, runs: 3 }).length, 3);
});

test('every image of a pool is drawn about equally often over many runs', () => {
  const runs = sampleKShot(samples, { k: 5, runs: 2000, seed: 0 });
  const counts = new Map<string, number>();
  for (const r of runs) for (const s of r.anomaly) if (s.object === 'candle') counts.set(s.image, (counts.get(s.image) ?? 0) + 1);
  assert.equal(counts.size, 12);
  const expected = (2000 * 5) / 12;
  for (const c of counts.values()) assert.ok(Math.abs(c - expected) < 5 * Math.sqrt(expected), `count ${c}, expected ~${expected.toFixed(0)}`);
});

test('a class with fewer than k train images is an error naming object and class', () => {
  assert.throws(() => sampleKShot(samples, { k: 11 }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /pcb1/.test(e.message) && /only 10 anomalous/.test(e.message));
  assert.throws(() => sampleKShot(make('x', 'test', 'normal', 5), { k: 1 }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /train/.test(e.message));
  assert.throws(() => sampleKShot(samples, { k: 0 }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});

test('anomalous: false draws the same normal images and needs no anomalous train images', () => {
  const normalsOnly = [...make('candle', 'train', 'normal', 40), ...make('candle', 'test', 'anomaly', 5)];
  const runs = sampleKShot(normalsOnly, { k: 4, runs: 3, seed: 2, anomalous: false });
  assert.ok(runs.every((r) => r.normal.length === 4 && r.anomaly.length === 0));
  // The normal draw does not depend on whether anomalies are drawn too.
  assert.deepEqual(runs.map((r) => r.normal), sampleKShot(samples, { k: 4, runs: 3, seed: 2 }).map((r) => r.normal.filter((s) => s.object === 'candle')));
  assert.throws(() => sampleKShot(normalsOnly, { k: 41, anomalous: false }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /only 40 normal/.test(e.message));
  assert.throws(() => sampleKShot(normalsOnly, { k: 4 }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /only 0 anomalous/.test(e.message));
});
