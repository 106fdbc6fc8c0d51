import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { DataLoader, type LoaderOptions } from '../../src/data/loader.js';
import { DeviceImageStore } from '../../src/data/device-image-store.js';
import { readRgb, type RgbImage } from '../../src/data/image.js';
import { readImageFolder } from '../../src/data/datasets/image-folder.js';
import { BatchFeed } from '../../src/pretrain/batch-feed.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyImages } from './tiny-images.js';

// 8 textured 32 px PNGs resized to 20 px; batches of 3 with the last dropped, so an epoch
// visits 6 of the 8 images and the device store fills over more than one epoch.
const dir = tempDir();
const { samples } = await readImageFolder(await writeTinyImages(join(dir, 'data')));
const base: LoaderOptions = { batchSize: 3, preprocess: { resize: [20, 20], normalize: null }, shuffle: true, seed: 5, dropLast: true };

async function floatEpoch(epoch: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for await (const b of new DataLoader(samples, base).epoch(epoch)) out.push(b.images);
  return out;
}

test('batch feed with a device image store: every epoch’s images equal the float loader’s exactly; held batches decode nothing', async () => {
  let decodes = 0;
  const readImage = (path: string): Promise<RgbImage> => (decodes++, readRgb(path));
  const loader = new DataLoader(samples, { ...base, readImage });
  const store = new DeviceImageStore('cpu', samples.length, 20, 20);
  const feed = new BatchFeed(loader, 'cpu', null, store);
  const live = T.liveTensorCount();
  try {
    const perEpoch: number[] = [];
    for (let epoch = 0; epoch < 6; epoch++) {
      const before = decodes;
      const heldAtStart = loader.order(epoch).slice(0, 6).filter((i) => store.holds([i])).length;
      const got: Float32Array[] = [];
      for await (const step of feed.epoch(epoch)) {
        assert.deepEqual(step.samples.map((s) => s.image), loader.order(epoch).slice(step.index * 3, step.index * 3 + 3).map((i) => samples[i]?.image));
        got.push(step.images.data() as Float32Array);
      }
      assert.deepEqual(got, await floatEpoch(epoch), `epoch ${epoch}: the images of the uncached loader`);
      perEpoch.push(decodes - before);
      // A batch is decoded whole unless all of it is held; at most the 6 visited images decode.
      assert.ok(decodes - before <= 6 - (heldAtStart === 6 ? 6 : 0));
    }
    assert.equal(perEpoch[0], 6, 'the first epoch decodes what it visits');
    assert.equal(store.complete, true, 'six shuffled epochs visit all eight images');
    assert.equal(perEpoch.at(-1), 0, 'once complete, an epoch decodes nothing');
    assert.equal(T.liveTensorCount(), live, 'each step’s tensors freed');
  } finally {
    feed.dispose();
    store.dispose();
  }
});
