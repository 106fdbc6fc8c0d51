import { SpotdiffError } from '../util/errors.js';
import { Random } from '../util/random.js';
import type { Sample } from './datasets/sample.js';

/**
 * The 2cls_fewshot protocol's sampling: each run draws k normal and k anomalous images per object
 * from the train split; results are averaged over the runs (5 in the paper). Runs are seeded
 * independently (seed, object, run), and the candidates are sorted by path first, so the draw does
 * not depend on the order samples were listed in.
 */

export interface KShotRun {
  run: number;
  normal: Sample[];
  anomaly: Sample[];
}

export interface KShotOptions {
  k: number;
  /** Number of runs (default 5, as in the paper). */
  runs?: number;
  seed?: number;
  /** Draw k anomalous images too (default true). False: normal images only, for methods that train on normals alone (anomaly lists stay empty, and an object needs no anomalous train images). */
  anomalous?: boolean;
}

export function sampleKShot(samples: readonly Sample[], options: KShotOptions): KShotRun[] {
  const { k } = options;
  const runs = options.runs ?? 5;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(k) || k < 1) throw new SpotdiffError('ERR_BAD_INPUT', `k must be a positive integer, got ${k}`);
  if (!Number.isInteger(runs) || runs < 1) throw new SpotdiffError('ERR_BAD_INPUT', `runs must be a positive integer, got ${runs}`);
  const train = samples.filter((s) => s.split === 'train');
  if (train.length === 0) {
    throw new SpotdiffError('ERR_BAD_INPUT', 'k-shot sampling needs samples with split "train" (read the dataset with a 2cls_fewshot split)');
  }
  const objects = [...new Set(train.map((s) => s.object))].sort();
  const pools = objects.map((object) => {
    const mine = train.filter((s) => s.object === object).sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0));
    const normal = mine.filter((s) => s.label === 'normal');
    const anomaly = mine.filter((s) => s.label === 'anomaly');
    const required = options.anomalous === false ? ([['normal', normal]] as const) : ([['normal', normal], ['anomalous', anomaly]] as const);
    for (const [name, pool] of required) {
      if (pool.length < k) {
        throw new SpotdiffError('ERR_BAD_INPUT', `k-shot with k=${k}: object ${object} has only ${pool.length} ${name} train image(s)`);
      }
    }
    return { object, normal, anomaly };
  });
  return Array.from({ length: runs }, (_, run) => {
    const normal: Sample[] = [];
    const anomaly: Sample[] = [];
    for (const p of pools) {
      const rng = Random.derive(seed, 'kshot', p.object, run);
      normal.push(...rng.shuffled(p.normal).slice(0, k));
      if (options.anomalous !== false) anomaly.push(...rng.shuffled(p.anomaly).slice(0, k));
    }
    return { run, normal, anomaly };
  });
}
