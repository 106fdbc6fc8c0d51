import { join } from 'node:path';
import type { Command } from './command.js';
import { intFlag, listFlag, MAX_IMAGE_SIDE, numberFlag, parseFlags, requireFlag } from './args.js';
import { deviceFlag } from './device-flag.js';
import { LAUNCH_FLAGS, launchFlags, runLauncher, type LaunchFlags } from './launch-flags.js';
import { benchmarkRank } from './benchmark-ranks.js';
import { methodChoices, methodFlag, methodList } from './method-flag.js';
import { SpotdiffError } from '../util/errors.js';
import { paperFigures, paperMeans } from '../benchmark/paper-figures.js';
import { benchmarkProtocol, PROTOCOL_NAMES, type BenchmarkProtocol } from '../benchmark/protocol.js';
import { benchmarkInits, RANDOM_INIT, type BenchmarkInit } from '../benchmark/inits.js';
import type { PaperFigures, ReportMetricKey } from '../report/index.js';
import type { MetricRecord } from '../metrics/table.js';
import type { EvalResult } from '../detect/run/evaluate.js';
import type { ModelManifest } from '../detect/run/model-folder.js';

const usage = `usage: spotdiff benchmark --data PREPARED_ROOT --method ${methodChoices()} [--objects a,b]
                          [--backbone B] [--weights FILE] [--size N] [--seed S] [--models DIR]
                          [--device cpu|cuda|auto]
                          [--paper-results FILE] [--json] [--report DIR]
                          [--nproc N [--nnodes M --node-rank R --master ADDR:PORT]]
       spotdiff benchmark --protocol ${PROTOCOL_NAMES.join('|')} --data PREPARED_ROOT
                          --weights A,B,... [--names a,b,...] [--pairs base:spd,...]
                          [--method padim|patchcore (1cls)] [--runs R]
                          [--epochs N] [--iterations N] [--lr X] [--batch-size B]
                          [--resume] [other flags as above]

Fits and evaluates one model per object of a prepared dataset and prints a table like the
paper's Table 2: per object and mean, AU-PR and AU-ROC for classification (image) and
segmentation (pixel). On VisA the paper's figures (supervised ImageNet backbone) are shown
beside ours, read from the paper_results.json shipped with spotdiff (data/visa/) or
--paper-results FILE.
Models are written to --models DIR/<object> (default ./benchmark-models). DIR must be new,
empty, or hold only model folders (an earlier benchmark's); anything else is refused.
--device D (cpu, the default; cuda, cuda:N or auto) is where fitting and scoring run.

With --protocol, every object is benchmarked once per initialisation and the paper's
Tables 3 and 4 layout is printed: one row per initialisation, the mean over objects of
classification and segmentation AU-PR and AU-ROC (mean ± std over runs when several), and a
+SPD row's gain over its base in brackets; on VisA the paper's figures of the rows named like
the paper's (supervised, simsiam, simsiam+spd, moco, moco+spd, simclr, simclr+spd,
supervised+spd) under ours. Per-object tables come first.
  --protocol     1cls: --method padim|patchcore on the 1cls split (Table 2);
                 2cls-highshot: a classifier (classification columns) and a segmenter
                 (segmentation columns) on the 2cls_highshot split (Table 3);
                 2cls-5shot, 2cls-10shot: the same on k-shot draws of the 2cls_fewshot
                 split, run r on draw r with seed S+r (Table 4)
  --data         the folder prepare wrote (holding 1cls/, 2cls_highshot/, 2cls_fewshot/)
                 or the protocol's split folder itself
  --weights      one initialisation per row: a .pth or .safetensors backbone, or the word
                 ${RANDOM_INIT} for a seeded random initialisation
  --names        the rows' names (default: the files' base names)
  --pairs        base:spd,... rows compared in brackets (default: X+spd with X)
  --runs         runs per object and row (default 5 for k-shot, 1 otherwise)
  --epochs, --iterations, --lr   2-class training length and learning rate (default: the
                 paper's: 80 epochs high-shot, 1000/500 iterations few-shot, lr 1e-4)
  --batch-size   images per batch, training and scoring (default 8)
  --resume       continue an interrupted benchmark in the same --models DIR: a saved model
                 fitted by the same request is not fitted again (its recorded result is
                 used, or it is evaluated again), an interrupted 2-class fit continues from
                 its checkpoint; a saved model that differs from the request is an error
Models go to --models DIR/<protocol>/<row>/<object>[/<classifier|segmenter>][/run-<r>];
a 2-class fit checkpoints into <that folder>.work beside it (removed once the model is
saved) and each result is appended to DIR/<protocol>/results.jsonl as it is evaluated.
Without --resume the results record starts afresh and every model is fitted again.

With --nproc N the fits are shared across N processes (each takes the next fit when it is free;
each fit is seeded as in one process, so the results are the same) and the first prints the
one table; the others print only progress lines, "[rank R] " before each. Each process of a
machine gets its share of the cores (SPOTDIFF_THREADS) and, with --device cuda, GPU <local rank
mod GPUs>. Rank r > 0 records its results in results.rank-<r>.jsonl beside results.jsonl until
the benchmark ends (then they are folded into it); --resume reads them all, whatever the number
of processes of the interrupted run. With --report, the report's models that another process
fitted are scored again by the first. A process that fails stops the others; saved models stay.
  --nproc N             run as N processes on this machine (as torchrun)
  --nnodes M --node-rank R --master ADDR:PORT
                        the same across M machines sharing the --models folder: start
                        spotdiff on each with its R (0..M-1); rank 0 listens on ADDR:PORT

Methods:
${methodList()}`;

const TABLE_KEYS: ReportMetricKey[] = ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc'];

type Values = Record<string, string | boolean | undefined>;

/** What both modes read the same way. */
interface Common {
  device: string;
  backbone: string;
  seed: number;
  size: number;
  quiet: boolean;
  modelsRoot: string;
}

async function commonFlags(values: Values): Promise<Common> {
  const device = await deviceFlag(values.device as string | undefined);
  const backbone = (values.backbone as string | undefined) ?? 'resnet18';
  (await import('../models/backbone.js')).checkArch(backbone);
  return {
    device,
    backbone,
    seed: intFlag(values.seed as string | undefined, 'seed', 0, 0),
    size: intFlag(values.size as string | undefined, 'size', 224, 32, MAX_IMAGE_SIDE),
    quiet: values.quiet === true || values.json === true,
    modelsRoot: (values.models as string | undefined) ?? 'benchmark-models',
  };
}

export const command: Command = {
  summary: 'fit and evaluate every object of a prepared dataset; the paper\'s Table 2, 3 or 4 layout',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      data: { type: 'string' },
      protocol: { type: 'string' },
      method: { type: 'string' },
      objects: { type: 'string' },
      backbone: { type: 'string' },
      weights: { type: 'string' },
      names: { type: 'string' },
      pairs: { type: 'string' },
      runs: { type: 'string' },
      epochs: { type: 'string' },
      iterations: { type: 'string' },
      lr: { type: 'string' },
      'batch-size': { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      models: { type: 'string' },
      device: { type: 'string' },
      'paper-results': { type: 'string' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      quiet: { type: 'boolean' },
      resume: { type: 'boolean' },
      ...LAUNCH_FLAGS,
    });
    const launch = launchFlags(values);
    if (values.protocol !== undefined) return runProtocol(values, argv, launch);
    for (const f of ['names', 'pairs', 'runs', 'epochs', 'iterations', 'lr', 'batch-size', 'resume'] as const) {
      if (values[f] !== undefined) throw new SpotdiffError('ERR_USAGE', `--${f} applies with --protocol only`);
    }
    return runTable2(values, argv, launch);
  },
};

/** Not a worker of a --nproc job (those leave warnings and checks to their launcher). */
const notAWorker = (): boolean => process.env.RANK === undefined;

/** The single-method mode: one weights file, a Table-2-style per-object table. */
async function runTable2(values: Values, argv: readonly string[], launch: LaunchFlags | null): Promise<number> {
  const data = requireFlag(values.data as string | undefined, 'data');
  const method = methodFlag(requireFlag(values.method as string | undefined, 'method')).name;
  const c = await commonFlags(values);
  const weights = values.weights as string | undefined;
  if (weights === undefined && notAWorker()) process.stderr.write(`spotdiff: warning: no --weights given: ${c.backbone} is randomly initialised (seed ${c.seed}); results need pretrained weights\n`);
  const { openDataset } = await import('../data/datasets/open.js');
  const ds = await openDataset(data, { objects: listFlag(values.objects as string | undefined) });
  const objects = listFlag(values.objects as string | undefined) ?? ds.objects;
  const report = values.report as string | undefined;
  // Checked once, before any process fits: by the launcher of a --nproc job, not its workers.
  if (notAWorker()) {
    await (await import('../detect/run/model-output.js')).checkModelsRoot(c.modelsRoot);
    if (report !== undefined) await (await import('../report/index.js')).checkReportFolder(report);
  }
  const paper = paperFigures(values['paper-results'] as string | undefined, method, objects);
  if (launch !== null && notAWorker()) return runLauncher('benchmark', argv, launch);
  const ranked = await benchmarkRank(launch, c.device);
  let fitted;
  try {
    fitted = await fitObjects({ method, data, objects, weights, c: { ...c, device: ranked.device }, report: report !== undefined, group: ranked.group, progressLine: ranked.progressLine });
  } finally {
    ranked.group?.destroy();
  }
  // The first process speaks for the job.
  if (fitted === null) return 0;
  const { buildTable, renderText, tableJson } = await import('../metrics/index.js');
  const { writeEvalReport } = await import('../detect/run/report.js');
  const table = buildTable(fitted.records, { meanRow: true });
  let reportPath: string | null = null;
  if (report !== undefined) reportPath = await writeEvalReport(report, fitted.manifests[0]!, fitted.results, data, paper, fitted.manifests);
  if (values.json === true) process.stdout.write(JSON.stringify({ method, backbone: c.backbone, data, table: tableJson(table), paper, report: reportPath }, null, 2) + '\n');
  else {
    const lines = [`${method} (${c.backbone}${weights === undefined ? ', random init' : ''}) on ${data}`, renderText(table)];
    if (paper !== null) {
      lines.push(`paper: ${paper.source}`);
      for (const [row, v] of Object.entries(paper.rows)) lines.push(`  ${row.padEnd(12)} ${TABLE_KEYS.map((k) => `${k} ${v[k] === undefined ? '-' : (v[k]! * 100).toFixed(1)}`).join('  ')}`);
    }
    if (reportPath !== null) lines.push(`report: ${reportPath}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}

interface Table2Fits {
  method: string;
  data: string;
  objects: readonly string[];
  weights: string | undefined;
  c: Common;
  /** Whether the report's scored maps are wanted. */
  report: boolean;
  group: import('../distributed/process-group.js').ProcessGroup | null;
  progressLine: (line: string) => string;
}

/**
 * Fits and evaluates each object into <models>/<object>, shared across the group's processes
 * when there is one; the records, manifests and (for the report) results in object order, on
 * the first process (null on the others). A report's result another process computed is scored
 * again here from the saved model (its maps stayed there).
 */
async function fitObjects(f: Table2Fits): Promise<{ records: MetricRecord[]; manifests: ModelManifest[]; results: EvalResult[] } | null> {
  const { fitAndEvaluate } = await import('../detect/run/fit-and-evaluate.js');
  const { metricValues } = await import('../detect/run/evaluate.js');
  const { shareUnits } = await import('../distributed/work-queue.js');
  const { evaluateSavedModel } = await import('../benchmark/run.js');
  const rank = f.group?.rank ?? 0;
  const kept = new Map<number, EvalResult>();
  const done = await shareUnits(f.group, f.objects.map((_, i) => i), async (i) => {
    const object = f.objects[i]!;
    if (!f.c.quiet) process.stderr.write(f.progressLine(`benchmark: ${object}`) + '\n');
    const out = join(f.c.modelsRoot, object);
    const { manifest, result: r } = await fitAndEvaluate({ method: f.method, data: f.data, object, backbone: f.c.backbone, weights: f.weights, size: f.c.size, seed: f.c.seed, out, quiet: f.c.quiet || f.group !== null, device: f.c.device });
    const record: MetricRecord = { object, metrics: Object.fromEntries(TABLE_KEYS.filter((k) => metricValues(r)[k] !== undefined).map((k) => [k, metricValues(r)[k] as number])) };
    if (f.report && rank === 0) kept.set(i, r);
    else r.scored.maps.length = 0;
    return { record, manifest };
  });
  if (rank !== 0) return null;
  const results: EvalResult[] = [];
  if (f.report) {
    for (const [i, object] of f.objects.entries()) results.push(kept.get(i) ?? (await evaluateSavedModel(join(f.c.modelsRoot, object), { data: f.data, object, device: f.c.device, quiet: f.c.quiet })).result);
  }
  const ordered = f.objects.map((_, i) => done.get(i)!);
  return { records: ordered.map((d) => d.record), manifests: ordered.map((d) => d.manifest), results };
}

/** --pairs base:spd,... as pairs. */
function pairsFlag(value: string | undefined): [string, string][] | undefined {
  return listFlag(value)?.map((p) => {
    const parts = p.split(':');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new SpotdiffError('ERR_USAGE', `--pairs takes base:spd,... , got "${p}"`);
    return [parts[0]!, parts[1]!];
  });
}

/** --epochs, --iterations, --lr as the 2-class methods' options. */
function trainingOverrides(values: Values, protocol: BenchmarkProtocol): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (values.epochs !== undefined) o['epochs'] = intFlag(values.epochs as string, 'epochs', 0, 1);
  if (values.iterations !== undefined) o['iterations'] = intFlag(values.iterations as string, 'iterations', 0, 1);
  if (values.lr !== undefined) o['lr'] = numberFlag(values.lr as string, 'lr', 0, { above: 0 });
  if (Object.keys(o).length > 0 && protocol.name === '1cls') throw new SpotdiffError('ERR_USAGE', '--epochs, --iterations and --lr apply to the 2-class protocols');
  if (o['epochs'] !== undefined && protocol.draws) throw new SpotdiffError('ERR_USAGE', `${protocol.name} trains for a number of iterations: give --iterations, not --epochs`);
  if (o['iterations'] !== undefined && protocol.name === '2cls-highshot') throw new SpotdiffError('ERR_USAGE', '2cls-highshot trains for a number of epochs: give --epochs, not --iterations');
  return o;
}

/** The rows from --weights, --names and --pairs. */
function initsFlags(values: Values, c: Common): BenchmarkInit[] {
  const weights = listFlag(values.weights as string | undefined) ?? [RANDOM_INIT];
  if (values.weights === undefined && notAWorker()) process.stderr.write(`spotdiff: warning: no --weights given: one row, ${c.backbone} randomly initialised (seed ${c.seed}); results need pretrained weights\n`);
  return benchmarkInits(weights, listFlag(values.names as string | undefined), pairsFlag(values.pairs as string | undefined));
}

/** The protocol mode: every row × object × run, the paper's Tables 3/4 layout. */
async function runProtocol(values: Values, argv: readonly string[], launch: LaunchFlags | null): Promise<number> {
  const protocol = benchmarkProtocol(values.protocol as string);
  const data = requireFlag(values.data as string | undefined, 'data');
  let method: string | undefined;
  if (protocol.name === '1cls') method = methodFlag(requireFlag(values.method as string | undefined, 'method')).name;
  else if (values.method !== undefined) throw new SpotdiffError('ERR_USAGE', `--method applies to --protocol 1cls; ${protocol.name} fits a classifier and a segmenter`);
  const overrides = trainingOverrides(values, protocol);
  const runs = intFlag(values.runs as string | undefined, 'runs', protocol.defaultRuns, 1);
  const batchSize = values['batch-size'] === undefined ? undefined : intFlag(values['batch-size'] as string, 'batch-size', 8, 1, 4096);
  const c = await commonFlags(values);
  const inits = initsFlags(values, c);
  const { protocolDataFolder } = await import('../benchmark/protocol-data.js');
  const split = await protocolDataFolder(data, protocol.splitType);
  const { openDataset } = await import('../data/datasets/open.js');
  const objects = listFlag(values.objects as string | undefined) ?? (await openDataset(split)).objects;
  await openDataset(split, { objects });
  const report = values.report as string | undefined;
  if (report !== undefined && notAWorker()) await (await import('../report/index.js')).checkReportFolder(report);
  const paper = paperMeans(values['paper-results'] as string | undefined, protocol.paper(method ?? ''), inits.map((i) => i.name), objects);
  const { runBenchmark, checkBenchmarkModels } = await import('../benchmark/run.js');
  const { defaultWorkFolder, removeWorkFolder } = await import('./work-folder.js');
  const options = {
    protocol, method, objects, inits, runs, seed: c.seed, modelsRoot: c.modelsRoot, overrides,
    data: split, backbone: c.backbone, size: c.size, device: c.device, quiet: c.quiet,
    batchSize,
    keepFirstRow: report !== undefined,
    workFolders: { folderOf: defaultWorkFolder, clear: removeWorkFolder },
    resume: values.resume === true,
    warn: (line: string) => process.stderr.write(`spotdiff: ${line}\n`),
  };
  // The launcher checks the models folder before any process starts (a refusal is a usage error, exit 2); rank 0 checks it again as it opens the record.
  if (launch !== null && notAWorker()) {
    await checkBenchmarkModels(options);
    return runLauncher('benchmark', argv, launch);
  }
  const ranked = await benchmarkRank(launch, c.device);
  let outcome;
  try {
    outcome = await runBenchmark({
      ...options,
      device: ranked.device,
      // Several processes' fit progress would interleave: each says only which fit it starts.
      quiet: c.quiet || ranked.group !== null,
      group: ranked.group,
      progress: c.quiet ? undefined : (line) => process.stderr.write(`${ranked.progressLine(line)}\n`),
    });
  } finally {
    ranked.group?.destroy();
  }
  // The first process speaks for the job.
  if (outcome === null) return 0;
  const { summaryRows, renderSummaryText } = await import('../benchmark/summary.js');
  const rows = summaryRows(inits, outcome.tables, paper);
  let reportPath: string | null = null;
  if (report !== undefined) {
    const first = paper?.rows[inits[0]!.name];
    const figures: PaperFigures | null = first === undefined ? null : { source: paper!.source, rows: { mean: first } };
    reportPath = await (await import('../detect/run/report.js')).writeEvalReport(report, outcome.kept.manifests[0]!, outcome.kept.results, split, figures, outcome.kept.manifests);
  }
  const { renderText, tableJson } = await import('../metrics/index.js');
  const methods = protocol.jobs(method).map((j) => j.method);
  if (values.json === true) {
    const json = { protocol: protocol.name, methods, backbone: c.backbone, data: split, objects, runs, rows: rows.map((r) => ({ ...r, weights: inits.find((i) => i.name === r.name)!.weights, perObject: tableJson(outcome.tables[r.name]!) })), paper, report: reportPath };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return 0;
  }
  const lines: string[] = [];
  for (const i of inits) lines.push(`${i.name} (${i.weights ?? `${c.backbone} random init`}):`, renderText(outcome.tables[i.name]!), '');
  lines.push(`${protocol.name}: ${methods.join(' + ')} (${c.backbone}) on ${split}, ${objects.length} object${objects.length > 1 ? 's' : ''}, ${runs} run${runs > 1 ? 's' : ''}; mean over objects${runs > 1 ? ' (± std over runs)' : ''}`);
  lines.push(renderSummaryText(rows));
  if (paper !== null) lines.push(`paper: ${paper.source}; means over the 12 VisA objects${objects.length < 12 ? ` (this run: ${objects.length})` : ''}`);
  if (reportPath !== null) lines.push(`report: ${reportPath}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
