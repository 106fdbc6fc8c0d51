import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { createBackbone, moveBackbone } from '../../../src/models/backbone.js';
import { batchFeatures, disposeFeatures } from '../../../src/models/feature-extractor.js';
import { moduleDevice, withDefaultDevice } from '../../../src/nn/device.js';
import { randomValues } from '../fixtures.js';

test("moveBackbone (what a CUDA fit does to the CPU-drawn random backbone), run to 'cpu': the same network, the original freed", async () => {
  const { model } = await createBackbone('resnet18', undefined, 7, 'cpu');
  const images = randomValues(3, 2 * 3 * 32 * 32);
  const want = batchFeatures(model, images, [2, 3, 32, 32], ['layer1', 'layer3']);
  const wantValues = [...want.values()].map((t) => t.toFloat32());
  disposeFeatures(want);
  const before = T.liveTensorCount();
  const moved = moveBackbone(model, 'cpu');
  assert.equal(T.liveTensorCount(), before, 'the copy replaced the original tensor for tensor');
  assert.equal(moved.training, false, 'still in eval mode');
  assert.equal(moduleDevice(moved), 'cpu');
  const got = batchFeatures(moved, images, [2, 3, 32, 32], ['layer1', 'layer3']);
  assert.deepEqual([...got.values()].map((t) => t.toFloat32()), wantValues);
  disposeFeatures(got);
  moved.dispose();
});

test('a seed is one backbone whatever the device asked for (drawn on the CPU)', async () => {
  const a = await createBackbone('resnet18', undefined, 5);
  const b = await createBackbone('resnet18', undefined, 5, 'cpu');
  const wa = a.model.stateDict().get('conv1.weight')!.toFloat32();
  assert.deepEqual(b.model.stateDict().get('conv1.weight')!.toFloat32(), wa);
  a.model.dispose();
  b.model.dispose();
});

test('withDefaultDevice restores the previous default, also after a throw', () => {
  const previous = T.getDefaultDevice();
  assert.equal(withDefaultDevice('cpu', () => T.getDefaultDevice()), 'cpu');
  assert.throws(() => withDefaultDevice('cpu', () => { throw new Error('boom'); }), /boom/);
  assert.equal(T.getDefaultDevice(), previous);
  assert.throws(() => withDefaultDevice('tpu', () => 1), { code: 'ERR_BAD_INPUT' });
  assert.equal(T.getDefaultDevice(), previous);
});
