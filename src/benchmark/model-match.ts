import type { ModelManifest } from '../detect/run/model-folder.js';
import { resolveTwoClassTrainConfig, type TwoClassTrainConfig } from '../detect/twoclass/config.js';
import type { TwoClassDetectorConfig } from '../detect/twoclass/detector-config.js';
import type { TwoClassTask } from '../detect/twoclass/loss.js';
import { readTwoClassRunOptions } from '../detect/twoclass/method-options.js';
import { methodInfo } from '../detect/registry.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * Whether a saved model folder is the model a benchmark fit would make, so a resumed benchmark
 * evaluates it instead of fitting again. The fields compared, request against model.json:
 * - method (`method`), backbone (`backbone.arch`);
 * - init weights: the weights file's sha256 (`backbone.weightsSha256`, null for a random init);
 * - seed (`training.seed`; a random init is drawn from it);
 * - size (`preprocess.resize` = [size, size], `tiling` null);
 * - object (`training.object`), data (`training.dataset`, the layout and root the train split
 *   is read from, and `training.fitImages + validationImages`, its number of train images);
 * - two-class methods, the options: `detector.train` protocol, length (epochs or iterations,
 *   the protocol's default when not overridden), lr and batch size, and `detector.fewShot`
 *   shots and run (the k-shot draw). The 1cls protocol gives one-class methods no options.
 * The device is not compared: a model folder does not depend on it.
 */

export interface FitRequestFacts {
  method: string;
  backbone: string;
  /** sha256 of the init weights file; null for a random init. */
  weightsSha256: string | null;
  seed: number;
  size: number;
  object: string;
  /** What trainSamples reports of the data: "<layout> <root>" and its train images. */
  dataset: string;
  trainImages: number;
  options: Readonly<Record<string, unknown>>;
  /** Images per batch (the two-class methods train with it; default 8). */
  batchSize?: number;
}

/** Each field in which the model differs from the request, as "field: X in model.json, Y requested"; empty when it is the same fit. */
export function modelDifferences(m: ModelManifest, r: FitRequestFacts): string[] {
  const pairs: [string, unknown, unknown][] = [
    ['method', m.method, r.method],
    ['backbone', m.backbone?.arch, r.backbone],
    ['init weights sha256', m.backbone?.weightsSha256 ?? null, r.weightsSha256],
    ['seed', m.training?.seed, r.seed],
    ['size', m.preprocess?.resize, [r.size, r.size]],
    ['tiling', m.tiling ?? null, null],
    ['object', m.training?.object, r.object],
    ['data', m.training?.dataset, r.dataset],
    ['train images', (m.training?.fitImages ?? 0) + (m.training?.validationImages ?? 0), r.trainImages],
  ];
  if (m.method === r.method) pairs.push(...optionPairs(m, r));
  return pairs.filter(([, saved, now]) => JSON.stringify(saved) !== JSON.stringify(now)).map(([k, saved, now]) => `${k}: ${JSON.stringify(saved)} in model.json, ${JSON.stringify(now)} requested`);
}

/** The method options' fields, recorded against requested. */
function optionPairs(m: ModelManifest, r: FitRequestFacts): [string, unknown, unknown][] {
  if (methodInfo(r.method).kind !== 'two-class') {
    if (Object.keys(r.options).length > 0) throw new SpotdiffError('ERR_BAD_INPUT', `cannot compare the options ${JSON.stringify(r.options)} of ${r.method} with a saved model`);
    return [];
  }
  const saved = m.detector as TwoClassDetectorConfig;
  const run = readTwoClassRunOptions(r.method, r.options);
  const now = resolveTwoClassTrainConfig({
    task: saved.train?.task ?? (r.method as TwoClassTask),
    protocol: run.protocol,
    imageSize: [r.size, r.size],
    epochs: run.epochs,
    iterations: run.iterations,
    lr: run.lr,
    batchSize: r.batchSize,
  });
  const keys: (keyof TwoClassTrainConfig)[] = ['protocol', 'length', 'lr', 'batchSize'];
  const fewShot = (f: { shots: number; run: number } | null | undefined): unknown => (f == null ? null : { shots: f.shots, run: f.run });
  return [...keys.map((k): [string, unknown, unknown] => [k, saved.train?.[k], now[k]]), ['few-shot draw', fewShot(saved.fewShot), fewShot(run.fewShot)]];
}
