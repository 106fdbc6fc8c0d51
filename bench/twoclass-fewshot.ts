// A 5-shot (or 10-shot) 2-class run of one synthetic object end to end, as a user runs it:
// `spotdiff synth` → `prepare --split-type 2cls_fewshot` → `fit --method segmenter` and
// `fit --method classifier` (few-shot protocol, k images per class drawn from the train split)
// → `eval`. Each stage runs as its own command under /usr/bin/time: wall seconds and peak RSS,
// then the test-split metrics. The defaults are the paper's (500 segmenter / 1,000 classifier
// iterations, lr 1e-4) on ResNet-18 at 256 px; --iterations N shortens both for a quick look.
//
// usage: node dist/bench/twoclass-fewshot.js [--object pills] [--normal 100] [--anomalous 50]
//        [--size 256] [--backbone resnet18] [--shots 5] [--iterations N] [--threads 2]
//        [--device cpu|cuda] [--json]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './lib/measure.js';
import { benchDevice, useDevice } from './lib/device.js';

const { values: opts } = parseArgs({
  options: {
    object: { type: 'string', default: 'pills' },
    normal: { type: 'string', default: '100' },
    anomalous: { type: 'string', default: '50' },
    size: { type: 'string', default: '256' },
    backbone: { type: 'string', default: 'resnet18' },
    shots: { type: 'string', default: '5' },
    iterations: { type: 'string' },
    threads: { type: 'string', default: '2' },
    device: { type: 'string', default: 'cpu' },
    json: { type: 'boolean', default: false },
  },
});
const device = benchDevice(opts.device);
const threads = Number(opts.threads);

interface Stage {
  stage: string;
  wall_s: number;
  peak_rss_mb: number;
  /** The command's --json output, when it printed one. */
  result: unknown;
}

/** Runs `spotdiff ARGS` under /usr/bin/time; wall time and peak RSS from time's own record. */
function stage(name: string, args: string[], work: string): Stage {
  const timing = join(work, `${name}.time`);
  const env = { ...process.env, SPOTDIFF_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const cli = join(repoRoot, 'dist/src/cli/main.js');
  process.stderr.write(`${name}: spotdiff ${args.join(' ')}\n`);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', timing, process.execPath, cli, ...args], { encoding: 'utf8', env, cwd: repoRoot, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${name} failed (${r.status}): spotdiff ${args.join(' ')}`);
  const [wall, kb] = readFileSync(timing, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
  let result: unknown = null;
  try {
    result = JSON.parse(r.stdout);
  } catch {
    // a command without --json output
  }
  return { stage: name, wall_s: wall, peak_rss_mb: kb / 1024, result };
}

function fitArgs(method: string, data: string, out: string): string[] {
  const args = ['fit', '--method', method, '--data', data, '--object', opts.object!, '--backbone', opts.backbone!, '--size', opts.size!];
  args.push('--protocol', 'few-shot', '--shots', opts.shots!, '--device', device, '--out', out, '--json');
  if (opts.iterations !== undefined) args.push('--iterations', opts.iterations);
  return args;
}

function metricsOf(s: Stage): Record<string, number> {
  const metrics = (s.result as { metrics?: Record<string, number> } | null)?.metrics ?? {};
  const names: Record<string, string> = { 'image.aupr': 'image AU-PR', 'image.auroc': 'image AU-ROC', 'pixel.aupr': 'pixel AU-PR', 'pixel.auroc': 'pixel AU-ROC' };
  return Object.fromEntries(Object.entries(names).filter(([k]) => metrics[k] !== undefined).map(([k, label]) => [label, metrics[k] as number]));
}

function main(): void {
  useDevice(device);
  const work = mkdtempSync(join(tmpdir(), 'spotdiff-bench-fewshot-'));
  try {
    const raw = join(work, 'raw');
    const prepared = join(work, 'prepared');
    const data = join(prepared, '2cls_fewshot');
    const stages = [
      stage('synth', ['synth', '--out', raw, '--objects', opts.object!, '--normal', opts.normal!, '--anomalous', opts.anomalous!, '--size', opts.size!, '--quiet'], work),
      stage('prepare', ['prepare', '--split-type', '2cls_fewshot', '--data-folder', raw, '--save-folder', prepared, '--quiet'], work),
      stage('fit segmenter', fitArgs('segmenter', data, join(work, 'segmenter')), work),
      stage('eval segmenter', ['eval', '--model', join(work, 'segmenter'), '--data', data, '--json', '--quiet'], work),
      stage('fit classifier', fitArgs('classifier', data, join(work, 'classifier')), work),
      stage('eval classifier', ['eval', '--model', join(work, 'classifier'), '--data', data, '--json', '--quiet'], work),
    ];
    const config = { object: opts.object, normal: Number(opts.normal), anomalous: Number(opts.anomalous), size: Number(opts.size), backbone: opts.backbone, shots: Number(opts.shots), iterations: opts.iterations ?? 'paper (500 / 1000)', threads, device };
    if (opts.json) {
      process.stdout.write(JSON.stringify({ config, stages }) + '\n');
      return;
    }
    const lines = [`${opts.shots}-shot 2-class run end to end: ${JSON.stringify(config)}`, `${'stage'.padEnd(18)}${'wall s'.padStart(9)}${'peak MB'.padStart(10)}  metrics`];
    for (const s of stages) {
      const m = Object.entries(metricsOf(s)).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}`).join('  ');
      lines.push(`${s.stage.padEnd(18)}${s.wall_s.toFixed(1).padStart(9)}${s.peak_rss_mb.toFixed(0).padStart(10)}  ${m}`);
    }
    const total = stages.reduce((a, s) => a + s.wall_s, 0);
    lines.push(`${'total'.padEnd(18)}${total.toFixed(1).padStart(9)}${Math.max(...stages.map((s) => s.peak_rss_mb)).toFixed(0).padStart(10)}`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
