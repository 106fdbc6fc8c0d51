// End-to-end SimSiam + SPD pre-training (ResNet-18, η = 0.1) on a folder of images:
// `spotdiff pretrain` as a user runs it, against PyTorch with a DataLoader whose workers decode
// and make the views (bench/reference/pretrain_e2e.py), same images, epochs, batch and device.
// spotdiff's figure is its training loop's images/s from log.jsonl (every step's time, input
// waits included; each step reads its loss, which waits for the device; checkpoint writes left
// out); the whole command's wall time, start-up and model building included, is shown too.
// Target (issue 11): end to end ≥ 80% of the optimisation step alone (bench/simsiam-spd.ts).
//
// usage: node dist/bench/pretrain-e2e.js [--images 600] [--epochs 3] [--batch 64] [--size 224]
//        [--workers 12] [--threads 2] [--device cpu|cuda] [--cache-on auto|host|device]
//        [--data DIR (reuse)] [--json]
// --cache-on is pretrain's (where its decoded images are kept; auto: the GPU when they fit).
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { referencePython, repoRoot, runMeasurement } from './lib/measure.js';
import { benchDevice, useDevice } from './lib/device.js';

interface Side {
  engine: string;
  images: number;
  wall_s: number;
  images_per_s: number;
  /** spotdiff: the whole command's images/s, start-up included. */
  command_images_per_s?: number;
  /** spotdiff: where its decoded images were kept ('device' or 'host') and the bytes allowed there. */
  image_cache?: { place: string; bytes: number };
  last_loss: number;
}

const { values: opts } = parseArgs({
  options: {
    images: { type: 'string', default: '600' },
    epochs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '64' },
    size: { type: 'string', default: '224' },
    workers: { type: 'string', default: String(Math.min(12, availableParallelism())) },
    threads: { type: 'string', default: '2' },
    device: { type: 'string', default: 'cpu' },
    'cache-on': { type: 'string', default: 'auto' },
    data: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const device = benchDevice(opts.device);
const threads = Number(opts.threads);
const reference = join(repoRoot, 'bench/reference/pretrain_e2e.py');

/** Runs `spotdiff pretrain` and reads its training loop's time back from log.jsonl. */
function spotdiff(data: string, out: string): Side {
  const t0 = performance.now();
  const cli = join(repoRoot, 'dist/src/cli/main.js');
  const args = [cli, 'pretrain', '--method', 'simsiam', '--spd', '0.1', '--data', data, '--backbone', 'resnet18', '--epochs', opts.epochs!, '--batch-size', opts.batch!, '--size', opts.size!, '--device', device, '--cache-on', opts['cache-on']!, '--out', out, '--json'];
  const result = runMeasurement<{ lastEpochLoss: number | null; imageCache: { place: string; bytes: number } }>(process.execPath, args, threads);
  const wall = (performance.now() - t0) / 1000;
  const steps = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { imagesPerSecond: number });
  const batch = Number(opts.batch);
  const loopS = steps.reduce((s, r) => s + batch / r.imagesPerSecond, 0);
  const images = steps.length * batch;
  return { engine: 'spotdiff pretrain', images, wall_s: loopS, images_per_s: images / loopS, command_images_per_s: images / wall, image_cache: result.imageCache, last_loss: result.lastEpochLoss ?? NaN };
}

function pytorch(data: string): Side {
  const args = [reference, 'run', '--data', data, '--epochs', opts.epochs!, '--batch', opts.batch!, '--size', opts.size!, '--workers', opts.workers!, '--threads', String(threads), '--device', device];
  return runMeasurement<Side>(referencePython, args, threads, true);
}

function main(): void {
  useDevice(device);
  const work = mkdtempSync(join(tmpdir(), 'spotdiff-bench-pretrain-'));
  try {
    const data = opts.data ?? join(work, 'images');
    mkdirSync(data, { recursive: true });
    if (readdirSync(data).filter((f) => f.endsWith('.jpg')).length < Number(opts.images)) {
      runMeasurement(referencePython, [reference, 'make-images', '--out', data, '--count', opts.images!, '--size', String(Math.max(256, Number(opts.size)))], threads);
    }
    process.stderr.write('spotdiff pretrain...\n');
    const ts = spotdiff(data, join(work, 'run'));
    process.stderr.write('PyTorch...\n');
    const py = pytorch(data);
    const config = { images: Number(opts.images), epochs: Number(opts.epochs), batch: Number(opts.batch), size: Number(opts.size), workers: Number(opts.workers), threads, device };
    if (opts.json) {
      process.stdout.write(JSON.stringify({ config, spotdiff: ts, pytorch: py }) + '\n');
      return;
    }
    process.stdout.write(
      [
        `SimSiam + SPD pre-training end to end, ResNet-18, ${config.images} images, ${config.epochs} epochs, batch ${config.batch}, ${config.size} px, ${device}; PyTorch DataLoader with ${config.workers} workers`,
        `                          spotdiff     PyTorch    ratio`,
        `images/s (training loop)${ts.images_per_s.toFixed(1).padStart(10)}  ${py.images_per_s.toFixed(1).padStart(10)}    ${(ts.images_per_s / py.images_per_s).toFixed(3)}`,
        `images/s (whole command)${ts.command_images_per_s!.toFixed(1).padStart(10)}`,
        `spotdiff's images kept   ${ts.image_cache!.place} (${(ts.image_cache!.bytes / 2 ** 20).toFixed(0)} MiB)`,
        `last epoch's mean loss  ${ts.last_loss.toFixed(4).padStart(10)}  ${py.last_loss.toFixed(4).padStart(10)}`,
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
