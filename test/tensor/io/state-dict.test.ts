import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkStateDict, hostTensor, type StateDict } from '../../../src/tensor/io/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

const t = (...shape: number[]) => hostTensor('float32', shape, new Uint8Array(shape.reduce((a, b) => a * b, 1) * 4));
const expected = new Map<string, number[]>([
  ['conv1.weight', [64, 3, 7, 7]],
  ['bn1.weight', [64]],
  ['bn1.num_batches_tracked', []],
  ['fc.weight', [1000, 512]],
  ['fc.bias', [1000]],
]);

test('a state dict with every expected name and shape passes', () => {
  const sd: StateDict = new Map([...expected].map(([n, s]) => [n, t(...s)]));
  assert.doesNotThrow(() => checkStateDict(expected, sd));
});

test('one error lists every missing, unexpected and mismatched name', () => {
  const sd: StateDict = new Map([
    ['conv1.weight', t(64, 3, 7, 7)],
    ['bn1.num_batches_tracked', t(1)],
    ['fc.weight', t(10, 512)],
    ['layer5.weight', t(1)],
    ['extra.bias', t(2)],
  ]);
  assert.throws(
    () => checkStateDict(expected, sd),
    (e: unknown) => {
      assert.ok(isSpotdiffError(e, 'ERR_BAD_CHECKPOINT'));
      const m = (e as Error).message;
      assert.match(m, /missing \(2\): bn1\.weight, fc\.bias/);
      assert.match(m, /unexpected \(2\): layer5\.weight, extra\.bias/);
      assert.match(m, /shape mismatch \(2\): bn1\.num_batches_tracked \(expected \[\], got \[1\]\), fc\.weight \(expected \[1000, 512\], got \[10, 512\]\)/);
      return true;
    },
  );
});

test('non-strict: only shape mismatches of shared names count', () => {
  const partial: StateDict = new Map([['conv1.weight', t(64, 3, 7, 7)], ['other', t(3)]]);
  assert.doesNotThrow(() => checkStateDict(expected, partial, { strict: false }));
  const wrong: StateDict = new Map([['fc.bias', t(10)]]);
  assert.throws(() => checkStateDict(expected, wrong, { strict: false }), (e) => isSpotdiffError(e) && !/missing/.test((e as Error).message) && /fc\.bias/.test((e as Error).message));
});
