import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { trainSamples } from '../data/datasets/object-splits.js';
import { MODEL_JSON, readManifest } from '../detect/run/model-folder.js';
import { readTwoClassCheckpointMeta, TWOCLASS_CHECKPOINT_FILE } from '../detect/twoclass/checkpoint.js';
import { SpotdiffError } from '../util/errors.js';
import { sha256File } from '../util/fs.js';
import { modelDifferences, type FitRequestFacts } from './model-match.js';
import type { PlannedFit } from './plan.js';
import { resultKey, type ResultLine } from './results-record.js';

/**
 * What a resumed benchmark does with each planned fit, decided for all of them before any work
 * starts (so a mismatch is reported at once, not hours in):
 * - its model folder is empty or missing: fit it, continuing from the checkpoint in its work
 *   folder when there is one;
 * - it holds a model: that model must be the one this fit would make (model-match.ts), or the
 *   benchmark stops naming the folder and every difference (nothing is refitted over it);
 *   then the results record's line for this fit is trusted when it names this model.json
 *   (its sha256), and the model is evaluated again otherwise.
 */

export type ResumeStep =
  | { kind: 'fit'; checkpointStep: number | null }
  | { kind: 'evaluate' }
  | { kind: 'recorded'; line: ResultLine };

export interface ResumeContext {
  data: string;
  backbone: string;
  size: number;
  batchSize?: number;
  /** Where the results record lies (line model paths are relative to its folder). */
  recordDir: string;
  recorded: ReadonlyMap<string, ResultLine>;
  /** Each fit's work folder, or null (one-class methods). */
  workOf: (fit: PlannedFit) => string | null;
}

export async function resumeSteps(plan: readonly PlannedFit[], c: ResumeContext): Promise<ResumeStep[]> {
  const facts = factsCache(c);
  const steps: ResumeStep[] = [];
  for (const fit of plan) {
    if (await isEmptyOrMissing(fit.out)) {
      steps.push({ kind: 'fit', checkpointStep: await checkpointStep(c.workOf(fit)) });
      continue;
    }
    const manifest = await readManifest(fit.out);
    const diff = modelDifferences(manifest, await facts(fit));
    if (diff.length > 0) {
      throw new SpotdiffError('ERR_USAGE', `cannot resume: ${fit.out} holds a model fitted by another request (${diff.join('; ')}); resume with the same settings, or benchmark into another models folder`);
    }
    const line = c.recorded.get(resultKey(lineKey(fit)));
    const trusted = line !== undefined && line.model === relative(c.recordDir, fit.out) && line.modelJsonSha256 === (await sha256File(join(fit.out, MODEL_JSON)));
    steps.push(trusted ? { kind: 'recorded', line } : { kind: 'evaluate' });
  }
  return steps;
}

/** The record key of a planned fit. */
export function lineKey(fit: PlannedFit): Pick<ResultLine, 'row' | 'object' | 'run' | 'method'> {
  return { row: fit.init.name, object: fit.object, run: fit.run, method: fit.job.method };
}

/** The request facts of each fit, hashing each weights file and reading each object's train split once. */
function factsCache(c: ResumeContext): (fit: PlannedFit) => Promise<FitRequestFacts> {
  const shas = new Map<string, Promise<string>>();
  const trains = new Map<string, Promise<{ dataset: string; trainImages: number }>>();
  return async (fit) => {
    const w = fit.init.weights;
    if (w !== null && !shas.has(w)) shas.set(w, sha256File(w));
    if (!trains.has(fit.object)) trains.set(fit.object, trainSamples(c.data, fit.object).then((t) => ({ dataset: t.dataset, trainImages: t.samples.length })));
    const train = await trains.get(fit.object)!;
    return {
      method: fit.job.method,
      backbone: c.backbone,
      weightsSha256: w === null ? null : await shas.get(w)!,
      seed: fit.seed,
      size: c.size,
      object: fit.object,
      ...train,
      options: fit.options,
      batchSize: c.batchSize,
    };
  };
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new SpotdiffError('ERR_IO', `cannot read ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/** The step an interrupted fit's checkpoint reached, or null when there is none. */
async function checkpointStep(work: string | null): Promise<number | null> {
  if (work === null) return null;
  return (await readTwoClassCheckpointMeta(join(work, TWOCLASS_CHECKPOINT_FILE)))?.step ?? null;
}
