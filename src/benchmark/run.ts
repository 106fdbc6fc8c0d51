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
import { appendResult, foldRankRecords, rankRecordFiles, rankRecordPath, readRecordWithRanks, removeRankRecords, RESULTS_RECORD_VERSION, startResultsRecord } from './results-record.js';
import { allGatherObjects } from '../distributed/objects.js';
import { shareUnits } from '../distributed/work-queue.js';
import type { ProcessGroup } from '../distributed/process-group.js';
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
  /**
   * The processes to share the fits with (every rank calls runBenchmark with the same options):
   * each fit runs on the first rank free to take it (shareUnits); rank 0 checks the models
   * folder, opens the record and gets the outcome, the others get null.
   */
  group?: ProcessGroup | null;
}

export interface BenchmarkOutcome {
  /** Per row name: its per-object records and table. */
  records: Record<string, MetricRecord[]>;
  tables: Record<string, MetricTable>;
  /** The first row's run-0 results of the protocol's last method, per object, when kept. */
  kept: { manifests: ModelManifest[]; results: EvalResult[] };
}

type Kept = Map<number, { manifest: ModelManifest; result: EvalResult }>;

export async function runBenchmark(o: BenchmarkRunOptions): Promise<BenchmarkOutcome | null> {
  const plan = benchmarkPlan(o);
  const group = o.group ?? null;
  const rank = group?.rank ?? 0;
  const workOf = (fit: PlannedFit): string | null => (methodInfo(fit.job.method).kind === 'two-class' ? o.workFolders.folderOf(fit.out) : null);
  const recordPath = benchmarkResultsPath(o.modelsRoot, o.protocol.name);
  // Rank 0 alone reads and writes the tree before any fit starts; the others wait for its steps.
  const opened = rank === 0 ? await openBenchmark(plan, o, recordPath, workOf) : null;
  const steps = group === null ? opened! : allGatherObjects(group, opened)[0]!;
  const lastMethod = plan.at(-1)?.job.method;
  const isKept = (fit: PlannedFit): boolean => o.keepFirstRow === true && fit.init === o.inits[0] && fit.run === 0 && fit.job.method === lastMethod;
  // A kept result needs its scored maps, which the record does not hold: evaluate it again.
  const stepOf = (i: number): ResumeStep => (steps[i]!.kind === 'recorded' && isKept(plan[i]!) ? { kind: 'evaluate' } : steps[i]!);
  const kept: Kept = new Map();
  const unit = async (i: number): Promise<Record<string, number>> => {
    const fit = plan[i]!;
    const step = stepOf(i);
    o.progress?.(progressLine(fit, i, plan.length, o.runs, step));
    if (step.kind === 'recorded') return step.line.metrics;
    const { manifest, result } = step.kind === 'fit' ? await fitOne(fit, o, workOf(fit)) : await evaluateSaved(fit, o, workOf(fit));
    const metrics = jobMetrics(fit, result);
    await appendResult(rankRecordPath(recordPath, rank), { version: RESULTS_RECORD_VERSION, ...lineKey(fit), model: relative(dirname(recordPath), fit.out), modelJsonSha256: await sha256File(join(fit.out, MODEL_JSON)), metrics });
    if (rank === 0 && isKept(fit)) kept.set(i, { manifest, result });
    else result.scored.maps.length = 0;
    return metrics;
  };
  const all = plan.map((_, i) => i);
  const metrics = group === null ? await shareUnits(null, all, unit) : await shareAcrossRanks(group, all, stepOf, unit);
  if (rank !== 0) return null;
  if (group !== null) await foldRankRecords(recordPath);
  const records: Record<string, MetricRecord[]> = Object.fromEntries(o.inits.map((i) => [i.name, []]));
  for (const [i, fit] of plan.entries()) Object.assign(recordOf(records[fit.init.name]!, fit).metrics, metrics.get(i)!);
  const tables = Object.fromEntries(Object.entries(records).map(([name, list]) => [name, buildTable(list, { meanRow: true })]));
  return { records, tables, kept: await keptResults(plan, o, isKept, kept, workOf) };
}

/** Rank 0 takes the recorded results (nothing to run), then every rank takes fits to run as it becomes free. */
async function shareAcrossRanks(group: ProcessGroup, all: readonly number[], stepOf: (i: number) => ResumeStep, unit: (i: number) => Promise<Record<string, number>>): Promise<Map<number, Record<string, number>>> {
  const recorded = all.filter((i) => stepOf(i).kind === 'recorded');
  const own = group.rank === 0 ? await shareUnits(null, recorded, unit) : new Map<number, Record<string, number>>();
  const ran = await shareUnits(group, all.filter((i) => stepOf(i).kind !== 'recorded'), unit);
  return new Map([...own, ...ran]);
}

/** The kept results in plan order; one another rank ran is evaluated again here (its maps stayed there). */
async function keptResults(plan: readonly PlannedFit[], o: BenchmarkRunOptions, isKept: (fit: PlannedFit) => boolean, kept: Kept, workOf: (fit: PlannedFit) => string | null): Promise<BenchmarkOutcome['kept']> {
  const out: BenchmarkOutcome['kept'] = { manifests: [], results: [] };
  for (const [i, fit] of plan.entries()) {
    if (!isKept(fit)) continue;
    const k = kept.get(i) ?? (await evaluateSaved(fit, o, workOf(fit)));
    out.manifests.push(k.manifest);
    out.results.push(k.result);
  }
  return out;
}

/** Checks the models tree (the rank files of an interrupted multi-process benchmark included), then opens the record. */
async function openBenchmark(plan: readonly PlannedFit[], o: BenchmarkRunOptions, recordPath: string, workOf: (fit: PlannedFit) => string | null): Promise<ResumeStep[]> {
  await checkTree(plan, o, recordPath, workOf);
  return openRecord(plan, o, recordPath, workOf);
}

async function checkTree(plan: readonly PlannedFit[], o: BenchmarkRunOptions, recordPath: string, workOf: (fit: PlannedFit) => string | null): Promise<void> {
  const works = plan.map(workOf).filter((w): w is string => w !== null);
  await checkModelsTree(o.modelsRoot, plan.map((f) => f.out), { files: [recordPath, ...(await rankRecordFiles(recordPath))], workFolders: works, resume: o.resume === true });
}

/** The check runBenchmark starts with, alone (reads only): for a launcher, before it starts the processes. */
export async function checkBenchmarkModels(o: BenchmarkRunOptions): Promise<void> {
  const workOf = (fit: PlannedFit): string | null => (methodInfo(fit.job.method).kind === 'two-class' ? o.workFolders.folderOf(fit.out) : null);
  await checkTree(benchmarkPlan(o), o, benchmarkResultsPath(o.modelsRoot, o.protocol.name), workOf);
}

/**
 * Without resume: a fresh record (an interrupted multi-process benchmark's rank files gone),
 * every fit fitted. With resume: the record and any rank files read back and folded into one,
 * and each fit's step decided.
 */
async function openRecord(plan: readonly PlannedFit[], o: BenchmarkRunOptions, path: string, workOf: (fit: PlannedFit) => string | null): Promise<ResumeStep[]> {
  if (o.resume !== true) {
    await startResultsRecord(path);
    await removeRankRecords(path);
    return plan.map(() => ({ kind: 'fit', checkpointStep: null }));
  }
  const recorded = await readRecordWithRanks(path, o.warn ?? (() => {}));
  await foldRankRecords(path);
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
  const r = await evaluateSavedModel(fit.out, { data: o.data, object: fit.object, device: o.device, quiet: o.quiet });
  if (work !== null) await o.workFolders.clear(work);
  return r;
}

/** A saved model folder evaluated on an object's test split, as fitAndEvaluate does after fitting (loaded back on the device, freed after). */
export async function evaluateSavedModel(folder: string, s: { data: string; object: string; device?: string; quiet?: boolean }): Promise<{ manifest: ModelManifest; result: EvalResult }> {
  const model = await loadModelFolder(folder, { device: T.resolveDevice(s.device ?? 'cpu') });
  try {
    return { manifest: model.manifest, result: await evaluateModel(model, s.data, { object: s.object, quiet: s.quiet }) };
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
