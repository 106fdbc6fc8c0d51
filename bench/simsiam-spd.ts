// SimSiam + SPD pre-training step (ResNet-18, batch 32, 224 px, η = 0.1) on the libtorch addon
// against the same step in Python PyTorch (bench/reference/simsiam_spd.py), same machine, same
// thread count. Two parts are timed apart: making the views (two strong views, the anchor, its
// weak view and the SmoothBlend-perturbed weak view) and the optimisation step (five encoder
// passes, backward, SGD). The target ratio (≤ 1.15) is on the step; images/s counts the batch's
// images per whole step (views + optimisation). Each side runs in its own process.
//
// --precision bf16 runs the forward and loss of both sides under autocast (libtorch's; PyTorch's
// torch.autocast), --channels-last lays both models and views out NHWC; fp32 is the reference.
//
// --views-only times making the views alone, on spotdiff only (no step, no PyTorch): the figure to
// follow when the augmentations change; --baseline FILE (an earlier run's --json output) prints
// each figure's ratio to that run's.
//
// --device cuda runs both sides on the GPU: the images, views, models and step live there (the
// reference still makes its views with torchvision per image, on GPU tensors); the views' timer
// waits for the device (lib/device.ts), the step's ends with the loss's item().
//
// usage: node dist/bench/simsiam-spd.js [--steps 3] [--warmup 1] [--threads 2] [--batch 32] [--size 224] [--device cpu|cuda] [--precision fp32|bf16] [--channels-last] [--views-only] [--baseline FILE] [--json]
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median, referencePython, repoRoot, runMeasurement } from './lib/measure.js';
import { benchDevice, useDevice, waitForDevice } from './lib/device.js';

interface Measurement {
  engine: string;
  threads: number;
  views_ms: number;
  views_cpu_ms: number;
  step_ms: number;
  step_best_ms: number;
  step_cpu_ms: number;
  max_rss_mb: number;
  last_loss: number;
}


const { values: opts } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    steps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '32' },
    size: { type: 'string', default: '224' },
    json: { type: 'boolean', default: false },
    'views-only': { type: 'boolean', default: false },
    baseline: { type: 'string' },
    precision: { type: 'string', default: 'fp32' },
    device: { type: 'string', default: 'cpu' },
    'channels-last': { type: 'boolean', default: false },
  },
});
const steps = Number(opts.steps);
const warmup = Number(opts.warmup);
const threads = Number(opts.threads);
const batch = Number(opts.batch);
const size = Number(opts.size);
const viewsOnly = opts['views-only'];
const precision = opts.precision as 'fp32' | 'bf16';
if (precision !== 'fp32' && precision !== 'bf16') throw new Error(`--precision takes fp32 or bf16 (fp16 needs CUDA), got ${opts.precision}`);
const channelsLast = opts['channels-last'];
const device = benchDevice(opts.device);

async function measure(): Promise<Measurement> {
  const T = await import('../src/tensor/index.js');
  const { SGD } = await import('../src/nn/index.js');
  const { createPretrainMethod, scaledLr, METHOD_DEFAULTS } = await import('../src/pretrain/create.js');
  const { Random } = await import('../src/util/random.js');
  const { runPrecision, applyMemoryFormat, lossAt } = await import('../src/pretrain/precision.js');
  T.setNumThreads(threads);
  useDevice(device);
  T.manualSeed(0);
  const method = createPretrainMethod({ method: 'simsiam', arch: 'resnet18', viewSize: size, spd: { eta: 0.1 } });
  method.module.train();
  const run = runPrecision({ precision, channelsLast }, device);
  applyMemoryFormat(method.module, run);
  const d = METHOD_DEFAULTS.simsiam;
  const opt = new SGD(
    method.parameterGroups().map((g) => ({ params: g.params })),
    { lr: scaledLr('simsiam', batch), momentum: d.momentum, weightDecay: d.weightDecay },
  );
  const images = T.keep(T.rand([batch, 3, size, size]));
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const viewMs: number[] = [];
  const viewCpu: number[] = [];
  const stepMs: number[] = [];
  const stepCpu: number[] = [];
  let last = 0;
  for (let i = 0; i < warmup + steps; i++) {
    const rng = Random.derive(0, 'bench', i);
    T.tidy(() => {
      const t0 = performance.now();
      const c0 = cpuMs();
      const views = method.makeViews(images, null, rng);
      waitForDevice(device);
      const t1 = performance.now();
      const c1 = cpuMs();
      if (viewsOnly) {
        if (i >= warmup) {
          viewMs.push(t1 - t0);
          viewCpu.push(c1 - c0);
        }
        return;
      }
      opt.zeroGrad();
      const loss = lossAt(method, views, run);
      loss.total.backward();
      opt.step();
      method.afterStep();
      last = loss.total.item();
      const t2 = performance.now();
      const c2 = cpuMs();
      if (i >= warmup) {
        viewMs.push(t1 - t0);
        viewCpu.push(c1 - c0);
        stepMs.push(t2 - t1);
        stepCpu.push(c2 - c1);
      }
    });
  }
  return {
    engine: `spotdiff (libtorch ${T.engineInfo().torchVersion})`,
    threads: T.getNumThreads(),
    views_ms: median(viewMs),
    views_cpu_ms: median(viewCpu),
    step_ms: median(stepMs),
    step_best_ms: stepMs.length ? Math.min(...stepMs) : 0,
    step_cpu_ms: median(stepCpu),
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    last_loss: last,
  };
}

async function main(): Promise<void> {
  if (opts.child) {
    process.stdout.write(JSON.stringify(await measure()) + '\n');
    return;
  }
  const common = ['--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads), '--batch', String(batch), '--size', String(size), '--precision', precision, '--device', device, ...(channelsLast ? ['--channels-last'] : [])];
  useDevice(device);
  if (viewsOnly) return reportViews(common);
  const loadBefore = loadavg()[0] as number;
  const ts = runMeasurement<Measurement>(process.execPath, [fileURLToPath(import.meta.url), '--child', ...common], threads);
  const py = runMeasurement<Measurement>(referencePython, [join(repoRoot, 'bench/reference/simsiam_spd.py'), ...common], threads);
  const load = { before: loadBefore, after: loadavg()[0] as number };
  const ips = (m: Measurement): number => (1000 * batch) / (m.views_ms + m.step_ms);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ config: { batch, size, threads, steps, warmup, precision, channelsLast, device }, load_average: load, spotdiff: ts, pytorch: py }, null, 2) + '\n');
    return;
  }
  const row = (label: string, a: number, b: number, target = ''): string =>
    `${label.padEnd(24)}${a.toFixed(1).padStart(9)}  ${b.toFixed(1).padStart(10)}    ${(a / b).toFixed(3)}${target}`;
  process.stdout.write(
    [
      `SimSiam + SPD (η 0.1), ResNet-18, batch ${batch}, ${size} px, ${device}, ${precision}${channelsLast ? ' channels_last' : ''}, ${threads} threads; median of ${steps} steps after ${warmup} warm-up`,
      `load average ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after (${availableParallelism()} cores): above the core count, other work shares the CPUs`,
      `                          spotdiff     PyTorch    ratio (target)`,
      row('optimisation step ms', ts.step_ms, py.step_ms, ' (≤ 1.15)'),
      row('optimisation best ms', ts.step_best_ms, py.step_best_ms),
      row('optimisation CPU ms', ts.step_cpu_ms, py.step_cpu_ms),
      row('views ms', ts.views_ms, py.views_ms),
      row('views CPU ms', ts.views_cpu_ms, py.views_cpu_ms),
      row('images/s (whole step)', ips(ts), ips(py)),
      row('peak MB', ts.max_rss_mb, py.max_rss_mb),
    ].join('\n') + '\n',
  );
}

// Views alone, spotdiff only; with --baseline, each figure's ratio to the earlier run's.
function reportViews(common: readonly string[]): void {
  const loadBefore = loadavg()[0] as number;
  const ts = runMeasurement<Measurement>(process.execPath, [fileURLToPath(import.meta.url), '--child', '--views-only', ...common], threads);
  const load = { before: loadBefore, after: loadavg()[0] as number };
  if (opts.json) {
    process.stdout.write(JSON.stringify({ config: { batch, size, threads, steps, warmup, viewsOnly, device }, load_average: load, spotdiff: ts }, null, 2) + '\n');
    return;
  }
  const base = opts.baseline === undefined ? null : (JSON.parse(readFileSync(opts.baseline, 'utf8')) as { spotdiff: Measurement }).spotdiff;
  const row = (label: string, now: number, before: number | undefined): string =>
    `${label.padEnd(16)}${now.toFixed(1).padStart(9)}` + (before === undefined ? '' : `  ${before.toFixed(1).padStart(9)}    ${(now / before).toFixed(3)}`);
  process.stdout.write(
    [
      `SimSiam + SPD (η 0.1) views, batch ${batch}, ${size} px, ${device}, ${threads} threads; median of ${steps} steps after ${warmup} warm-up`,
      `load average ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after (${availableParallelism()} cores): above the core count, other work shares the CPUs`,
      `                      now` + (base ? `   baseline    ratio` : ''),
      row('views ms', ts.views_ms, base?.views_ms),
      row('views CPU ms', ts.views_cpu_ms, base?.views_cpu_ms),
    ].join('\n') + '\n',
  );
}

await main();
