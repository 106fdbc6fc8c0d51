import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { intFlag, numberFlag } from '../../src/cli/args.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

const usageError = (f: () => unknown, message: RegExp) => assert.throws(f, (e: unknown) => isSpotdiffError(e, 'ERR_USAGE') && message.test((e as Error).message));

test('intFlag takes plain decimal integers only', () => {
  assert.equal(intFlag(undefined, 'size', 224), 224);
  assert.equal(intFlag('64', 'size', 224), 64);
  assert.equal(intFlag('-3', 'offset', 0), -3);
  assert.equal(intFlag('007', 'seed', 0), 7);
  for (const bad of ['', ' 5', '5 ', '+5', '0x40', '1e3', '5.0', '5.5', 'Infinity', '-', '12abc']) {
    assert.throws(() => intFlag(bad, 'size', 224), (e: unknown) => isSpotdiffError(e, 'ERR_USAGE') && (e as Error).message.startsWith('--size must be an integer') && (e as Error).message.endsWith(`got ${JSON.stringify(bad)}`));
  }
  usageError(() => intFlag('99999999999999999999', 'seed', 0), /--seed must be an integer/);
});

test('intFlag checks its bounds and says them', () => {
  assert.equal(intFlag('32', 'size', 224, 32, 4096), 32);
  assert.equal(intFlag('4096', 'size', 224, 32, 4096), 4096);
  usageError(() => intFlag('31', 'size', 224, 32, 4096), /--size must be an integer >= 32 and <= 4096, got "31"/);
  usageError(() => intFlag('1000000', 'size', 224, 32, 4096), /--size must be an integer >= 32 and <= 4096, got "1000000"/);
  usageError(() => intFlag('0', 'epochs', 1, 1), /--epochs must be an integer >= 1, got "0"/);
});

test('numberFlag takes decimal numbers only, within an optional range', () => {
  assert.equal(numberFlag(undefined, 'quantile', 0.99), 0.99);
  for (const [text, value] of [['0.5', 0.5], ['.5', 0.5], ['1', 1], ['-2.5', -2.5], ['1e-4', 1e-4], ['2.5E3', 2500]] as const) assert.equal(numberFlag(text, 'x', 0), value);
  for (const bad of ['', ' 1', '0x10', 'Infinity', 'NaN', '1e', '1.2.3', '+1', '--1', '1,5']) usageError(() => numberFlag(bad, 'x', 0), /--x must be a number/);
  assert.equal(numberFlag('1', 'quantile', 0.99, { min: 0, max: 1 }), 1);
  usageError(() => numberFlag('1.5', 'quantile', 0.99, { min: 0, max: 1 }), /--quantile must be a number >= 0 and <= 1, got "1.5"/);
  usageError(() => numberFlag('0', 'coreset-ratio', 0.1, { above: 0, max: 1 }), /--coreset-ratio must be a number > 0 and <= 1, got "0"/);
});

test('fit --quantile 1.5 is a usage error before anything is read or fitted', async () => {
  const dir = tempDir();
  // The data folder does not exist: had fit started, the error would be about it (exit 1).
  const r = await runCli(['fit', '--method', 'padim', '--data', join(dir, 'nothing'), '--backbone', 'resnet18', '--quantile', '1.5', '--out', join(dir, 'model')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--quantile must be a number >= 0 and <= 1, got "1\.5"/);
  assert.equal(existsSync(join(dir, 'model')), false);
});
