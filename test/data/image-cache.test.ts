import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import { ImageCache } from '../../src/data/image-cache.js';
import { readRgb, type RgbImage } from '../../src/data/image.js';
import type { PixelBatch } from '../../src/data/pixel-batch.js';
import type { Sample } from '../../src/data/datasets/sample.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyImages } from '../pretrain/tiny-images.js';
import { readImageFolder } from '../../src/data/datasets/image-folder.js';

// 8 textured 32 px PNGs resized to 24 px (a real resize, 1728 bytes each at the training size).
const dir = tempDir();
const root = await writeTinyImages(join(dir, 'data'));
const samples: Sample[] = (await readImageFolder(root)).samples;
const N = samples.length;
const BYTES = 24 * 24 * 3;
const base = { batchSize: 3, preprocess: { resize: [24, 24] as const, normalize: null }, shuffle: true, seed: 4 };

/** readRgb with a count of calls per file. */
function countingReader(): { read: (path: string) => Promise<RgbImage>; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return { calls, read: (path) => (calls.set(path, (calls.get(path) ?? 0) + 1), readRgb(path)) };
}

async function pixelEpoch(loader: DataLoader, epoch: number): Promise<PixelBatch[]> {
  const out: PixelBatch[] = [];
  for await (const b of loader.pixelEpoch(epoch)) out.push(b);
  return out;
}

async function floatEpoch(loader: DataLoader, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch(epoch)) out.push(b);
  return out;
}

const total = (calls: Map<string, number>): number => [...calls.values()].reduce((a, b) => a + b, 0);

test('the cache decodes each image once over epochs, concurrent requests included, and serves a fresh decode’s pixels', async () => {
  const { read, calls } = countingReader();
  const cached = new DataLoader(samples, { ...base, cacheBytes: 2 ** 20, readImage: read });
  const fresh = new DataLoader(samples, base);
  for (const epoch of [0, 1, 2]) {
    const [a, b] = [await pixelEpoch(cached, epoch), await pixelEpoch(fresh, epoch)];
    assert.deepEqual(a.map((x) => x.samples.map((s) => s.image)), b.map((x) => x.samples.map((s) => s.image)), `epoch ${epoch}: same order`);
    a.forEach((x, i) => assert.ok(Buffer.from(x.pixels).equals(Buffer.from(b[i]!.pixels)), `epoch ${epoch} batch ${i}: pixels differ from a fresh decode`));
    const [fa, fb] = [await floatEpoch(cached, epoch), await floatEpoch(fresh, epoch)];
    fa.forEach((x, i) => assert.deepEqual(x.images, fb[i]!.images, `epoch ${epoch} batch ${i}: float batch differs`));
  }
  assert.equal(calls.size, N);
  assert.ok([...calls.values()].every((c) => c === 1), `decodes per image: ${[...calls.values()].join(',')}`);
  assert.deepEqual(cached.cacheStats, { decodes: N, hits: 6 * N - N, images: N, bytes: N * BYTES });

  let decodes = 0;
  const cache = new ImageCache(async (p) => (decodes++, readRgb(p)), 2 ** 20);
  const path = samples[0]!.image;
  const [x, y] = await Promise.all([cache.get(path), cache.get(path)]);
  assert.equal(x, y);
  await cache.get(path);
  assert.equal(decodes, 1, 'concurrent and later requests share one decode');
});

test('the cache stays within its size limit and still serves every image correctly past it', async () => {
  const { read, calls } = countingReader();
  const limit = 3 * BYTES + BYTES / 2; // room for 3 of the 8 images
  const cached = new DataLoader(samples, { ...base, cacheBytes: limit, readImage: read });
  const fresh = new DataLoader(samples, base);
  for (const epoch of [0, 1]) {
    const [a, b] = [await pixelEpoch(cached, epoch), await pixelEpoch(fresh, epoch)];
    a.forEach((x, i) => assert.ok(Buffer.from(x.pixels).equals(Buffer.from(b[i]!.pixels)), `epoch ${epoch} batch ${i}: pixels differ`));
    const stats = cached.cacheStats!;
    assert.ok(stats.bytes <= limit, `${stats.bytes} bytes held, limit ${limit}`);
    assert.equal(stats.images, 3);
  }
  // Epoch 0 decodes all 8; epoch 1 only the 5 that did not fit, the same 3 staying cached.
  assert.equal(total(calls), N + (N - 3));
  assert.equal([...calls.values()].filter((c) => c === 1).length, 3);
  assert.throws(() => new ImageCache(readRgb, -1), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});

test('a decode error surfaces with the image’s path, is not cached, and does not hang the epoch', async () => {
  const bad = join(dir, 'corrupt.png');
  writeFileSync(bad, 'not a png');
  const list = samples.map((s, i) => (i === 4 ? { ...s, image: bad } : s));
  for (const cacheBytes of [0, 2 ** 20]) {
    const loader = new DataLoader(list, { batchSize: 2, preprocess: { resize: [24, 24], normalize: null }, cacheBytes, prefetch: 2 });
    for (const epoch of [0, 1]) {
      const seen: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const b of loader.pixelEpoch(epoch)) seen.push(b.index);
        })(),
        (e: unknown) => isSpotdiffError(e, 'ERR_BAD_IMAGE') && e.message.includes(bad),
      );
      assert.deepEqual(seen, [0, 1], `cache ${cacheBytes} epoch ${epoch}`);
    }
  }
  // A decoder's own error (not a SpotdiffError) is named after the file too.
  const failing = new DataLoader(samples, { ...base, cacheBytes: 2 ** 20, readImage: async () => Promise.reject(new Error('boom')) });
  await assert.rejects(pixelEpoch(failing, 0), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_IMAGE') && /boom/.test(e.message) && samples.some((s) => e.message.includes(s.image)));
  assert.equal(failing.cacheStats?.images, 0);
});
