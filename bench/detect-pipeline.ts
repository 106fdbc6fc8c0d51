// 1-class detection end to end, spotdiff against the same pipeline in Python PyTorch
// (bench/reference/detect_pipeline.py), same machine, same thread count, same backbone weights
// (torchvision's random initialisation, seed 0, saved once by Python and loaded by both):
//   PatchCore: WideResNet-50-2, layer2+3, 3x3 patches pooled to 1024-d, 10% greedy coreset on
//              a 128-d projection, Euclidean nearest neighbour, k = 9 re-weighted image score;
//   PaDiM:     ResNet-18, layer1-3, 100 random channels, per-position Gaussian, Mahalanobis.
// Data: a synthetic object ('board') at 256 px, 200 train and 100 test images (50 normal, 50
// anomalous); --small: 20 and 10. Fit = decode + backbone + fit; eval = decode + backbone +
// scoring + maps (upsampling and σ = 4 blur) of the test set. Each side runs in a fresh process
// (its peak RSS is the pipeline's). Prints wall times, peak memory, the ratio spotdiff/PyTorch
// and where the time goes.
//
// --device cuda runs both sides' backbone and detector math on the GPU (spotdiff: the engine's
// default device, so the fitters follow their features there; each batch's scores are read back,
// which waits for the device). Decoding stays on the CPU on both sides.
//
// usage: node dist/bench/detect-pipeline.js [--small] [--methods patchcore,padim] [--threads 2]
//        [--batch 8] [--size 256] [--device cpu|cuda] [--data DIR (reuse a dataset made by an earlier run)]
//        [--only spotdiff|pytorch (one side, e.g. to re-time it on a quieter machine)] [--json]
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { referencePython, repoRoot, runMeasurement } from './lib/measure.js';
import { benchDevice, useDevice, waitForDevice } from './lib/device.js';

type Method = 'patchcore' | 'padim';
interface Lists {
  train: string[];
  test: { image: string; label: number }[];
}
interface Measurement {
  engine: string;
  method: Method;
  threads: number;
  setup_s: number;
  fit_s: number;
  eval_s: number;
  total_s: number;
  cpu_s: number;
  /** Seconds per stage (see the Python file's docstring for what each holds). */
  stages: Record<string, number>;
  max_rss_mb: number;
  scores: number[];
  extra: Record<string, number>;
}

const reference = join(repoRoot, 'bench/reference/detect_pipeline.py');
const ARCH: Record<Method, string> = { patchcore: 'wide_resnet50_2', padim: 'resnet18' };

const { values: opts } = parseArgs({
  options: {
    child: { type: 'string' },
    lists: { type: 'string' },
    weights: { type: 'string' },
    small: { type: 'boolean', default: false },
    methods: { type: 'string', default: 'patchcore,padim' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '256' },
    device: { type: 'string', default: 'cpu' },
    data: { type: 'string' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const threads = Number(opts.threads);
const batch = Number(opts.batch);
const size = Number(opts.size);
const device = benchDevice(opts.device);

/** The spotdiff side, in this (child) process: the library parts `spotdiff fit` / `eval` use. */
async function measure(method: Method, lists: Lists, weights: string): Promise<Measurement> {
  const T = await import('../src/tensor/index.js');
  const { createBackbone } = await import('../src/models/backbone.js');
  const { batchFeatures, disposeFeatures } = await import('../src/models/feature-extractor.js');
  const { DataLoader } = await import('../src/data/loader.js');
  const { PatchcoreFitter, PatchcoreModel, patchcoreEmbedding } = await import('../src/detect/patchcore/index.js');
  const { PadimFitter, padimEmbedding } = await import('../src/detect/padim/index.js');
  const { anomalyMaps } = await import('../src/detect/common/anomaly-map.js');
  T.setNumThreads(threads);
  useDevice(device);
  const stages: Record<string, number> = {};
  const add = (name: string, t0: number): void => {
    stages[name] = (stages[name] ?? 0) + (performance.now() - t0) / 1000;
  };
  const t0 = performance.now();
  const { model: backbone } = await createBackbone(ARCH[method] as 'resnet18', weights, 0);
  const setup = (performance.now() - t0) / 1000;
  const layers = method === 'patchcore' ? ['layer2', 'layer3'] : ['layer1', 'layer2', 'layer3'];
  const input = { backbone: ARCH[method] as string, weights: null, resize: null, crop: null, imageSize: [size, size] as [number, number] };

  /**
   * Batches, timing how long the main thread waits for decoding: the loader decodes on libuv
   * threads while the backbone runs, so only the wait is part of the wall time.
   */
  async function* images(samples: { image: string; label: number }[], stage = 'decode') {
    const loader = new DataLoader(
      samples.map((s) => ({ image: s.image, label: s.label === 1 ? ('anomaly' as const) : ('normal' as const), mask: null, object: 'board', defect: null, split: null })),
      { batchSize: batch, preprocess: { resize: [size, size] } },
    );
    const it = loader[Symbol.asyncIterator]();
    for (;;) {
      const w = performance.now();
      const r = await it.next();
      add(stage, w);
      if (r.done) return;
      yield r.value;
    }
  }

  const fitStart = performance.now();
  const fitter = method === 'patchcore' ? new PatchcoreFitter({ input }) : new PadimFitter({ input });
  type FeatureMaps = Parameters<typeof fitter.add>[0];
  for await (const b of images(lists.train.map((image) => ({ image, label: 0 })))) {
    let t = performance.now();
    const features = batchFeatures(backbone, b.images, b.shape, layers);
    waitForDevice(device);
    add('backbone', t);
    t = performance.now();
    fitter.add(features);
    waitForDevice(device);
    add('embed', t);
    disposeFeatures(features);
  }
  let t = performance.now();
  const model = fitter.finish();
  waitForDevice(device);
  add(method === 'patchcore' ? 'coreset' : 'statistics', t);
  const embedding = (features: FeatureMaps): unknown =>
    model instanceof PatchcoreModel ? patchcoreEmbedding(features, model.config).embedding : padimEmbedding(features, model.config.layers, model.channelIndex, model.config.fitted!);
  waitForDevice(device);
  const fitS = (performance.now() - fitStart) / 1000;

  // Scoring runs as `spotdiff eval` does (one scoreTensors call per batch); its embedding and
  // map steps are timed again on the side to split the time, and that extra time is taken out.
  const evalStart = performance.now();
  let extraS = 0;
  const scores: number[] = [];
  for await (const b of images(lists.test)) {
    t = performance.now();
    const features = batchFeatures(backbone, b.images, b.shape, layers);
    waitForDevice(device);
    add('backbone', t);
    t = performance.now();
    const s = model.scoreTensors(features);
    scores.push(...s.imageScores.toFloat32());
    s.maps.toFloat32();
    const scoring = (performance.now() - t) / 1000;
    t = performance.now();
    T.tidy(() => {
      embedding(features);
    });
    waitForDevice(device);
    const embed = (performance.now() - t) / 1000;
    t = performance.now();
    T.tidy(() => anomalyMaps(s.patchScores, [size, size], model.config.map).toFloat32());
    const maps = (performance.now() - t) / 1000;
    stages['embed'] = (stages['embed'] ?? 0) + embed;
    stages['maps'] = (stages['maps'] ?? 0) + maps;
    stages[method === 'patchcore' ? 'knn' : 'mahalanobis'] = (stages[method === 'patchcore' ? 'knn' : 'mahalanobis'] ?? 0) + scoring - embed - maps;
    extraS += embed + maps;
    T.dispose(s);
    disposeFeatures(features);
  }
  const evalS = (performance.now() - evalStart) / 1000 - extraS;
  // Decoding alone (a separate pass over every image, not part of the wall times): its cost
  // when nothing else runs, comparable with PyTorch's serial PIL decoding.
  for await (const b of images([...lists.train.map((image) => ({ image, label: 0 })), ...lists.test], 'decode alone')) void b;
  const cpu = process.cpuUsage();
  const extra: Record<string, number> = model instanceof PatchcoreModel ? { memory: model.memorySize } : { bytes: model.bytes };
  model.dispose();
  backbone.dispose();
  return {
    engine: `spotdiff (libtorch ${T.engineInfo().torchVersion})`,
    method,
    threads: T.getNumThreads(),
    setup_s: setup,
    fit_s: fitS,
    eval_s: evalS,
    total_s: fitS + evalS,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    stages,
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    scores,
    extra,
  };
}

/** The side --only left out: no figures. */
function skipped(method: Method): Measurement {
  return { engine: 'skipped', method, threads, setup_s: NaN, fit_s: NaN, eval_s: NaN, total_s: NaN, cpu_s: NaN, stages: {}, max_rss_mb: NaN, scores: [], extra: {} };
}

/** The synthetic object and the train/test lists (first `train` normals train; the rest and the anomalies test). */
async function dataset(dir: string, train: number, testNormal: number, testAnomalous: number): Promise<Lists> {
  const base = join(dir, 'board', 'Data', 'Images');
  if (!existsSync(base)) {
    const { generateSynthDataset } = await import('../src/data/synth/generate.js');
    const t = performance.now();
    await generateSynthDataset({ out: dir, objects: ['board'], seed: 0, normal: train + testNormal, anomalous: testAnomalous, size, threads });
    process.stderr.write(`synthetic data: ${train + testNormal + testAnomalous} images at ${size} px in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  }
  const list = (sub: string): string[] => readdirSync(join(base, sub)).filter((f) => f.endsWith('.JPG')).sort().map((f) => join(base, sub, f));
  const normal = list('Normal');
  const anomalous = list('Anomaly');
  if (normal.length < train + testNormal || anomalous.length < testAnomalous) throw new Error(`${dir} holds too few images for this run; remove it or pass another --data`);
  return {
    train: normal.slice(0, train),
    test: [...normal.slice(train, train + testNormal).map((image) => ({ image, label: 0 })), ...anomalous.slice(0, testAnomalous).map((image) => ({ image, label: 1 }))],
  };
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

async function main(): Promise<void> {
  if (opts.child !== undefined) {
    const { readFileSync } = await import('node:fs');
    const lists = JSON.parse(readFileSync(opts.lists!, 'utf8')) as Lists;
    process.stdout.write(JSON.stringify(await measure(opts.child as Method, lists, opts.weights!)) + '\n');
    return;
  }
  useDevice(device);
  const methods = opts.methods!.split(',').map((m) => m.trim()) as Method[];
  for (const m of methods) if (m !== 'patchcore' && m !== 'padim') throw new Error(`unknown method ${m}`);
  const [train, testNormal, testAnomalous] = opts.small ? [20, 5, 5] : [200, 50, 50];
  const work = mkdtempSync(join(tmpdir(), 'spotdiff-bench-detect-'));
  try {
    const dataDir = opts.data ?? join(work, 'data');
    mkdirSync(dataDir, { recursive: true });
    const lists = await dataset(dataDir, train, testNormal, testAnomalous);
    const listsPath = join(work, 'lists.json');
    writeFileSync(listsPath, JSON.stringify(lists));
    const labels = lists.test.map((t) => t.label);
    const { binaryMetrics } = await import('../src/metrics/index.js');
    const loadBefore = loadavg()[0] as number;
    const results: Record<string, { ts: Measurement; py: Measurement }> = {};
    for (const method of methods) {
      const weights = join(work, `${ARCH[method]}.pth`);
      runMeasurement<Measurement>(referencePython, [reference, 'save-weights', '--arch', ARCH[method], '--out', weights], threads, true);
      const self = fileURLToPath(import.meta.url);
      process.stderr.write(`${method}: spotdiff...\n`);
      const ts = opts.only === 'pytorch' ? skipped(method) : runMeasurement<Measurement>(process.execPath, [self, '--child', method, '--lists', listsPath, '--weights', weights, '--threads', String(threads), '--batch', String(batch), '--size', String(size), '--device', device], threads, true);
      process.stderr.write(`${method}: PyTorch...\n`);
      const py = opts.only === 'spotdiff' ? skipped(method) : runMeasurement<Measurement>(referencePython, [reference, 'run', '--method', method, '--lists', listsPath, '--weights', weights, '--threads', String(threads), '--batch', String(batch), '--size', String(size), '--device', device], threads, true);
      results[method] = { ts, py };
    }
    const load = { before: loadBefore, after: loadavg()[0] as number };
    if (opts.json) {
      process.stdout.write(JSON.stringify({ config: { train, test: lists.test.length, size, threads, batch, device }, load_average: load, results }, null, 2) + '\n');
      return;
    }
    const f = (v: number | undefined, d = 1): string => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d)).padStart(10);
    const row = (label: string, a: number | undefined, b: number | undefined): string =>
      `  ${label.padEnd(28)}${f(a)}${f(b)}${a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2).padStart(9) : ''}`;
    const lines = [
      `1-class detection, ${train} train + ${lists.test.length} test images (${testAnomalous} anomalous) at ${size} px, batch ${batch}, ${device}, ${threads} threads, random-init backbone (same weights both sides)`,
      `load average ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after (${availableParallelism()} cores): above the core count, other work shares the CPUs`,
    ];
    for (const method of methods) {
      const { ts, py } = results[method]!;
      lines.push('', `${method === 'patchcore' ? 'PatchCore, WideResNet-50-2' : 'PaDiM, ResNet-18 (100 channels)'}         spotdiff   PyTorch    ratio`);
      lines.push(row('fit s (wall)', ts.fit_s, py.fit_s), row('eval s (wall)', ts.eval_s, py.eval_s), row('fit + eval s (wall)', ts.total_s, py.total_s));
      lines.push(row('CPU s (all threads)', ts.cpu_s, py.cpu_s), row('peak RSS MB', ts.max_rss_mb, py.max_rss_mb), row('backbone load s (not timed)', ts.setup_s, py.setup_s));
      lines.push('  where the time goes (s; spotdiff decodes on libuv threads while the backbone runs: its "decode"');
      lines.push('  is the main thread\'s wait, "decode alone" a separate decoding pass outside the wall times):');
      if (py.stages['decode'] !== undefined) py.stages['decode alone'] = py.stages['decode'];
      const names = [...new Set([...Object.keys(ts.stages), ...Object.keys(py.stages)])];
      const order = ['decode', 'decode alone', 'backbone', 'embed', 'coreset', 'statistics', 'knn', 'mahalanobis', 'maps'];
      names.sort((a, b) => order.indexOf(a) - order.indexOf(b));
      for (const n of names) lines.push(row(`  ${n}`, ts.stages[n], py.stages[n]));
      const auroc = (m: Measurement): string => (m.scores.length === 0 ? '-' : binaryMetrics(labels, m.scores).auroc.toFixed(3));
      const together = ts.scores.length > 0 && py.scores.length > 0 ? `; image scores correlate ${pearson(ts.scores, py.scores).toFixed(4)}` : '';
      lines.push(`  image AU-ROC ${auroc(ts)} (spotdiff) / ${auroc(py)} (PyTorch)${together}`);
      lines.push(`  model: ${Object.entries(ts.extra).map(([k, v]) => `${k} ${v}`).join(', ')} (spotdiff); ${Object.entries(py.extra).map(([k, v]) => `${k} ${v}`).join(', ')} (PyTorch)`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
