import { dirname, join, relative } from 'node:path';
import * as T from '../tensor/index.js';
import { buildTable, type MetricRecord, type MetricTable } from '../metrics/table.js';
import { fitAndEvaluate } from '../detect/run/fit-and-evaluate.js';
import { evaluateModel, metricValues, type EvalResult } from '../detect/run/evaluate.js';
import { disposeModel, loadModelFolder, MODEL_JSON, type ModelManifest } from '../detect/run/model-folder.js';
import { methodInfo } from '../detect/registry.js';
import { sha256File } from '../util/fs.js';
import { benchmarkResultsPath, checkModelsTree } from './models-tree.js';
import { benchmarkPlan, type BenchmarkSettings, type PlannedFit } from './plan.js';
import { appendResult, readResultsRecord, RESULTS_RECORD_VERSION, startResultsRecord } from './results-record.js';
import { lineKey, resumeSteps, type ResumeStep } from './resume.js';

/**
 * Runs a benchmark plan: every fit through fitAndEvaluate (fit, load back, evaluate on the
 * test split, free), each job's results filling its own columns of the (row, object, run)
 * record, then one per-object table per row (mean ± std over runs, mean row over objects).
 * Each evaluation's columns are appended to the protocol's results record as it ends, and each
 * two-class fit checkpoints into a work folder beside its model folder (cleared once the model
 * is saved), so an interrupted benchmark is resumed (resume.ts) without losing finished work.
 * Without resume the record starts afresh and every model is fitted again, replacing the
 * earlier benchmark's folder by folder.
 */

/** Where a two-class fit keeps its checkpoints, and how a finished fit's are cleared (spotdiff fit's rule for its default work folder). */
export interface WorkFolderRule {
  folderOf(modelFolder: string): string;
  clear(dir: string): Promise<void>;
}

export interface BenchmarkRunOptions extends BenchmarkSettings {
  data: string;
  backbone: string;
  size: number;
  /** Images per batch, training and scoring (default: fitModel's). */
  batchSize?: number;
  device?: string;
  quiet?: boolean;
  /** Keep the scored maps of the first row's run 0 (for an HTML report); other maps are dropped as they come. */
  keepFirstRow?: boolean;
  workFolders: WorkFolderRule;
  /** Continue an interrupted benchmark in the same models folder (see resume.ts). */
  resume?: boolean;
  /** One line per fit, before it starts. */
  progress?: (line: string) => void;
  /** Warnings (a torn results line). */
  warn?: (line: string) => void;
}

export interface BenchmarkOutcome {
  /** Per row name: its per-object records and table. */
  records: Record<string, MetricRecord[]>;
  tables: Record<string, MetricTable>;
  /** The first row's run-0 results of the protocol's last method, per object, when kept. */
  kept: { manifests: ModelManifest[]; results: EvalResult[] };
}

export async function runBenchmark(o: BenchmarkRunOptions): Promise<BenchmarkOutcome> {
  const plan = benchmarkPlan(o);
  const workOf = (fit: PlannedFit): string | null => (methodInfo(fit.job.method).kind === 'two-class' ? o.workFolders.folderOf(fit.out) : null);
  const recordPath = benchmarkResultsPath(o.modelsRoot, o.protocol.name);
  const works = plan.map(workOf).filter((w): w is string => w !== null);
  await checkModelsTree(o.modelsRoot, plan.map((f) => f.out), { files: [recordPath], workFolders: works, resume: o.resume === true });
  const steps = await openRecord(plan, o, recordPath, workOf);
  const records: Record<string, MetricRecord[]> = Object.fromEntries(o.inits.map((i) => [i.name, []]));
  const kept: BenchmarkOutcome['kept'] = { manifests: [], results: [] };
  const lastMethod = plan.at(-1)?.job.method;
  for (const [i, fit] of plan.entries()) {
    const keep = o.keepFirstRow === true && fit.init === o.inits[0] && fit.run === 0 && fit.job.method === lastMethod;
    // A kept result needs its scored maps, which the record does not hold: evaluate it again.
    const step: ResumeStep = steps[i]!.kind === 'recorded' && keep ? { kind: 'evaluate' } : steps[i]!;
    o.progress?.(progressLine(fit, i, plan.length, o.runs, step));
    if (step.kind === 'recorded') {
      Object.assign(recordOf(records[fit.init.name]!, fit).metrics, step.line.metrics);
      continue;
    }
    const { manifest, result } = step.kind === 'fit' ? await fitOne(fit, o, workOf(fit)) : await evaluateSaved(fit, o, workOf(fit));
    const metrics = jobMetrics(fit, result);
    await appendResult(recordPath, { version: RESULTS_RECORD_VERSION, ...lineKey(fit), model: relative(dirname(recordPath), fit.out), modelJsonSha256: await sha256File(join(fit.out, MODEL_JSON)), metrics });
    Object.assign(recordOf(records[fit.init.name]!, fit).metrics, metrics);
    if (keep) {
      kept.manifests.push(manifest);
      kept.results.push(result);
    } else result.scored.maps.length = 0;
  }
  const tables = Object.fromEntries(Object.entries(records).map(([name, list]) => [name, buildTable(list, { meanRow: true })]));
  return { records, tables, kept };
}

/** Without resume: a fresh record, every fit fitted. With resume: the record read back and each fit's step decided. */
async function openRecord(plan: readonly PlannedFit[], o: BenchmarkRunOptions, path: string, workOf: (fit: PlannedFit) => string | null): Promise<ResumeStep[]> {
  if (o.resume !== true) {
    await startResultsRecord(path);
    return plan.map(() => ({ kind: 'fit', checkpointStep: null }));
  }
  const recorded = await readResultsRecord(path, o.warn ?? (() => {}));
  const steps = await resumeSteps(plan, { data: o.data, backbone: o.backbone, size: o.size, batchSize: o.batchSize, recordDir: dirname(path), recorded, workOf });
  if (recorded.size === 0) await startResultsRecord(path);
  return steps;
}

async function fitOne(fit: PlannedFit, o: BenchmarkRunOptions, work: string | null): Promise<{ manifest: ModelManifest; result: EvalResult }> {
  const r = await fitAndEvaluate({
    method: fit.job.method,
    data: o.data,
    object: fit.object,
    backbone: o.backbone,
    weights: fit.init.weights ?? undefined,
    size: o.size,
    seed: fit.seed,
    out: fit.out,
    options: fit.options,
    work: work === null ? undefined : { dir: work, resume: o.resume === true },
    batchSize: o.batchSize,
    device: o.device,
    quiet: o.quiet,
  });
  if (work !== null) await o.workFolders.clear(work);
  return r;
}

/** Evaluates a saved model folder as fitAndEvaluate does after fitting (loaded back on the device); a finished fit's leftover work folder is cleared. */
async function evaluateSaved(fit: PlannedFit, o: BenchmarkRunOptions, work: string | null): Promise<{ manifest: ModelManifest; result: EvalResult }> {
  const model = await loadModelFolder(fit.out, { device: T.resolveDevice(o.device ?? 'cpu') });
  try {
    const result = await evaluateModel(model, o.data, { object: fit.object, quiet: o.quiet });
    if (work !== null) await o.workFolders.clear(work);
    return { manifest: model.manifest, result };
  } finally {
    disposeModel(model);
  }
}

function progressLine(fit: PlannedFit, index: number, total: number, runs: number, step: ResumeStep): string {
  const run = runs > 1 ? ` run ${fit.run + 1}/${runs}` : '';
  const how =
    step.kind === 'recorded' ? ' (recorded result)' : step.kind === 'evaluate' ? ' (saved model: evaluating)' : step.checkpointStep !== null ? ` (continuing from the checkpoint of step ${step.checkpointStep})` : '';
  return `benchmark [${index + 1}/${total}]: ${fit.init.name} ${fit.object}${run} ${fit.job.method}${how}`;
}

/** The record of the fit's (object, run) in its row's list, created on first use. */
function recordOf(list: MetricRecord[], fit: PlannedFit): MetricRecord {
  let r = list.find((x) => x.object === fit.object && x.run === fit.run);
  if (r === undefined) list.push((r = { object: fit.object, run: fit.run, metrics: {} }));
  return r;
}

/** The values of the columns this job fills (a metric the results lack stays absent). */
function jobMetrics(fit: PlannedFit, result: EvalResult): Record<string, number> {
  const all = metricValues(result);
  return Object.fromEntries(fit.job.metrics.filter((m) => all[m] !== undefined).map((m) => [m, all[m] as number]));
}
