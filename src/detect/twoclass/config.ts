import { SpotdiffError } from '../../util/errors.js';
import { checkInterval, checkRange } from '../../augment/check.js';
import { checkJitterStrength, type ColorJitterStrength } from '../../augment/color-jitter.js';
import { checkPositiveInt } from '../common/config.js';
import { checkTwoClassLoss, defaultLoss, type TwoClassLoss, type TwoClassTask } from './loss.js';

/**
 * Everything that decides a 2-class training run's numbers (the classifier's and the
 * segmenter's). A checkpoint records it and a run resumes only with the same one.
 *
 * Defaults and where they come from (Zou et al., ECCV 2022, "SPot-the-Difference", Sec. 4.2
 * and the supplementary; the official repository amazon-science/spot-diff publishes the data
 * preparation only, no training code):
 * - high-shot: 80 epochs, SGD momentum 0.9, the whole network learns, fixed lr 1e-4 (paper);
 * - few-shot: k ∈ {5, 10} per class from the train split, 1,000 iterations (classifier) or
 *   500 (segmenter), lr 1e-4 (paper);
 * - weight decay 0: the paper names none;
 * - batch size 8: the paper and code give none; issue 12's choice, small enough for k = 5;
 * - loss: segmenter sigmoid focal α 0.25, γ 2 (torchvision's defaults; issue 12), classifier
 *   cross-entropy (issue 12; focal is the alternative);
 * - augmentation (issue 12, not published): horizontal and vertical flips p 0.5, a random
 *   resized crop of 80–100 % of the area at aspect 3/4–4/3 (torchvision's ratio), colour
 *   jitter on the image only with SPD's weak strengths (augment/global.ts WEAK_AUGMENT:
 *   0.1/0.1/0.1/0.05, p 0.8);
 * - checkpoints: every epoch (high-shot), every 100 iterations (few-shot) (issue 12).
 */

export const TWOCLASS_TRAIN_FORMAT = 'spotdiff.twoclass-train';
export const TWOCLASS_TRAIN_VERSION = 1;

export type TwoClassProtocol = 'high-shot' | 'few-shot';

/** How long the run is: whole passes over the shuffled images, or a number of steps cycling through seeded shuffles. */
export type TrainLength = { unit: 'epochs'; epochs: number } | { unit: 'iterations'; iterations: number };

export interface PairedAugmentConfig {
  hflipP: number;
  vflipP: number;
  /** Crop area as a fraction of the image. */
  cropScale: [number, number];
  /** Crop aspect ratio width/height. */
  cropRatio: [number, number];
  /** Colour jitter on the image only, with probability jitterP per image. */
  jitter: ColorJitterStrength;
  jitterP: number;
}

export interface TwoClassTrainConfig {
  format: typeof TWOCLASS_TRAIN_FORMAT;
  version: typeof TWOCLASS_TRAIN_VERSION;
  task: TwoClassTask;
  protocol: TwoClassProtocol;
  length: TrainLength;
  /** Steps between checkpoints (high-shot: one epoch's steps, filled in by the plan; few-shot 100). */
  checkpointEvery: { unit: 'epochs' | 'iterations'; every: number };
  lr: number;
  momentum: number;
  weightDecay: number;
  batchSize: number;
  loss: TwoClassLoss;
  augment: PairedAugmentConfig | null;
  /** Images (and masks) are resized to this [height, width] before augmentation. */
  imageSize: [number, number];
  /** Seeds the new layers' initialisation, the order of the images and every augmentation. */
  seed: number;
}

export interface TwoClassTrainOptions {
  task: TwoClassTask;
  protocol: TwoClassProtocol;
  imageSize: readonly [number, number];
  /** Overrides the protocol's length (epochs for high-shot, iterations for few-shot). */
  epochs?: number;
  iterations?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  batchSize?: number;
  loss?: TwoClassLoss;
  /** null: no augmentation. */
  augment?: Partial<PairedAugmentConfig> | null;
  /** Checkpoint every this many epochs (high-shot) or iterations (few-shot). */
  checkpointEvery?: number;
  seed?: number;
}

export const DEFAULT_AUGMENT: Readonly<PairedAugmentConfig> = Object.freeze({
  hflipP: 0.5,
  vflipP: 0.5,
  cropScale: [0.8, 1] as [number, number],
  cropRatio: [3 / 4, 4 / 3] as [number, number],
  jitter: Object.freeze({ brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.05 }),
  jitterP: 0.8,
});

/** The paper's length per protocol and task. */
export function defaultLength(protocol: TwoClassProtocol, task: TwoClassTask): TrainLength {
  if (protocol === 'high-shot') return { unit: 'epochs', epochs: 80 };
  return { unit: 'iterations', iterations: task === 'classifier' ? 1000 : 500 };
}

function resolveLength(o: TwoClassTrainOptions): TrainLength {
  const base = defaultLength(o.protocol, o.task);
  if (base.unit === 'epochs') {
    if (o.iterations !== undefined) throw new SpotdiffError('ERR_BAD_INPUT', 'a high-shot run is measured in epochs; iterations apply to few-shot runs');
    return { unit: 'epochs', epochs: o.epochs ?? base.epochs };
  }
  if (o.epochs !== undefined) throw new SpotdiffError('ERR_BAD_INPUT', 'a few-shot run is measured in iterations; epochs apply to high-shot runs');
  return { unit: 'iterations', iterations: o.iterations ?? base.iterations };
}

export function resolveTwoClassTrainConfig(o: TwoClassTrainOptions): TwoClassTrainConfig {
  if (o.protocol !== 'high-shot' && o.protocol !== 'few-shot') throw new SpotdiffError('ERR_BAD_INPUT', `protocol must be 'high-shot' or 'few-shot', got ${JSON.stringify(o.protocol)}`);
  const length = resolveLength(o);
  const cfg: TwoClassTrainConfig = {
    format: TWOCLASS_TRAIN_FORMAT,
    version: TWOCLASS_TRAIN_VERSION,
    task: o.task,
    protocol: o.protocol,
    length,
    checkpointEvery: { unit: length.unit, every: o.checkpointEvery ?? (length.unit === 'epochs' ? 1 : 100) },
    lr: o.lr ?? 1e-4,
    momentum: o.momentum ?? 0.9,
    weightDecay: o.weightDecay ?? 0,
    batchSize: o.batchSize ?? 8,
    loss: o.loss ?? defaultLoss(o.task),
    augment: o.augment === null ? null : { ...DEFAULT_AUGMENT, jitter: { ...DEFAULT_AUGMENT.jitter }, ...o.augment },
    imageSize: [...o.imageSize] as [number, number],
    seed: o.seed ?? 0,
  };
  checkTwoClassTrainConfig(cfg);
  return cfg;
}

export function checkTwoClassTrainConfig(cfg: TwoClassTrainConfig): void {
  if (cfg?.format !== TWOCLASS_TRAIN_FORMAT || cfg.version !== TWOCLASS_TRAIN_VERSION) {
    throw new SpotdiffError('ERR_VERSION', `not a 2-class training config of version ${TWOCLASS_TRAIN_VERSION} (format ${JSON.stringify(cfg?.format)}, version ${JSON.stringify(cfg?.version)})`);
  }
  if (cfg.task !== 'classifier' && cfg.task !== 'segmenter') throw new SpotdiffError('ERR_BAD_INPUT', `task must be 'classifier' or 'segmenter', got ${JSON.stringify(cfg.task)}`);
  const n = cfg.length.unit === 'epochs' ? cfg.length.epochs : cfg.length.iterations;
  checkPositiveInt(cfg.length.unit, n);
  if (cfg.checkpointEvery.unit !== cfg.length.unit) throw new SpotdiffError('ERR_BAD_INPUT', `checkpointEvery must count ${cfg.length.unit}`);
  checkPositiveInt('checkpointEvery', cfg.checkpointEvery.every);
  if (!(cfg.lr > 0) || !Number.isFinite(cfg.lr)) throw new SpotdiffError('ERR_BAD_INPUT', `lr must be a finite number > 0, got ${cfg.lr}`);
  if (!(cfg.momentum >= 0 && cfg.momentum < 1)) throw new SpotdiffError('ERR_BAD_INPUT', `momentum must be in [0, 1), got ${cfg.momentum}`);
  if (!(cfg.weightDecay >= 0) || !Number.isFinite(cfg.weightDecay)) throw new SpotdiffError('ERR_BAD_INPUT', `weightDecay must be a finite number ≥ 0, got ${cfg.weightDecay}`);
  checkPositiveInt('batchSize', cfg.batchSize);
  if (!Array.isArray(cfg.imageSize) || cfg.imageSize.length !== 2) throw new SpotdiffError('ERR_BAD_INPUT', `imageSize must be [height, width], got ${JSON.stringify(cfg.imageSize)}`);
  cfg.imageSize.forEach((v, i) => checkPositiveInt(`imageSize[${i}]`, v));
  if (!Number.isSafeInteger(cfg.seed) || cfg.seed < 0) throw new SpotdiffError('ERR_BAD_INPUT', `seed must be an integer ≥ 0, got ${cfg.seed}`);
  checkTwoClassLoss(cfg.task, cfg.loss);
  if (cfg.augment !== null) checkAugment(cfg.augment);
}

function checkAugment(a: PairedAugmentConfig): void {
  const fn = 'augment';
  for (const k of ['hflipP', 'vflipP', 'jitterP'] as const) checkRange(fn, k, a[k], 0, 1);
  checkInterval(fn, 'cropScale', a.cropScale, 0, 1);
  if (a.cropScale[1] <= 0) throw new SpotdiffError('ERR_BAD_INPUT', `${fn}: cropScale must allow a positive area`);
  checkInterval(fn, 'cropRatio', a.cropRatio, 1e-6, 1e6);
  checkJitterStrength(fn, a.jitter);
}
