// The 2-class half's training steps on the libtorch addon against the same steps in Python PyTorch
// (bench/reference/twoclass_step.py), same machine, same thread count: the segmenter (a U-Net on a
// ResNet-50 encoder, batch 8, 256 px, sigmoid focal loss α 0.25 γ 2 against a random mask) and
// the classifier (ResNet-50 with a 2-way fc, batch 8, 224 px, cross-entropy), both in train mode
// with SGD momentum 0.9 on random data. Each measurement runs in its own fresh process (its peak
// RSS is that loop's), spotdiff and PyTorch in turn; the median of the timed steps after warm-up
// is quoted, ratios are spotdiff / PyTorch. The PyTorch U-Net is plain torch modules over
// torchvision's ResNet, built as src/models/unet.ts documents.
// --device cuda runs both sides on the GPU (each step ends with the loss's item(), which waits for
// the device; the reference synchronises); peak RSS is then host memory only.
//
// usage: node dist/bench/twoclass-step.js [--steps 3] [--warmup 1] [--threads 2] [--batch 8]
//        [--arch resnet50] [--seg-size 256] [--cls-size 224] [--size N (both)] [--device cpu|cuda] [--json]
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median, referencePython, repoRoot, runMeasurement } from './lib/measure.js';
import { benchDevice, useDevice } from './lib/device.js';
import { usageExit } from './lib/device-flag.js';
import type { Tensor } from '../src/tensor/index.js';
import { RESNET_ARCHS, isResNetArch, type ResNetArch } from '../src/models/backbone-names.js';

type Task = 'segmenter' | 'classifier';
const TASKS: readonly Task[] = ['segmenter', 'classifier'];

interface Measurement {
  engine: string;
  task: Task;
  threads: number;
  ms_per_step: number;
  ms_min: number;
  cpu_ms_per_step: number;
  max_rss_mb: number;
  last_loss: number;
}

const { values: opts } = parseArgs({
  options: {
    child: { type: 'string' },
    steps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    arch: { type: 'string', default: 'resnet50' },
    size: { type: 'string' },
    'seg-size': { type: 'string', default: '256' },
    'cls-size': { type: 'string', default: '224' },
    device: { type: 'string', default: 'cpu' },
    json: { type: 'boolean', default: false },
  },
});
const steps = Number(opts.steps);
const warmup = Number(opts.warmup);
const threads = Number(opts.threads);
const batch = Number(opts.batch);
const archName = opts.arch;
if (!isResNetArch(archName)) usageExit(`--arch takes ${RESNET_ARCHS.join(', ')}, got "${archName}"`);
const arch: ResNetArch = archName;
const sizes: Record<Task, number> = { segmenter: Number(opts.size ?? opts['seg-size']), classifier: Number(opts.size ?? opts['cls-size']) };
const device = benchDevice(opts.device);

/** One task's loop in this process (the child side). */
async function measure(task: Task): Promise<Measurement> {
  const T = await import('../src/tensor/index.js');
  const { SGD, crossEntropy, sigmoidFocalLoss } = await import('../src/nn/index.js');
  const { UNet } = await import('../src/models/unet.js');
  const { resNetClassifier } = await import('../src/models/resnet-classifier.js');
  T.setNumThreads(threads);
  useDevice(device);
  const size = sizes[task];
  const model = task === 'segmenter' ? new UNet(arch, { seed: 0 }) : resNetClassifier(arch, null, 'random', { seed: 0 });
  model.train();
  T.manualSeed(1);
  const x = T.keep(T.randn([batch, 3, size, size]));
  const target = T.keep(task === 'segmenter' ? T.tidy(() => T.toDtype(T.gt(T.rand([batch, 1, size, size]), 0.9), 'float32')) : T.randint(0, 2, [batch]));
  const lossOf = (out: Tensor): Tensor => (task === 'segmenter' ? sigmoidFocalLoss(out, target, { alpha: 0.25, gamma: 2 }) : crossEntropy(out, target));
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let last = 0;
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    last = T.tidy(() => {
      opt.zeroGrad();
      const loss = lossOf(model.forward(x));
      loss.backward();
      opt.step();
      return loss.item();
    });
    if (i >= warmup) {
      times.push(performance.now() - t0);
      cpuTimes.push(cpuMs() - c0);
    }
  }
  return {
    engine: `spotdiff (libtorch ${T.engineInfo().torchVersion})`,
    task,
    threads: T.getNumThreads(),
    ms_per_step: median(times),
    ms_min: Math.min(...times),
    cpu_ms_per_step: median(cpuTimes),
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    last_loss: last,
  };
}

function common(task: Task): string[] {
  return ['--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads), '--batch', String(batch), '--arch', arch, '--size', String(sizes[task]), '--device', device];
}

function table(results: Record<Task, { ts: Measurement; py: Measurement }>, load: { before: number; after: number }): string {
  const row = (label: string, a: number, b: number): string => `${label.padEnd(24)}${a.toFixed(1).padStart(9)}  ${b.toFixed(1).padStart(10)}    ${(a / b).toFixed(3)}`;
  const lines = [
    `2-class training steps, ${arch}, batch ${batch}, ${device}, ${threads} threads; median of ${steps} steps after ${warmup} warm-up, SGD momentum 0.9`,
    `load average ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after (${availableParallelism()} cores): above the core count, other work shares the CPUs`,
    `                          spotdiff     PyTorch    ratio`,
  ];
  for (const task of TASKS) {
    const { ts, py } = results[task];
    const label = task === 'segmenter' ? `U-Net ${sizes[task]} px` : `classifier ${sizes[task]} px`;
    lines.push(
      row(`${label} ms/step`, ts.ms_per_step, py.ms_per_step),
      row(`${label} best ms`, ts.ms_min, py.ms_min),
      row(`${label} CPU ms`, ts.cpu_ms_per_step, py.cpu_ms_per_step),
      row(`${label} images/s`, (1000 * batch) / ts.ms_per_step, (1000 * batch) / py.ms_per_step),
      row(`${label} peak MB`, ts.max_rss_mb, py.max_rss_mb),
    );
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  if (opts.child === 'segmenter' || opts.child === 'classifier') {
    process.stdout.write(JSON.stringify(await measure(opts.child)) + '\n');
    return;
  }
  useDevice(device);
  const self = fileURLToPath(import.meta.url);
  const ref = join(repoRoot, 'bench/reference/twoclass_step.py');
  const loadBefore = loadavg()[0] as number;
  const results = {} as Record<Task, { ts: Measurement; py: Measurement }>;
  for (const task of TASKS) {
    const ts = runMeasurement<Measurement>(process.execPath, [self, '--child', task, ...common(task)], threads);
    const py = runMeasurement<Measurement>(referencePython, [ref, '--task', task, ...common(task)], threads);
    results[task] = { ts, py };
  }
  const load = { before: loadBefore, after: loadavg()[0] as number };
  if (opts.json) {
    process.stdout.write(JSON.stringify({ config: { arch, batch, sizes, threads, steps, warmup, device }, load_average: load, ...results }, null, 2) + '\n');
    return;
  }
  process.stdout.write(table(results, load));
}

await main();
