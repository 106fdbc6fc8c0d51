import { SpotdiffError } from '../../util/errors.js';

/**
 * The paper reports 2-class results as the mean over runs (5 for few-shot: one k-shot draw
 * each). Run r uses seed r: few-shot, it trains on fewShotSamples(samples, { k, run: r }) with
 * config seed r; high-shot, the seed changes the new layers' initialisation, the image order
 * and the augmentations. The spread is the population standard deviation (ddof 0, numpy's
 * np.std default) unless asked otherwise; the paper does not say which it uses.
 */

export interface MetricSummary {
  mean: number;
  std: number;
  /** The values the summary is over, in run order. */
  values: number[];
}

export interface SummaryOptions {
  /** 0: population std (default, np.std); 1: sample std (np.std(ddof=1), pandas' default). */
  ddof?: 0 | 1;
}

/** Mean ± std of each named metric over runs; every run must report every metric as a finite number. */
export function summarizeRuns(runs: readonly Readonly<Record<string, number>>[], metrics: readonly string[], o: SummaryOptions = {}): Record<string, MetricSummary> {
  const ddof = o.ddof ?? 0;
  if (ddof !== 0 && ddof !== 1) throw new SpotdiffError('ERR_BAD_INPUT', `ddof must be 0 or 1, got ${ddof}`);
  if (runs.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no runs to summarise');
  if (runs.length <= ddof) throw new SpotdiffError('ERR_BAD_INPUT', `a sample std (ddof 1) needs at least 2 runs, got ${runs.length}`);
  const out: Record<string, MetricSummary> = {};
  for (const m of metrics) {
    const values = runs.map((r, i) => {
      const v = r[m];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new SpotdiffError('ERR_BAD_INPUT', `run ${i} has no finite value for metric "${m}" (got ${JSON.stringify(v)})`);
      return v;
    });
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
    out[m] = { mean, std: Math.sqrt(ss / (values.length - ddof)), values };
  }
  return out;
}

/** Runs runOne(0), ..., runOne(count − 1) one after another and summarises the given metrics. */
export async function runSeeds<R extends Readonly<Record<string, number>>>(
  count: number,
  runOne: (seed: number) => Promise<R>,
  metrics: readonly (keyof R & string)[],
  o: SummaryOptions = {},
): Promise<{ runs: R[]; summary: Record<string, MetricSummary> }> {
  if (!Number.isInteger(count) || count < 1) throw new SpotdiffError('ERR_BAD_INPUT', `the number of runs must be a positive integer, got ${count}`);
  const runs: R[] = [];
  for (let seed = 0; seed < count; seed++) runs.push(await runOne(seed));
  return { runs, summary: summarizeRuns(runs, metrics, o) };
}
