import { buildTable, type MetricRecord, type MetricTable } from '../metrics/table.js';
import { fitAndEvaluate } from '../detect/run/fit-and-evaluate.js';
import { metricValues, type EvalResult } from '../detect/run/evaluate.js';
import type { ModelManifest } from '../detect/run/model-folder.js';
import { checkModelsTree } from './models-tree.js';
import { benchmarkPlan, type BenchmarkSettings, type PlannedFit } from './plan.js';

/**
 * Runs a benchmark plan: every fit through fitAndEvaluate (fit, load back, evaluate on the
 * test split, free), each job's results filling its own columns of the (row, object, run)
 * record, then one per-object table per row (mean ± std over runs, mean row over objects).
 */

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
  /** One line per fit, before it starts. */
  progress?: (line: string) => void;
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
  await checkModelsTree(o.modelsRoot, plan.map((f) => f.out));
  const records: Record<string, MetricRecord[]> = Object.fromEntries(o.inits.map((i) => [i.name, []]));
  const kept: BenchmarkOutcome['kept'] = { manifests: [], results: [] };
  const lastMethod = plan.at(-1)?.job.method;
  for (const [i, fit] of plan.entries()) {
    o.progress?.(progressLine(fit, i, plan.length, o.runs));
    const { manifest, result } = await fitAndEvaluate({
      method: fit.job.method,
      data: o.data,
      object: fit.object,
      backbone: o.backbone,
      weights: fit.init.weights ?? undefined,
      size: o.size,
      seed: fit.seed,
      out: fit.out,
      options: fit.options,
      batchSize: o.batchSize,
      device: o.device,
      quiet: o.quiet,
    });
    Object.assign(recordOf(records[fit.init.name]!, fit).metrics, jobMetrics(fit, result));
    if (o.keepFirstRow === true && fit.init === o.inits[0] && fit.run === 0 && fit.job.method === lastMethod) {
      kept.manifests.push(manifest);
      kept.results.push(result);
    } else result.scored.maps.length = 0;
  }
  const tables = Object.fromEntries(Object.entries(records).map(([name, list]) => [name, buildTable(list, { meanRow: true })]));
  return { records, tables, kept };
}

function progressLine(fit: PlannedFit, index: number, total: number, runs: number): string {
  const run = runs > 1 ? ` run ${fit.run + 1}/${runs}` : '';
  return `benchmark [${index + 1}/${total}]: ${fit.init.name} ${fit.object}${run} ${fit.job.method}`;
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
