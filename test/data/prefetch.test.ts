import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { DataLoader } from '../../src/data/loader.js';
import { DeviceImages } from '../../src/data/device-images.js';
import { prefetched } from '../../src/data/prefetch.js';
import { readImageFolder } from '../../src/data/datasets/image-folder.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyImages } from '../pretrain/tiny-images.js';

async function* numbers(n: number, failAt = -1): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    await new Promise((r) => setImmediate(r));
    if (i === failAt) throw new Error(`source failed at ${i}`);
    yield i;
  }
}

/** A prefetch over numbers that records what was prepared and released. */
function tracked(n: number, depth: number, failAt = -1): { items: AsyncGenerator<{ v: number }>; prepared: number[]; released: number[] } {
  const prepared: number[] = [];
  const released: number[] = [];
  const items = prefetched(numbers(n, failAt), (v) => (prepared.push(v), { v }), (p) => released.push(p.v), depth);
  return { items, prepared, released };
}

test('prefetch: the same items in the same order, `depth` prepared ahead of the one held, each released once', async () => {
  for (const depth of [0, 1, 2]) {
    const { items, prepared, released } = tracked(6, depth);
    const got: number[] = [];
    for await (const p of items) {
      got.push(p.v);
      assert.equal(prepared.length, Math.min(6, p.v + 1 + depth), `depth ${depth}: prepared when item ${p.v} is held`);
      assert.deepEqual(released, got.slice(0, -1), 'the held item is not released yet');
    }
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(released, got);
  }
});

test('prefetch: stopping early releases what was prepared; a source error comes after the items before it, everything released', async () => {
  const early = tracked(10, 2);
  for await (const p of early.items) if (p.v === 3) break;
  assert.deepEqual([...early.released].sort((a, b) => a - b), early.prepared);

  const failing = tracked(10, 2, 5);
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const p of failing.items) got.push(p.v);
    })(),
    /source failed at 5/,
  );
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  assert.deepEqual([...failing.released].sort((a, b) => a - b), failing.prepared);
  assert.throws(() => prefetched(numbers(1), (v) => v, () => undefined, -1), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});

test('pixel batches on the device equal the float loader’s batches exactly, in the same order (prefetched or not)', async () => {
  const dir = tempDir();
  const { samples } = await readImageFolder(await writeTinyImages(join(dir, 'data')));
  const loader = new DataLoader(samples, { batchSize: 3, preprocess: { resize: [20, 20], normalize: null }, shuffle: true, seed: 9, dropLast: true });
  const images = new DeviceImages('cpu');
  try {
    const expected: Float32Array[] = [];
    for await (const b of loader.epoch(1)) expected.push(b.images);
    const got: Float32Array[] = [];
    const shapes: number[][] = [];
    const live = T.liveTensorCount();
    for await (const t of prefetched(loader.pixelEpoch(1), (b) => T.keep(images.fromPixels(b)), (t) => t.dispose(), 1)) {
      shapes.push([...t.shape]);
      got.push(t.data() as Float32Array);
    }
    assert.equal(T.liveTensorCount(), live, 'every prepared tensor freed');
    assert.deepEqual(shapes, [[3, 3, 20, 20], [3, 3, 20, 20]]);
    assert.deepEqual(got, expected);
  } finally {
    images.dispose();
  }
});
