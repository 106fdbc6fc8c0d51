// Scoring speed of a PatchCore model (predict's work, without decoding) on three engines, same
// machine, same thread count, same input: spotdiff on ONNX Runtime (the model written by
// `spotdiff export`), spotdiff on libtorch (the model folder), and Python PyTorch
// (bench/reference/onnx_predict.py: the same shapes, torchvision WideResNet-50-2).
// The model: WideResNet-50-2 (seeded random weights), layer2+3, 1024-d patches, 10% coreset,
// Euclidean, k = 9 re-weighted image score, σ = 4 map blur, fitted by `spotdiff fit` on
// synthetic 256 px images (--train of them: the bank has about train × 1024 × 10% rows).
// Latency: one image per call (median of --runs); throughput: --batch images per call.
// Prints each engine's figures and its throughput ratio against PyTorch's.
//
// usage: node dist/bench/onnx-predict.js [--train 10] [--size 256] [--threads 2] [--batch 4]
//        [--runs 3] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, referencePython, repoRoot, runMeasurement } from './lib/measure.js';

interface Measurement {
  engine: string;
  latency_ms: number;
  images_per_s: number;
  [k: string]: unknown;
}

const { values: opts } = parseArgs({
  options: {
    child: { type: 'string' },
    model: { type: 'string' },
    train: { type: 'string', default: '10' },
    size: { type: 'string', default: '256' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const size = Number(opts.size);
const threads = Number(opts.threads);
const batch = Number(opts.batch);
const runs = Number(opts.runs);

/** The same pseudo-random images in [0, 1] on every side (a fixed linear congruential sequence). */
function images(count: number): Float32Array {
  const out = new Float32Array(count * 3 * size * size);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s >>> 8) / (1 << 24);
  }
  return out;
}

/** Median latency of one image per call, and images/s at `batch` per call, after one warm-up call. */
async function time(score: (x: Float32Array, n: number) => Promise<void>): Promise<{ latency_ms: number; images_per_s: number }> {
  const one = images(1);
  const many = images(batch);
  await score(one, 1);
  const lat: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await score(one, 1);
    lat.push(performance.now() - t);
  }
  const t = performance.now();
  for (let i = 0; i < runs; i++) await score(many, batch);
  return { latency_ms: median(lat), images_per_s: (batch * runs) / ((performance.now() - t) / 1000) };
}

async function onnxSide(file: string): Promise<Measurement> {
  const { openOnnxScorer } = await import('../src/export/onnx/index.js');
  const scorer = await openOnnxScorer(file, { threads });
  try {
    return { engine: 'spotdiff onnxruntime', ...(await time(async (x, n) => void (await scorer.score(x, n)))) };
  } finally {
    await scorer.close();
  }
}

async function libtorchSide(dir: string): Promise<Measurement> {
  const T = await import('../src/tensor/index.js');
  const { loadModelFolder, disposeModel } = await import('../src/detect/run/model-folder.js');
  const { IMAGENET_MEAN, IMAGENET_STD } = await import('../src/data/image.js');
  T.setNumThreads(threads);
  const model = await loadModelFolder(dir);
  const plane = size * size;
  try {
    const m = await time(async (x, n) => {
      // The detector takes normalised images (the ONNX graph normalises inside): normalise here, timed.
      const norm = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const c = Math.floor(i / plane) % 3;
        norm[i] = ((x[i] as number) - (IMAGENET_MEAN[c] as number)) / (IMAGENET_STD[c] as number);
      }
      T.tidy(() => {
        const s = model.detector.score(T.tensor(norm, [n, 3, size, size]));
        s.imageScores.toFloat32();
        s.maps.toFloat32();
      });
    });
    return { engine: 'spotdiff libtorch', ...m };
  } finally {
    disposeModel(model);
  }
}

function cli(args: string[]): void {
  runMeasurement<unknown>(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args, '--json'], threads);
}

async function main(): Promise<void> {
  if (opts.child !== undefined) {
    const m = opts.child === 'onnx' ? await onnxSide(join(opts.model!, 'model.onnx')) : await libtorchSide(opts.model!);
    process.stdout.write(JSON.stringify(m) + '\n');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'spotdiff-bench-onnx-'));
  try {
    const raw = join(dir, 'raw');
    const model = join(dir, 'model');
    cli(['synth', '--out', raw, '--objects', 'pills', '--normal', String(Number(opts.train) + 4), '--anomalous', '2', '--size', String(size), '--quiet']);
    runMeasurement<unknown>(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'prepare', '--split-type', '1cls', '--data-folder', raw, '--save-folder', join(dir, 'prep'), '--json'], threads);
    cli(['fit', '--method', 'patchcore', '--data', join(dir, 'prep', '1cls'), '--backbone', 'wide_resnet50_2', '--size', String(size), '--quiet', '--out', model]);
    cli(['export', '--model', model, '--out', join(model, 'model.onnx')]);
    const { readManifest } = await import('../src/detect/run/model-folder.js');
    const bank = ((await readManifest(model)).detector as unknown as { fitted: { memorySize: number } }).fitted.memorySize;
    const self = fileURLToPath(import.meta.url);
    const common = ['--model', model, '--size', String(size), '--threads', String(threads), '--batch', String(batch), '--runs', String(runs)];
    const rows: Measurement[] = [
      runMeasurement<Measurement>(process.execPath, [self, '--child', 'onnx', ...common], threads),
      runMeasurement<Measurement>(process.execPath, [self, '--child', 'libtorch', ...common], threads),
      runMeasurement<Measurement>(referencePython, [join(repoRoot, 'bench/reference/onnx_predict.py'), '--bank', String(bank), '--size', String(size), '--threads', String(threads), '--batch', String(batch), '--runs', String(runs)], threads),
    ];
    const py = rows[2]!.images_per_s;
    const result = { size, threads, batch, runs, memoryBank: bank, rows: rows.map((r) => ({ ...r, vs_pytorch: r.images_per_s / py })) };
    if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      console.log(`PatchCore WRN-50-2 at ${size} px, memory bank ${bank} × 1024, ${threads} threads, batch ${batch}, ${runs} runs`);
      for (const r of result.rows) console.log(`${r.engine.padEnd(22)} latency ${r.latency_ms.toFixed(1).padStart(8)} ms/img   throughput ${r.images_per_s.toFixed(2).padStart(7)} img/s   ×${r.vs_pytorch.toFixed(2)} PyTorch`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
