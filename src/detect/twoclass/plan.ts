import { SpotdiffError } from '../../util/errors.js';
import { Random } from '../../util/random.js';
import type { TwoClassTrainConfig } from './config.js';

/**
 * Which images each step takes, a pure function of (config, number of images), so a resumed
 * run takes exactly the batches the uninterrupted run took after its checkpoint.
 * - epochs: epoch e visits the images in the order Random.derive(seed, 'twoclass-order', e)
 *   shuffles them, in full batches (a last partial batch is dropped, as the pre-training loop
 *   does: BatchNorm sees full batches, and the next epoch's order differs);
 * - iterations: the images in shuffle after shuffle (shuffle c seeded by c), cut into batches
 *   that may span two shuffles, so every image is taken equally often.
 */
export interface StepPlan {
  totalSteps: number;
  /** Steps per epoch (epochs), or null (iterations). */
  stepsPerEpoch: number | null;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /** Sample indices of steps [start, end), batch after batch. */
  indices(start: number, end: number): number[];
  /** The 0-based pass over the images that step `step` (0-based) belongs to. */
  epochOf(step: number): number;
}

export function planSteps(cfg: TwoClassTrainConfig, images: number): StepPlan {
  const b = cfg.batchSize;
  if (images < b) {
    throw new SpotdiffError('ERR_BAD_INPUT', `batch size ${b} is larger than the ${images} training images; every step takes a full batch: lower the batch size`);
  }
  const orders = new Map<number, number[]>();
  const order = (pass: number): number[] => {
    let o = orders.get(pass);
    if (o === undefined) {
      o = Random.derive(cfg.seed, 'twoclass-order', pass).shuffle(Array.from({ length: images }, (_, i) => i));
      orders.set(pass, o);
    }
    return o;
  };
  if (cfg.length.unit === 'epochs') {
    const perEpoch = Math.floor(images / b);
    return {
      totalSteps: cfg.length.epochs * perEpoch,
      stepsPerEpoch: perEpoch,
      checkpointEvery: cfg.checkpointEvery.every * perEpoch,
      indices: (start, end) => range(start, end).flatMap((s) => order(Math.floor(s / perEpoch)).slice((s % perEpoch) * b, (s % perEpoch + 1) * b)),
      epochOf: (step) => Math.floor(step / perEpoch),
    };
  }
  return {
    totalSteps: cfg.length.iterations,
    stepsPerEpoch: null,
    checkpointEvery: cfg.checkpointEvery.every,
    indices: (start, end) => range(start * b, end * b).map((p) => order(Math.floor(p / images))[p % images] as number),
    epochOf: (step) => Math.floor((step * b) / images),
  };
}

function range(start: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
}
