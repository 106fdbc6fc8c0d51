// Exact pixel-level AU-PR + AU-ROC over a test set of anomaly maps (default 200 maps of 512×512 =
// 52.4 M pixels): spotdiff's bounded-memory sweep against NumPy/scikit-learn
// (roc_auc_score and auc(recall, precision) of precision_recall_curve on the flattened pixels),
// on the same data, each measurement in its own fresh process so its peak RSS is its own.
//
//   ts-memory  all maps in memory (as NumPy holds them), then spotdiff's exact metrics
//   ts-stream  maps generated one at a time on every pass: memory no longer grows with the data
//   sklearn    np.load of the same maps, then scikit-learn
//   sklearn-scale  scikit-learn on more maps (NumPy-generated, same recipe), under an address-
//              space limit, to find where it runs out of memory
//
// usage: node dist/bench/metrics-pixel.js [--maps 200] [--size 512] [--stream-maps 200,1600]
//        [--sklearn-maps 400,800,1200,1600] [--limit-gb 14] [--aupro] [--device cpu] [--json]
// Both sides run on the CPU only (spotdiff's pixel metrics are JavaScript, scikit-learn has no
// GPU path): --device cuda is refused with that reason.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pixelMetrics } from '../src/metrics/pixel.js';
import type { MapSource, ScoreMap } from '../src/metrics/score-map.js';
import { npyHeader } from '../src/data/npy.js';
import { Random } from '../src/util/random.js';
import { referencePython as python } from './lib/measure.js';
import { benchDevice, usageExit } from './lib/device-flag.js';

const self = fileURLToPath(import.meta.url);

const { values: args } = parseArgs({
  options: {
    maps: { type: 'string', default: '200' },
    size: { type: 'string', default: '512' },
    'stream-maps': { type: 'string', default: '200,1600' },
    'sklearn-maps': { type: 'string', default: '400,800,1200,1600' },
    'limit-gb': { type: 'string', default: '14' },
    aupro: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    worker: { type: 'string' },
    device: { type: 'string', default: 'cpu' },
    dir: { type: 'string' },
  },
});
const SIZE = Number(args.size);
if (benchDevice(args.device) === 'cuda') usageExit('metrics-pixel has no device work: spotdiff\'s pixel metrics and scikit-learn run on the CPU only (use --device cpu)');
const SEED = 2024;

/**
 * One synthetic anomaly map: half the maps carry 1-4 elliptic defects (about 1% of the pixels
 * overall, as in VisA's test sets); scores are noise plus a smooth bump over each defect, so
 * almost every pixel has its own float32 value (the hard case for exact metrics).
 */
function makeMap(index: number): ScoreMap {
  const rng = Random.derive(SEED, 'map', index);
  const n = SIZE * SIZE;
  const scores = new Float32Array(n);
  const mask = new Uint8Array(n);
  const defects = index % 2 === 1 ? 1 + rng.int(4) : 0;
  const blobs: [number, number, number, number][] = [];
  for (let d = 0; d < defects; d++) blobs.push([rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(4, SIZE / 12), rng.uniform(4, SIZE / 12)]);
  for (let i = 0; i < n; i++) scores[i] = 0.5 * rng.float();
  for (const [cx, cy, rx, ry] of blobs) {
    const x0 = Math.max(0, Math.floor(cx - 2 * rx));
    const x1 = Math.min(SIZE - 1, Math.ceil(cx + 2 * rx));
    const y0 = Math.max(0, Math.floor(cy - 2 * ry));
    const y1 = Math.min(SIZE - 1, Math.ceil(cy + 2 * ry));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const r2 = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
        const i = y * SIZE + x;
        if (r2 <= 1) mask[i] = 1;
        scores[i] = (scores[i] as number) + 0.6 * Math.exp(-r2);
      }
    }
  }
  return { scores, mask, width: SIZE, height: SIZE };
}

function mb(kb: number): number {
  return Math.round(kb / 1024);
}

async function workerTs(mode: 'ts-memory' | 'ts-stream', maps: number, aupro: boolean): Promise<void> {
  let source: MapSource;
  let genMs = 0;
  const rssBefore = process.memoryUsage().rss;
  if (mode === 'ts-memory') {
    const all = Array.from({ length: maps }, (_, i) => makeMap(i));
    source = () => all;
  } else {
    source = function* () {
      for (let i = 0; i < maps; i++) yield makeMap(i);
    };
    // Generation alone, one pass (CPU time), so the metric time can be told apart from it.
    const c = process.cpuUsage();
    for (let i = 0; i < maps; i++) makeMap(i);
    const used = process.cpuUsage(c);
    genMs = (used.user + used.system) / 1000;
  }
  const rssData = process.memoryUsage().rss;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const m = await pixelMetrics(source, { aupro: aupro ? {} : false, curvePoints: 0 });
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  const out = {
    mode,
    maps,
    pixels: m.pixels,
    seconds: ms / 1000,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    generation_seconds_per_pass: genMs / 1000,
    passes: m.passes,
    distinct: m.distinctScores,
    auroc: m.auroc,
    aupr: m.aupr,
    aupro: m.aupro,
    rss_start_mb: Math.round(rssBefore / 2 ** 20),
    rss_with_data_mb: Math.round(rssData / 2 ** 20),
    peak_rss_mb: mb(process.resourceUsage().maxRSS),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

const SKLEARN = `
import json, sys, time, resource
import numpy as np
from sklearn.metrics import roc_auc_score, precision_recall_curve, auc
mode, folder, maps, size, limit_gb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
limit = int(limit_gb * 2**30)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
out = dict(mode=mode, maps=maps, pixels=maps * size * size, limit_gb=limit_gb, rss_start_mb=peak())
try:
    if mode == 'sklearn':
        s = np.load(f'{folder}/scores.npy').ravel(); y = np.load(f'{folder}/masks.npy').ravel()
    else:
        # The same recipe as the TS generator, in NumPy: noise, and elliptic bumps on odd maps.
        rng = np.random.default_rng(0)
        s = (0.5 * rng.random(maps * size * size, dtype=np.float32)).reshape(maps, size, size)
        y = np.zeros((maps, size, size), dtype=np.uint8)
        yy, xx = np.mgrid[0:size, 0:size]
        for i in range(1, maps, 2):
            for _ in range(rng.integers(1, 5)):
                cx, cy = rng.uniform(0, size, 2); rx, ry = rng.uniform(4, size / 12, 2)
                r2 = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
                y[i][r2 <= 1] = 1
                s[i] += (0.6 * np.exp(-np.minimum(r2, 50))).astype(np.float32) * (r2 <= 4)
        s = s.ravel(); y = y.ravel()
    out['rss_with_data_mb'] = peak()
    cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    c0 = cpu()
    t0 = time.perf_counter()
    out['auroc'] = roc_auc_score(y, s)
    t1 = time.perf_counter()
    p, r, _ = precision_recall_curve(y, s)
    out['aupr'] = auc(r, p)
    t2 = time.perf_counter()
    out.update(seconds=t2 - t0, cpu_seconds=cpu() - c0, roc_seconds=t1 - t0, pr_seconds=t2 - t1, distinct=int(len(p) - 1))
except MemoryError:
    out['memory_error'] = True
out['peak_rss_mb'] = peak()
print(json.dumps(out))
`;

function runWorker(argv: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [self, ...argv], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`worker ${argv.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
}

function runSklearn(mode: 'sklearn' | 'sklearn-scale', dir: string, maps: number, limitGb: number): Record<string, unknown> {
  const r = spawnSync(python, ['-c', SKLEARN, mode, dir, String(maps), String(SIZE), String(limitGb)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !line) return { mode, maps, pixels: maps * SIZE * SIZE, failed: true, exit: r.status, signal: r.signal, stderr: r.stderr.slice(-500) };
  return JSON.parse(line) as Record<string, unknown>;
}

/** Writes the maps as one N×H×W float32 .npy and one uint8 mask .npy, map by map. */
function writeDataset(dir: string, maps: number): void {
  const fs = openSync(join(dir, 'scores.npy'), 'w');
  const fm = openSync(join(dir, 'masks.npy'), 'w');
  writeSync(fs, npyHeader('float32', [maps, SIZE, SIZE]));
  writeSync(fm, npyHeader('uint8', [maps, SIZE, SIZE]));
  for (let i = 0; i < maps; i++) {
    const m = makeMap(i);
    writeSync(fs, new Uint8Array(m.scores.buffer));
    writeSync(fm, m.mask as Uint8Array);
  }
  closeSync(fs);
  closeSync(fm);
}

async function main(): Promise<void> {
  if (args.worker === 'ts-memory' || args.worker === 'ts-stream') return workerTs(args.worker, Number(args.maps), args.aupro);
  const maps = Number(args.maps);
  const limitGb = Number(args['limit-gb']);
  const rows: Record<string, unknown>[] = [];
  const say = (r: Record<string, unknown>): void => {
    rows.push(r);
    if (!args.json) process.stderr.write(`  ${JSON.stringify(r)}\n`);
  };
  const dir = mkdtempSync(join(tmpdir(), 'spotdiff-bench-metrics-'));
  try {
    writeDataset(dir, maps);
    const tsMem = runWorker(['--worker', 'ts-memory', '--maps', String(maps), '--size', String(SIZE)]);
    say(tsMem);
    const tsMemPro = runWorker(['--worker', 'ts-memory', '--maps', String(maps), '--size', String(SIZE), '--aupro']);
    say(tsMemPro);
    const sk = runSklearn('sklearn', dir, maps, limitGb);
    say(sk);
    for (const n of args['stream-maps'].split(',').map(Number)) say(runWorker(['--worker', 'ts-stream', '--maps', String(n), '--size', String(SIZE)]));
    for (const n of args['sklearn-maps'].split(',').filter((s) => s !== '').map(Number)) {
      const r = runSklearn('sklearn-scale', dir, n, limitGb);
      say(r);
      if (r.memory_error || r.failed) break;
    }
    const agree = typeof sk.auroc === 'number' ? { auroc: Math.abs((tsMem.auroc as number) - sk.auroc), aupr: Math.abs((tsMem.aupr as number) - (sk.aupr as number)) } : null;
    if (args.json) {
      process.stdout.write(JSON.stringify({ size: SIZE, maps, rows, agreement: agree }, null, 2) + '\n');
      return;
    }
    const line = (r: Record<string, unknown>): string => {
      const mpx = ((r.pixels as number) / 1e6).toFixed(1);
      if (r.memory_error) return `${String(r.mode).padEnd(13)} ${String(r.maps).padStart(5)} maps ${mpx.padStart(6)} Mpx   MemoryError under a ${r.limit_gb} GB address-space limit (peak RSS ${r.peak_rss_mb} MB)`;
      if (r.failed) return `${String(r.mode).padEnd(13)} ${String(r.maps).padStart(5)} maps ${mpx.padStart(6)} Mpx   failed (exit ${r.exit}, signal ${r.signal})`;
      const extra = r.passes !== undefined ? `  ${r.passes} reads${r.aupro !== null && r.aupro !== undefined ? ', +AUPRO' : ''}` : '';
      const genSeconds = ((r.generation_seconds_per_pass as number) ?? 0) * ((r.passes as number) ?? 0);
      const gen = genSeconds > 0 ? ` (of the CPU time, ~${genSeconds.toFixed(1)} s generates the maps on each read)` : '';
      return `${String(r.mode).padEnd(13)} ${String(r.maps).padStart(5)} maps ${mpx.padStart(6)} Mpx  ${(r.seconds as number).toFixed(1).padStart(6)} s wall ${(r.cpu_seconds as number).toFixed(1).padStart(6)} s CPU  peak RSS ${String(r.peak_rss_mb).padStart(6)} MB (data loaded: ${r.rss_with_data_mb} MB)${extra}${gen}`;
    };
    console.log(`exact pixel-level AU-ROC + AU-PR, ${SIZE}×${SIZE} maps; Node ${process.version}, ${python} (scikit-learn), one process per row`);
    for (const r of rows) console.log(line(r));
    if (agree) console.log(`agreement with scikit-learn on the same ${maps} maps: |ΔAU-ROC| ${agree.auroc.toExponential(1)}, |ΔAU-PR| ${agree.aupr.toExponential(1)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
