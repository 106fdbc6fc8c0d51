// ResNet-18 on the libtorch addon against the same model in Python PyTorch, same machine,
// same thread count: a training step (batch 8, 224 px, SGD momentum 0.9, cross-entropy,
// random data) and a forward pass (eval, no grad). Each measurement runs in its own fresh
// process (so its peak RSS is that loop's), TS and Python in turn, the median of the timed
// steps after warm-up quoted; ratios are TS / PyTorch (target: time ≤ 1.10, memory ≤ 1.2).
// --device cuda runs both sides on the GPU (each step waits for the device before its timer is
// read; see lib/device.ts); peak RSS is then host memory only.
//
// usage: node dist/bench/resnet18-train.js [--steps 10] [--warmup 3] [--rounds 1]
//        [--threads 2] [--batch 8] [--size 224] [--device cpu|cuda] [--json]
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median, referencePython, repoRoot, runMeasurement } from './lib/measure.js';
import { benchDevice, useDevice } from './lib/device.js';

interface Measurement {
  engine: string;
  mode: 'train' | 'forward';
  threads: number;
  ms_per_step: number;
  ms_min: number;
  ms_max: number;
  /** Median CPU time (user + system, all threads) per step: steadier than wall time on a busy machine. */
  cpu_ms_per_step: number;
  max_rss_mb: number;
  last_value: number;
}


const { values: opts } = parseArgs({
  options: {
    child: { type: 'string' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '224' },
    device: { type: 'string', default: 'cpu' },
    json: { type: 'boolean', default: false },
  },
});
const steps = Number(opts.steps);
const warmup = Number(opts.warmup);
const threads = Number(opts.threads);
const batch = Number(opts.batch);
const size = Number(opts.size);
const device = benchDevice(opts.device);

/** One measurement in this process (the child side). */
async function measure(mode: 'train' | 'forward'): Promise<Measurement> {
  const T = await import('../src/tensor/index.js');
  const { resnet18 } = await import('../src/models/resnet.js');
  const { SGD, crossEntropy } = await import('../src/nn/index.js');
  T.setNumThreads(threads);
  useDevice(device);
  T.manualSeed(0);
  const model = resnet18();
  const x = T.keep(T.randn([batch, 3, size, size]));
  const y = T.keep(T.randint(0, 1000, [batch]));
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let last = 0;
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  if (mode === 'train') {
    model.train();
    const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      const c0 = cpuMs();
      last = T.tidy(() => {
        opt.zeroGrad();
        const loss = crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss.item();
      });
      const t1 = performance.now();
      const c1 = cpuMs();
      if (i >= warmup) {
        times.push(t1 - t0);
        cpuTimes.push(c1 - c0);
      }
    }
  } else {
    model.eval();
    T.noGrad(() => {
      for (let i = 0; i < warmup + steps; i++) {
        const t0 = performance.now();
        const c0 = cpuMs();
        last = T.tidy(() => T.sum(model.forward(x)).item());
        const t1 = performance.now();
        const c1 = cpuMs();
        if (i >= warmup) {
          times.push(t1 - t0);
          cpuTimes.push(c1 - c0);
        }
      }
    });
  }
  return {
    engine: `spotdiff (libtorch ${T.engineInfo().torchVersion})`,
    mode,
    threads: T.getNumThreads(),
    ms_per_step: median(times),
    ms_min: Math.min(...times),
    ms_max: Math.max(...times),
    cpu_ms_per_step: median(cpuTimes),
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    last_value: last,
  };
}

function common(): string[] {
  return ['--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads), '--batch', String(batch), '--size', String(size), '--device', device];
}

async function main(): Promise<void> {
  if (opts.child === 'train' || opts.child === 'forward') {
    process.stdout.write(JSON.stringify(await measure(opts.child)) + '\n');
    return;
  }
  useDevice(device);
  const self = fileURLToPath(import.meta.url);
  const ref = join(repoRoot, 'bench/reference/resnet18_train.py');
  const results: Record<string, Measurement[]> = { ts_train: [], py_train: [], ts_forward: [], py_forward: [] };
  // Other processes on the machine skew wall times (less so CPU times): say how busy it was.
  const loadBefore = loadavg()[0] as number;
  for (let r = 0; r < Number(opts.rounds); r++) {
    for (const mode of ['train', 'forward'] as const) {
      results[`ts_${mode}`]!.push(runMeasurement<Measurement>(process.execPath, [self, '--child', mode, ...common()], threads));
      results[`py_${mode}`]!.push(runMeasurement<Measurement>(referencePython, [ref, '--mode', mode, ...common()], threads));
    }
  }
  const med = (k: string, f: keyof Measurement): number => median(results[k]!.map((m) => m[f] as number));
  const best = (k: string): number => Math.min(...results[k]!.map((m) => m.ms_min));
  const compare = (mode: 'train' | 'forward') => ({
    ts_ms: med(`ts_${mode}`, 'ms_per_step'),
    py_ms: med(`py_${mode}`, 'ms_per_step'),
    ts_best_ms: best(`ts_${mode}`),
    py_best_ms: best(`py_${mode}`),
    ts_cpu_ms: med(`ts_${mode}`, 'cpu_ms_per_step'),
    py_cpu_ms: med(`py_${mode}`, 'cpu_ms_per_step'),
    ts_rss_mb: med(`ts_${mode}`, 'max_rss_mb'),
    py_rss_mb: med(`py_${mode}`, 'max_rss_mb'),
  });
  const load = { before: loadBefore, after: loadavg()[0] as number };
  const summary = {
    config: { batch, size, threads, steps, warmup, rounds: Number(opts.rounds), device },
    load_average: load,
    train: compare('train'),
    forward: compare('forward'),
    runs: results,
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return;
  }
  const row = (label: string, a: number, b: number, target = ''): string =>
    `${label.padEnd(22)}${a.toFixed(1).padStart(9)}  ${b.toFixed(1).padStart(10)}    ${(a / b).toFixed(3)}${target}`;
  const lines = [
    `ResNet-18, batch ${batch}, ${size} px, ${device}, ${threads} threads; median of ${steps} steps after ${warmup} warm-up, ${opts.rounds} process(es) each`,
    `load average ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after (${availableParallelism()} cores): above the core count, other work shares the CPUs`,
    `                      spotdiff     PyTorch    ratio (target)`,
    row('train step ms/step', summary.train.ts_ms, summary.train.py_ms, ' (≤ 1.10)'),
    row('train step best ms', summary.train.ts_best_ms, summary.train.py_best_ms),
    row('train step CPU ms', summary.train.ts_cpu_ms, summary.train.py_cpu_ms),
    row('train loop peak MB', summary.train.ts_rss_mb, summary.train.py_rss_mb, ' (≤ 1.20)'),
    row('forward ms/batch', summary.forward.ts_ms, summary.forward.py_ms, ' (≤ 1.10)'),
    row('forward best ms', summary.forward.ts_best_ms, summary.forward.py_best_ms),
    row('forward CPU ms', summary.forward.ts_cpu_ms, summary.forward.py_cpu_ms),
    row('forward img/s', (1000 * batch) / summary.forward.ts_ms, (1000 * batch) / summary.forward.py_ms),
    row('forward peak MB', summary.forward.ts_rss_mb, summary.forward.py_rss_mb),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
