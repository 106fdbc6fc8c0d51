// Inspection-server throughput and latency under a bounded local load: `spotdiff serve` runs in
// its own process on a small model (PaDiM, ResNet-18, random init, fitted here on synthetic
// images); N closed-loop clients in this process each POST an image, wait for the answer and
// post the next, for T seconds, after a short warm-up. The run is repeated for each --max-batch
// value (default 1 and 8: without and with batching). Prints requests/s, p50/p99/max latency,
// the mean batch size the server formed (its /v1/health counters) and any non-200 answers.
//
// usage: node dist/bench/serve-load.js [--clients 8] [--seconds 10] [--size 128]
//        [--max-batch 1,8] [--threads N] [--device cpu|cuda] [--model DIR (skip the fit)] [--json]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './lib/measure.js';
import { benchDevice, usageExit } from './lib/device-flag.js';

const { values: opts } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '10' },
    size: { type: 'string', default: '128' },
    'max-batch': { type: 'string', default: '1,8' },
    threads: { type: 'string' },
    device: { type: 'string' },
    model: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const positive = (v: string, flag: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) usageExit(`--${flag} must be a positive integer, got "${v}"`);
  return n;
};
const clients = positive(opts.clients, 'clients');
const seconds = positive(opts.seconds, 'seconds');
const size = positive(opts.size, 'size');
const batches = opts['max-batch'].split(',').map((b) => positive(b, 'max-batch'));
const device = benchDevice(opts.device);
const log = (s: string): void => void process.stderr.write(`${s}\n`);

interface RunFigures {
  maxBatch: number;
  clients: number;
  seconds: number;
  requests: number;
  failed: Record<string, number>;
  throughput: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_batch: number;
}

/** A model folder and test images: the given --model (its images from the synthetic set next to it are not known, so a fresh set is made either way). */
async function prepare(work: string): Promise<{ model: string; images: Buffer[] }> {
  const { generateSynthDataset } = await import('../src/data/synth/generate.js');
  const { prepareVisa } = await import('../src/data/visa/prepare.js');
  await generateSynthDataset({ out: join(work, 'raw'), objects: ['pills'], seed: 0, normal: 24, anomalous: 8, size, threads: 4 });
  const data = (await prepareVisa({ splitType: '1cls', dataFolder: join(work, 'raw'), saveFolder: join(work, 'prep'), progress: false })).outputFolder;
  let model = opts.model;
  if (model === undefined) {
    const { fitModel } = await import('../src/detect/run/fit.js');
    model = join(work, 'model');
    log(`fitting PaDiM ResNet-18 at ${size} px ...`);
    await fitModel({ method: 'padim', data, object: 'pills', backbone: 'resnet18', size, seed: 0, out: model, quiet: true });
  }
  const test = join(data, 'pills', 'test');
  const images = readdirSync(test).flatMap((label) => readdirSync(join(test, label)).map((f) => readFileSync(join(test, label, f))));
  return { model, images };
}

/** Starts `spotdiff serve` on a free port; resolves with its child and address once it listens. */
function startServer(model: string, maxBatch: number): Promise<{ child: ChildProcess; url: string }> {
  const env = { ...process.env, ...(opts.threads !== undefined ? { SPOTDIFF_THREADS: opts.threads, OMP_NUM_THREADS: opts.threads } : {}) };
  const args = [join(repoRoot, 'dist/src/cli/main.js'), 'serve', '--model', model, '--port', '0', '--max-batch', String(maxBatch), '--queue', String(4 * clients), '--device', device];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on('close', (code) => reject(new Error(`spotdiff serve exited (${code}) before listening: ${out}`)));
  });
}

async function post(url: string, body: Buffer): Promise<number> {
  const res = await fetch(`${url}/v1/score`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body });
  await res.arrayBuffer();
  return res.status;
}

/** `clients` closed loops until `until` (performance.now() ms); latencies of 200 answers, counts of others. */
async function load(url: string, images: Buffer[], until: number): Promise<{ latencies: number[]; failed: Record<string, number> }> {
  const latencies: number[] = [];
  const failed: Record<string, number> = {};
  let next = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const body = images[next++ % images.length]!;
      const t0 = performance.now();
      const status = await post(url, body).catch((e: Error) => `${(e.cause as NodeJS.ErrnoException | undefined)?.code ?? e.message}`);
      if (status === 200) latencies.push(performance.now() - t0);
      else failed[String(status)] = (failed[String(status)] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  return { latencies, failed };
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

async function batchCounters(url: string): Promise<{ batches: number; images: number }> {
  const h = (await (await fetch(`${url}/v1/health`)).json()) as { queue: { batches: number; images: number } };
  return h.queue;
}

async function measure(model: string, images: Buffer[], maxBatch: number): Promise<RunFigures> {
  const { child, url } = await startServer(model, maxBatch);
  try {
    await load(url, images, performance.now() + 2000); // warm-up: first forwards, allocator, JIT
    const before = await batchCounters(url);
    const t0 = performance.now();
    const { latencies, failed } = await load(url, images, t0 + seconds * 1000);
    const wall = (performance.now() - t0) / 1000;
    const after = await batchCounters(url);
    const sorted = latencies.sort((a, b) => a - b);
    const round = (x: number): number => Math.round(x * 100) / 100;
    return {
      maxBatch,
      clients,
      seconds: round(wall),
      requests: sorted.length,
      failed,
      throughput: round(sorted.length / wall),
      p50_ms: round(percentile(sorted, 50)),
      p99_ms: round(percentile(sorted, 99)),
      max_ms: round(sorted.at(-1) ?? NaN),
      mean_batch: round((after.images - before.images) / Math.max(1, after.batches - before.batches)),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'spotdiff-serve-load-'));
  try {
    const { model, images } = await prepare(work);
    const rows: RunFigures[] = [];
    for (const b of batches) {
      log(`--max-batch ${b}: ${clients} clients for ${seconds} s ...`);
      rows.push(await measure(model, images, b));
    }
    if (opts.json) {
      process.stdout.write(JSON.stringify({ size, device, threads: opts.threads ?? null, rows }) + '\n');
      return;
    }
    console.log(`spotdiff serve, PaDiM ResNet-18 at ${size} px on ${device}${opts.threads !== undefined ? `, ${opts.threads} threads` : ''}; ${clients} closed-loop clients, ${seconds} s each`);
    console.log('max-batch  requests  req/s     p50 ms   p99 ms   max ms   mean batch  failed');
    for (const r of rows) {
      const failed = Object.entries(r.failed).map(([k, v]) => `${k}×${v}`).join(' ') || '-';
      console.log(`${String(r.maxBatch).padEnd(11)}${String(r.requests).padEnd(10)}${r.throughput.toFixed(1).padEnd(10)}${r.p50_ms.toFixed(1).padEnd(9)}${r.p99_ms.toFixed(1).padEnd(9)}${r.max_ms.toFixed(1).padEnd(9)}${r.mean_batch.toFixed(2).padEnd(12)}${failed}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
