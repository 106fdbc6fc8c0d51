import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../src/data/image.js';
import type { Sample } from '../../src/data/datasets/sample.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyImage, writeTinyMask } from './fixtures.js';

const dir = tempDir();
const N = 10;
const samples: Sample[] = [];
// Image i is a flat grey of value 20 * i, so a batch slot tells which sample it holds.
for (let i = 0; i < N; i++) {
  const image = await writeTinyImage(join(dir, `img${i}.png`), 20 * i, 12);
  const anomalous = i % 3 === 0;
  const mask = anomalous ? await writeTinyMask(join(dir, `mask${i}.png`), 255, 12) : null;
  samples.push({ image, label: anomalous ? 'anomaly' : 'normal', mask, object: 'o', defect: null, split: 'train' });
}

/** Which sample (by grey value) each slot of a batch holds, read from the red channel's first pixel. */
function slotIds(b: Batch): number[] {
  const [n, , h, w] = b.shape;
  return Array.from({ length: n }, (_, i) => Math.round(((b.images[i * 3 * h * w] as number) * IMAGENET_STD[0] + IMAGENET_MEAN[0]) * 255 / 20) + 0);
}

async function collect(loader: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

test('batches in order without shuffling, with shapes, labels and masks', async () => {
  const loader = new DataLoader(samples, { batchSize: 4, preprocess: { resize: [8, 8] }, masks: true });
  assert.equal(loader.length, 3);
  const batches = await collect(loader.epoch(0));
  assert.deepEqual(batches.map((b) => b.shape), [[4, 3, 8, 8], [4, 3, 8, 8], [2, 3, 8, 8]]);
  assert.deepEqual(batches.flatMap(slotIds), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(batches.flatMap((b) => [...b.labels]), [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
  const m = batches[0]?.masks as Uint8Array;
  assert.equal(m.length, 4 * 64);
  assert.equal(m[0], 1); // top-left quarter of an anomalous image's mask
  assert.equal(m[63], 0);
  assert.ok(m.subarray(64, 128).every((v) => v === 0)); // a normal image: zeros
  const dropped = new DataLoader(samples, { batchSize: 4, preprocess: { resize: [8, 8] }, dropLast: true });
  assert.equal((await collect(dropped.epoch(0))).length, 2);
});

test('shuffling is seeded: same seed same order, each epoch a new permutation', async () => {
  const opts = { batchSize: 3, preprocess: { resize: [8, 8] as const }, shuffle: true, seed: 5 };
  const a = new DataLoader(samples, opts);
  const b = new DataLoader(samples, opts);
  const e0 = (await collect(a)).flatMap(slotIds); // iterating the loader runs epoch 0, then 1
  const e1 = (await collect(a)).flatMap(slotIds);
  assert.deepEqual((await collect(b.epoch(0))).flatMap(slotIds), e0);
  assert.deepEqual(e0, a.order(0));
  assert.deepEqual(e1, a.order(1));
  assert.deepEqual([...e0].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(e0, e1);
  assert.notDeepEqual(e0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(new DataLoader(samples, { ...opts, seed: 6 }).order(0), e0);
});

test('prefetch keeps K batches decoding while the consumer holds one, and no more', async () => {
  for (const k of [1, 2, 3]) {
    const started: number[] = [];
    const loader = new DataLoader(samples, { batchSize: 1, preprocess: { resize: [8, 8] }, prefetch: k, onEvent: (e) => e.type === 'start' && started.push(e.batch) });
    const it = loader.epoch(0)[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.value?.index, 0);
    // While batch 0 is "being computed on", batches 1..k have been started, and k+1 has not.
    assert.deepEqual(started, Array.from({ length: k + 1 }, (_, i) => i), `prefetch ${k}`);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(started.length, k + 1);
    await it.return?.(undefined);
  }
});

test('batches come out in order even when a later one finishes decoding first', async () => {
  const big = join(dir, 'big.png');
  writeFileSync(big, await sharp({ create: { width: 1600, height: 1600, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer());
  const list: Sample[] = [{ ...samples[1]!, image: big }, ...samples.slice(2, 5)];
  const done: number[] = [];
  const loader = new DataLoader(list, { batchSize: 1, preprocess: { resize: [8, 8] }, prefetch: 3, onEvent: (e) => e.type === 'done' && done.push(e.batch) });
  const batches = await collect(loader.epoch(0));
  assert.deepEqual(batches.map((b) => b.index), [0, 1, 2, 3]);
  assert.notEqual(done[0], 0, `decoding finished in order ${done.join(',')}: the big first image should finish last`);
  assert.deepEqual(batches.slice(1).flatMap(slotIds), [2, 3, 4]);
});

test('a corrupt image fails the iteration at its batch, naming the file; mixed sizes are ERR_SHAPE', async () => {
  const bad = join(dir, 'corrupt.png');
  writeFileSync(bad, 'not a png');
  const list = samples.slice(0, 6).map((s, i) => (i === 4 ? { ...s, image: bad } : s));
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const b of new DataLoader(list, { batchSize: 2, preprocess: { resize: [8, 8] }, prefetch: 2 }).epoch(0)) seen.push(b.index);
    })(),
    (e: unknown) => isSpotdiffError(e, 'ERR_BAD_IMAGE') && e.message.includes(bad),
  );
  assert.deepEqual(seen, [0, 1]);
  const odd = await writeTinyImage(join(dir, 'odd.png'), 10, 20);
  const mixed = [samples[0]!, { ...samples[1]!, image: odd }];
  await assert.rejects(collect(new DataLoader(mixed, { batchSize: 2, preprocess: {} }).epoch(0)), (e: unknown) => isSpotdiffError(e, 'ERR_SHAPE'));
});

test('with a cache, masks are read once: a later epoch serves the same masks from memory', async () => {
  const own = tempDir();
  const mine: Sample[] = [];
  for (let i = 0; i < 4; i++) {
    const mask = await writeTinyMask(join(own, `m${i}.png`), 255, 12);
    mine.push({ image: samples[i]!.image, label: 'anomaly', mask, object: 'o', defect: null, split: 'train' });
  }
  const loader = new DataLoader(mine, { batchSize: 2, preprocess: { resize: [8, 8] }, masks: true, cacheBytes: 2 ** 20 });
  const first = (await collect(loader.epoch(0))).map((b) => [...(b.masks as Uint8Array)]);
  for (const s of mine) writeFileSync(s.mask!, 'not a png any more');
  const second = (await collect(loader.epoch(1))).map((b) => [...(b.masks as Uint8Array)]);
  assert.deepEqual(second, first);
  const uncached = new DataLoader(mine, { batchSize: 2, preprocess: { resize: [8, 8] }, masks: true });
  await assert.rejects(collect(uncached.epoch(0)), /m0\.png|m1\.png/);
});
