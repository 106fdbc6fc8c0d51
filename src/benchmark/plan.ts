import { SpotdiffError } from '../util/errors.js';
import type { BenchmarkInit } from './inits.js';
import { benchmarkModelPath } from './models-tree.js';
import { runFitOptions, type BenchmarkProtocol, type ProtocolJob } from './protocol.js';

/**
 * Every fit of a benchmark, in the order they run: per row (initialisation), per object, per
 * run, each of the protocol's methods. Run r is seeded with seed + r (and, with draws, trains
 * on draw r). Engine-free, so the plan is tested without fitting anything.
 */

export interface BenchmarkSettings {
  protocol: BenchmarkProtocol;
  /** The 1-class method (1cls only). */
  method?: string;
  objects: readonly string[];
  inits: readonly BenchmarkInit[];
  runs: number;
  seed: number;
  modelsRoot: string;
  /** Method options every fit gets besides the protocol's (e.g. a shorter training). */
  overrides?: Readonly<Record<string, unknown>>;
}

export interface PlannedFit {
  init: BenchmarkInit;
  object: string;
  run: number;
  job: ProtocolJob;
  seed: number;
  options: Record<string, unknown>;
  out: string;
}

export function benchmarkPlan(s: BenchmarkSettings): PlannedFit[] {
  if (!Number.isInteger(s.runs) || s.runs < 1) throw new SpotdiffError('ERR_BAD_INPUT', `the number of runs must be a positive integer, got ${s.runs}`);
  if (s.objects.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no object to benchmark');
  const jobs = s.protocol.jobs(s.method);
  const perRunFolders = s.runs > 1 || s.protocol.draws;
  const fits: PlannedFit[] = [];
  for (const init of s.inits) {
    for (const object of s.objects) {
      for (let run = 0; run < s.runs; run++) {
        const options = runFitOptions(s.protocol, run, s.overrides);
        for (const job of jobs) {
          const out = benchmarkModelPath(s.modelsRoot, {
            protocol: s.protocol.name,
            row: init.name,
            object,
            ...(jobs.length > 1 ? { method: job.method } : {}),
            ...(perRunFolders ? { run } : {}),
          });
          fits.push({ init, object, run, job, seed: s.seed + run, options, out });
        }
      }
    }
  }
  return fits;
}
