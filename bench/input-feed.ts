// The pre-training input feed alone (pretrain/batch-feed.ts: decode, cache, batch, device
// tensors in [0, 1]), no model: images/s of each epoch with the images cached in host memory
// and in a device image store, on the same seeded JPEGs. The second epoch on is what a long
// run sees; compare it with the step's images/s (bench/simsiam-spd.ts) — the feed must outrun
// the step for end-to-end training to reach the issue-11 target (≥ 80% of the step alone).
//
// usage: node dist/bench/input-feed.js [--images 512] [--size 224] [--batch 64] [--epochs 3]
//        [--device cpu|cuda] [--json]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DataLoader } from '../src/data/loader.js';
import { DeviceImageStore } from '../src/data/device-image-store.js';
import { defaultCacheBytes } from '../src/data/image-cache.js';
import { readImageFolder } from '../src/data/datasets/image-folder.js';
import { BatchFeed } from '../src/pretrain/batch-feed.js';
import { Random } from '../src/util/random.js';
import { benchDevice, useDevice, waitForDevice } from './lib/device.js';

const { values: opts } = parseArgs({
  options: {
    images: { type: 'string', default: '512' },
    size: { type: 'string', default: '224' },
    batch: { type: 'string', default: '64' },
    epochs: { type: 'string', default: '3' },
    device: { type: 'string', default: 'cpu' },
    json: { type: 'boolean', default: false },
  },
});
const device = benchDevice(opts.device);
const [images, size, batch, epochs] = [Number(opts.images), Number(opts.size), Number(opts.batch), Number(opts.epochs)];

/** Seeded 320×320 JPEGs of smooth colour fields with noise (VisA-like decode work per image, smaller). */
async function writeImages(dir: string): Promise<void> {
  const rng = new Random(11);
  const side = 320;
  for (let i = 0; i < images; i++) {
    const px = Buffer.alloc(side * side * 3);
    const [fx, fy] = [rng.uniform(0.01, 0.05), rng.uniform(0.01, 0.05)];
    for (let p = 0; p < px.length; p++) px[p] = Math.max(0, Math.min(255, Math.round(128 + 90 * Math.sin(fx * (p % (side * 3)) + fy * Math.floor(p / (side * 3))) + rng.normal(0, 10))));
    await sharp(px, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(dir, `${String(i).padStart(5, '0')}.jpg`));
  }
}

/** Images/s of each epoch through the feed, with the images kept on `place`. */
async function feedEpochs(data: string, place: 'host' | 'device'): Promise<number[]> {
  const { samples } = await readImageFolder(data);
  const loader = new DataLoader(samples, { batchSize: batch, preprocess: { resize: [size, size], normalize: null }, shuffle: true, seed: 1, dropLast: true, cacheBytes: place === 'host' ? defaultCacheBytes() : 0 });
  const store = place === 'device' ? new DeviceImageStore(device, samples.length, size, size) : null;
  const feed = new BatchFeed(loader, device, null, store);
  const rates: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const t0 = performance.now();
      let n = 0;
      for await (const step of feed.epoch(epoch)) n += step.samples.length;
      waitForDevice(device);
      rates.push((1000 * n) / (performance.now() - t0));
    }
  } finally {
    feed.dispose();
    store?.dispose();
  }
  return rates;
}

async function main(): Promise<void> {
  useDevice(device);
  const work = mkdtempSync(join(tmpdir(), 'spotdiff-bench-feed-'));
  try {
    const data = join(work, 'images');
    mkdirSync(data);
    await writeImages(data);
    const host = await feedEpochs(data, 'host');
    const onDevice = await feedEpochs(data, 'device');
    const config = { images, size, batch, epochs, device };
    if (opts.json) {
      process.stdout.write(JSON.stringify({ config, host_images_per_s: host, device_images_per_s: onDevice }) + '\n');
      return;
    }
    const row = (name: string, r: number[]): string => `${name.padEnd(22)}${r.map((v) => v.toFixed(0).padStart(10)).join('')}`;
    process.stdout.write(
      [
        `pre-training input feed alone, ${images} JPEGs (320 px) → ${size} px, batch ${batch}, ${device}: images/s per epoch`,
        `${''.padEnd(22)}${Array.from({ length: epochs }, (_, e) => `epoch ${e + 1}`.padStart(10)).join('')}`,
        row('host cache', host),
        row('device image store', onDevice),
        `epoch ${epochs}: device store / host cache ${(onDevice.at(-1)! / host.at(-1)!).toFixed(2)}`,
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
