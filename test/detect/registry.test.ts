import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectorMethod, methodInfo, methodInfos, methodNames } from '../../src/detect/registry.js';

test('the registry lists the 1-class and 2-class methods, and each loaded method carries its listed info', async () => {
  assert.deepEqual(methodNames(), ['padim', 'patchcore', 'classifier', 'segmenter']);
  for (const info of methodInfos()) {
    const m = await detectorMethod(info.name);
    assert.equal(m.name, info.name);
    for (const k of ['kind', 'summary', 'localises', 'defaultLayers', 'optionKeys'] as const) assert.deepEqual(m[k], info[k], `${info.name}.${k}`);
    assert.equal(typeof m.fit, 'function');
    assert.equal(typeof m.load, 'function');
  }
  assert.deepEqual(methodInfo('padim').defaultLayers, ['layer1', 'layer2', 'layer3']);
  assert.deepEqual(methodInfo('patchcore').defaultLayers, ['layer2', 'layer3']);
  assert.deepEqual(methodInfo('patchcore').optionKeys, ['coresetRatio']);
  assert.equal(methodInfo('padim').kind, 'one-class');
  assert.deepEqual([methodInfo('classifier').kind, methodInfo('segmenter').kind], ['two-class', 'two-class']);
  assert.deepEqual([methodInfo('classifier').localises, methodInfo('segmenter').localises], [false, true]);
});

test('an unknown method is a usage error that names every registered method', async () => {
  const names = methodNames();
  const expected = (e: unknown): boolean => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, 'ERR_USAGE');
    assert.match(err.message ?? '', /unknown detector method "knn"/);
    for (const n of names) assert.ok(err.message!.includes(n), `the message names ${n}: ${err.message}`);
    return true;
  };
  await assert.rejects(() => detectorMethod('knn'), expected);
  assert.throws(() => methodInfo('knn'), expected);
  // Names are exact: no case folding, no prefixes.
  assert.throws(() => methodInfo('PaDiM'), { code: 'ERR_USAGE' });
  assert.throws(() => methodInfo('pad'), { code: 'ERR_USAGE' });
});
