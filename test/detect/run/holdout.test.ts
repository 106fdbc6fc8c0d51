import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdOutValidation } from '../../../src/detect/run/holdout.js';

type S = { id: string; label: 'normal' | 'anomaly' };
const samples = (normals: number, anomalies: number): S[] => [
  ...Array.from({ length: normals }, (_, i) => ({ id: `n${i}`, label: 'normal' as const })),
  ...Array.from({ length: anomalies }, (_, i) => ({ id: `a${i}`, label: 'anomaly' as const })),
];
const ids = (xs: readonly S[]): string[] => xs.map((x) => x.id).sort();
const count = (xs: readonly S[], label: S['label']): number => xs.filter((x) => x.label === label).length;

test('one-class: a seeded share of the normals is held out, with every labelled anomaly; nothing anomalous is fitted', () => {
  const all = samples(40, 6);
  const { fit, validation } = holdOutValidation(all, 0.1, 3);
  assert.equal(count(fit, 'anomaly'), 0);
  assert.equal(count(validation, 'anomaly'), 6);
  assert.equal(count(validation, 'normal'), 4);
  assert.deepEqual(ids([...fit, ...validation]), ids(all), 'a partition of the input');
  // The default kind is one-class.
  assert.deepEqual(holdOutValidation(all, 0.1, 3, 'one-class'), { fit, validation });
});

test('two-class: normals and anomalies are each split by the fraction (stratified), anomalies on both sides', () => {
  const all = samples(40, 20);
  const { fit, validation } = holdOutValidation(all, 0.25, 7, 'two-class');
  assert.equal(count(validation, 'normal'), 10);
  assert.equal(count(validation, 'anomaly'), 5);
  assert.equal(count(fit, 'normal'), 30);
  assert.equal(count(fit, 'anomaly'), 15);
  assert.deepEqual(ids([...fit, ...validation]), ids(all), 'a partition of the input');
  assert.equal(new Set(ids(fit)).size + new Set(ids(validation)).size, all.length, 'no image on both sides');
  // The normals held out are the ones the one-class split holds out for the same seed and fraction.
  const oneClass = holdOutValidation(all, 0.25, 7, 'one-class');
  assert.deepEqual(ids(validation.filter((s) => s.label === 'normal')), ids(oneClass.validation.filter((s) => s.label === 'normal')));
});

test('two-class: seeded (same seed, same split; another seed, another split) and at least one anomaly on each side', () => {
  const all = samples(30, 12);
  const a = holdOutValidation(all, 0.25, 1, 'two-class');
  assert.deepEqual(holdOutValidation(all, 0.25, 1, 'two-class'), a);
  const others = [2, 3, 4, 5].map((seed) => ids(holdOutValidation(all, 0.25, seed, 'two-class').validation.filter((s) => s.label === 'anomaly')));
  assert.ok(others.some((o) => o.join() !== ids(a.validation.filter((s) => s.label === 'anomaly')).join()), 'the anomalies held out depend on the seed');
  // A tiny fraction still holds one anomaly out; a large one still leaves one to fit on.
  const few = holdOutValidation(samples(10, 3), 0.01, 0, 'two-class');
  assert.equal(count(few.validation, 'anomaly'), 1);
  assert.equal(count(few.fit, 'anomaly'), 2);
  const many = holdOutValidation(samples(10, 3), 0.99, 0, 'two-class');
  assert.equal(count(many.validation, 'anomaly'), 2);
  assert.equal(count(many.fit, 'anomaly'), 1);
  assert.equal(count(many.fit, 'normal'), 1);
});

test('errors: a two-class method without two labelled anomalies, too few normals, a fraction outside (0, 1)', () => {
  assert.throws(() => holdOutValidation(samples(20, 0), 0.1, 0, 'two-class'), { code: 'ERR_BAD_INPUT', message: /0 labelled anomalous images; a two-class method needs at least 2/ });
  assert.throws(() => holdOutValidation(samples(20, 1), 0.1, 0, 'two-class'), { code: 'ERR_BAD_INPUT', message: /1 labelled anomalous image;/ });
  assert.throws(() => holdOutValidation(samples(1, 5), 0.1, 0, 'two-class'), { code: 'ERR_BAD_INPUT', message: /1 normal image; fitting needs at least 2/ });
  assert.throws(() => holdOutValidation(samples(1, 0), 0.1, 0), { code: 'ERR_BAD_INPUT', message: /1 normal image/ });
  for (const f of [0, 1, -0.1, Number.NaN]) assert.throws(() => holdOutValidation(samples(10, 0), f, 0), { code: 'ERR_BAD_INPUT', message: /validation fraction/ });
  // A one-class method needs no anomalies.
  assert.equal(holdOutValidation(samples(5, 0), 0.1, 0).validation.length, 1);
});
